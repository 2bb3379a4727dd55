// The shape of a plain per-format reference (test/reference/formats/<format>.ts): written as ggml's C reads
// (quantize_row_<fmt>_ref, dequantize_row_<fmt>), element order and f32 arithmetic (Math.fround after every
// operation), slow and obvious. Suites loop over the registry and find each format's reference in
// test/reference/formats/index.ts (a format without one fails to compile).
// Keys: n values, a whole number of blocks; E elements per block.

export interface FormatReference {
  /** n f32 values (whole blocks) -> the packed bytes, byte-identical to ggml's reference quantizer. */
  quantize(values: Float32Array): Uint8Array;
  /** packed bytes of whole blocks -> their values, bit-identical to ggml's dequantization. */
  dequantize(bytes: Uint8Array): Float32Array;
  /**
   * Fast-mode formats (the registry's `fast` traits): the E element codes of one block, such that element e
   * is d * (mult * (2 code - (2^planes - 1)) + k), bit p of the code being plane p's sign (1: +). The fast
   * reference (test/reference/fast.ts) builds its tables from these and the registry's traits, nothing else.
   */
  codes?(block: Uint8Array): Uint8Array;
  /**
   * Where the format has a simple one: a bound on |dequantize(quantize(x)) - x| for every element of one block
   * of finite values inside the format's range (the round-trip error the format promises).
   */
  maxError?(block: Float32Array): number;
}

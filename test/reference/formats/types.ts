// The shape of a plain per-format reference (test/reference/formats/<format>.ts): written as ggml's C reads
// (quantize_row_<fmt>_ref, dequantize_row_<fmt>), element order and f32 arithmetic (Math.fround after every
// operation), slow and obvious. Suites loop over the registry and find each format's reference here.
// Keys: n values, a whole number of blocks.

export interface FormatReference {
  /** n f32 values (whole blocks) -> the packed bytes, byte-identical to ggml's reference quantizer. */
  quantize(values: Float32Array): Uint8Array;
  /** packed bytes of whole blocks -> their values, bit-identical to ggml's dequantization. */
  dequantize(bytes: Uint8Array): Float32Array;
}

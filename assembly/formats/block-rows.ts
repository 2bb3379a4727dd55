// The row walker of the block formats' decoders: rows of ids -> f32, block by block, the row's padded tail
// block (dim not a multiple of the block) decoded whole into scratch and only its first dim % E values
// copied out. Each format passes its block decoder as a type, B: a final class without fields whose @inline
// method decode(src, dst) writes one block's E values. AssemblyScript compiles one copy of the walker per B
// with decode inlined (a function-pointer argument was a call_indirect per block, measured 30% slower).
// Keys: N ids, D dim, E elements per block, BYTES bytes per block; rows are ceil(D / E) blocks.
import { blockScratch } from "../codes";

// @ts-ignore: decorator
@inline export function decodeRows<B>(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize, E: i32, BYTES: usize): void {
  const block = changetype<B>(0); // never dereferenced: decode reads no field
  const full = dim / E;
  const rest = dim % E;
  const blocks = rest > 0 ? full + 1 : full;
  let dst = out;
  for (let r = 0; r < n; r++) {
    let src = table + <usize>load<u32>(ids + (<usize>r << 2)) * rowBytes;
    // one call site of decode, so that its inlined body appears once per format: whole blocks straight to
    // dst, the padded tail block to scratch
    for (let b = 0; b < blocks; b++) {
      const whole = b < full;
      block.decode(src, whole ? dst : blockScratch());
      src += BYTES;
      if (whole) dst += <usize>E << 2;
    }
    if (rest > 0) {
      memory.copy(dst, blockScratch(), <usize>rest << 2);
      dst += <usize>rest << 2;
    }
  }
}

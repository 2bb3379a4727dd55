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
  let dst = out;
  for (let r = 0; r < n; r++) {
    let src = table + <usize>load<u32>(ids + (<usize>r << 2)) * rowBytes;
    for (let b = 0; b < full; b++) {
      block.decode(src, dst);
      src += BYTES;
      dst += <usize>E << 2;
    }
    // the padded tail block: a second inlined decode (one call site for both, the tail steered to scratch
    // inside the loop, measured 5% slower on q6_k; the wasm is 17 KB larger this way)
    if (rest > 0) {
      block.decode(src, blockScratch());
      copyTail(dst, rest);
      dst += <usize>rest << 2;
    }
  }
}

// The first n values of the block decoded into scratch, to dst: four at a time (memory.copy is a call into
// the engine, costly next to a short row: q8_0's rows of 100 took 24% longer with it).
function copyTail(dst: usize, n: i32): void {
  const tail = blockScratch();
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(dst + (<usize>j << 2), v128.load(tail + (<usize>j << 2)));
  for (; j < n; j++) store<f32>(dst + (<usize>j << 2), load<f32>(tail + (<usize>j << 2)));
}

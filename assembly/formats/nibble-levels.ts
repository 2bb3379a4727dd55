// What IQ4_NL and MXFP4 share: blocks of 32 four-bit indices into a table of 16 int8 levels, one scale per
// block; value = level * scale. Each format gives its block as a type B, a final class without fields with
// @inline scale(blk): f32 (IQ4_NL's f16 d, MXFP4's E8M0 2^(e - 128)) and levels(): v128 (the table as 16
// signed bytes), and says where the indices start (QS) and how long a block is (BYTES); AssemblyScript
// compiles one copy per B with both inlined.
// Keys: D dim (whole blocks for the dot), 32 elements per block; qs[j] holds element j in its low nibble and
// element j + 16 in its high nibble.
import { scaleCodes16 } from "../codes";
import { hsum } from "../madd";
import { lut16 } from "../fast/swizzle";
import { mulCodes16 } from "./q8_0";

// One block at blk -> 32 f32 at dst: level * scale, as ggml's dequantizers compute it.
// @ts-ignore: decorator
@inline export function decodeLevels<B>(blk: usize, dst: usize, QS: usize): void {
  const block = changetype<B>(0); // never dereferenced: its methods read no field
  const d = f32x4.splat(block.scale(blk));
  const qs = v128.load(blk + QS);
  scaleCodes16(dst, lut16(block.levels(), v128.and(qs, i8x16.splat(15))), d);
  scaleCodes16(dst + 64, lut16(block.levels(), i8x16.shr_u(qs, 4)), d);
}

// Exact dot of one row with dim f32 values at x, straight from the packed bytes: per block, scale *
// sum(level_j x_j). Used by the projection for small batches.
// @ts-ignore: decorator
@inline export function dotLevels<B>(row: usize, x: usize, dim: i32, QS: usize, BYTES: usize): f32 {
  const block = changetype<B>(0);
  const blocks = dim >> 5; // whole blocks: the caller guarantees it
  let acc = f32x4.splat(0);
  const kv = block.levels();
  for (let b = 0; b < blocks; b++) {
    const qs = v128.load(row + QS);
    const lo = mulCodes16(lut16(kv, v128.and(qs, i8x16.splat(15))), x);
    const hi = mulCodes16(lut16(kv, i8x16.shr_u(qs, 4)), x + 64);
    acc = f32x4.add(acc, f32x4.mul(f32x4.add(lo, hi), f32x4.splat(block.scale(row))));
    row += BYTES;
    x += 128;
  }
  return hsum(acc);
}

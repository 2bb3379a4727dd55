// Shared pieces of the 2-bit and ternary formats (q2_0, tq1_0, tq2_0): turning small codes into f32 through
// a 4-entry table with one swizzle, and the x86 C semantics ggml's reference quantizers rely on.
// Keys: a "code offset" is 4 * code, the byte offset of that code's f32 in a 16-byte table.

// One partially used block is decoded here, then only its first `dim % block` values are copied out.
// 256 f32 = the largest block (QK_K).
export const BLOCK_SCRATCH: usize = memory.data(1024, 16);

// 16 code offsets (bytes, 4 * code, in element order) -> 16 f32 at dst, lut[code] each.
// Each output vector takes 4 offsets, repeats each over 4 lanes and adds 0..3 to pick the f32's bytes.
// @ts-ignore: decorator
@inline export function expand16(off: v128, lut: v128, dst: usize): void {
  const lane = i8x16(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3);
  v128.store(dst, i8x16.swizzle(lut, v128.or(i8x16.shuffle(off, off, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), lane)));
  v128.store(dst, i8x16.swizzle(lut, v128.or(i8x16.shuffle(off, off, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7), lane)), 16);
  v128.store(dst, i8x16.swizzle(lut, v128.or(i8x16.shuffle(off, off, 8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11), lane)), 32);
  v128.store(dst, i8x16.swizzle(lut, v128.or(i8x16.shuffle(off, off, 12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15), lane)), 48);
}

// The table [(0 - 1) * d, (1 - 1) * d, (2 - 1) * d, (3 - 1) * d]: ggml's `(float)(q - 1) * d` for every code,
// so a swizzle from it is bit-identical to the multiplication (0 * inf included).
// @ts-ignore: decorator
@inline export function codeTable(d: f32): v128 {
  return f32x4.mul(f32x4(-1, 0, 1, 2), f32x4.splat(d));
}

// C's roundf: nearest, ties away from zero. x - trunc(x) is exact in f32, so no double rounding.
// @ts-ignore: decorator
@inline export function roundAway(x: f32): f32 {
  const t = trunc<f32>(x);
  return abs<f32>(x - t) >= <f32>0.5 ? t + copysign<f32>(1, x) : t;
}

// C's (int) of a float on x86 (cvttss2si): NaN and out-of-range values give INT_MIN.
// ggml's 1/d overflows to inf for a block of subnormals; this is what its quantizers then store.
// @ts-ignore: decorator
@inline export function toIntX86(x: f32): i32 {
  return x >= <f32>-2147483648.0 && x < <f32>2147483648.0 ? <i32>x : i32.MIN_VALUE;
}

// ggml's MAX(amax, fabsf(v)) over n values at src: `a > b ? a : b`, NaN handling included.
// @ts-ignore: decorator
@inline export function absMax(src: usize, n: i32): f32 {
  let amax: f32 = 0;
  for (let j = 0; j < n; j++) {
    const a = abs<f32>(load<f32>(src + (<usize>j << 2)));
    amax = amax > a ? amax : a;
  }
  return amax;
}

// ggml's `d ? 1.0f/d : 0.0f` (NaN is true in C).
// @ts-ignore: decorator
@inline export function inverse(d: f32): f32 {
  return d != 0 ? <f32>1.0 / d : 0;
}

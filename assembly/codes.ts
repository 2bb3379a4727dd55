// Shared pieces of the 2-bit and ternary formats (q2_0, tq1_0, tq2_0): turning small codes into f32 through
// a 4-entry table with one swizzle, and computing a block's codes the way ggml's reference quantizers do
// (f32 arithmetic, C roundf, x86 float-to-int) four lanes at a time.
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

// ---- SIMD quantizing: codes of a whole block into CODE_SCRATCH, then each format packs them.

// One code byte per element of the block being quantized (at most 256).
export const CODE_SCRATCH: usize = memory.data(256, 16);

// absMax over n values (a multiple of 4). With no NaN present ggml's sequential MAX is the plain maximum;
// a NaN makes the order matter, so such a block takes the scalar loop.
// @ts-ignore: decorator
@inline export function absMaxSimd(src: usize, n: i32): f32 {
  let m = f32x4.splat(0);
  let nan = i32x4.splat(0);
  for (let j = 0; j < n; j += 4) {
    const v = v128.load(src + (<usize>j << 2));
    m = f32x4.max(m, f32x4.abs(v));
    nan = v128.or(nan, f32x4.ne(v, v));
  }
  if (v128.any_true(nan)) return absMax(src, n);
  return max<f32>(max<f32>(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max<f32>(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
}

// Four (int)roundf(x * id) as x86 C computes them: f32 product, rounding half away from zero (x - trunc(x)
// is exact, so no double rounding). Where the rounded value is NaN or beyond the int range, x86's
// conversion gives INT_MIN (ggml's 1/d overflows to inf for a block of subnormals); such lanes become
// `bad`, which each format picks to land on the code C's INT_MIN lands on.
// @ts-ignore: decorator
@inline export function roundCodes4(x: v128, id: v128, bad: v128): v128 {
  const v = f32x4.mul(x, id);
  const t = f32x4.trunc(v);
  const away = f32x4.ge(f32x4.abs(f32x4.sub(v, t)), f32x4.splat(0.5));
  const signedOne = v128.or(v128.and(v, i32x4.splat(0x80000000)), f32x4.splat(1));
  const r = f32x4.add(t, v128.and(away, signedOne));
  const ok = f32x4.lt(f32x4.abs(r), f32x4.splat(2147483648.0));
  return v128.bitselect(i32x4.trunc_sat_f32x4_s(r), bad, ok);
}

// Codes of n values (a multiple of 16) into CODE_SCRATCH: clamp(round(x * id), lo, hi) + 1 per element,
// `bad` (see roundCodes4) standing for C's INT_MIN.
// @ts-ignore: decorator
@inline export function blockCodes(src: usize, n: i32, id: f32, bad: i32, lo: i32, hi: i32): void {
  const idv = f32x4.splat(id);
  const badv = i32x4.splat(bad);
  const lov = i32x4.splat(lo);
  const hiv = i32x4.splat(hi);
  const one = i32x4.splat(1);
  for (let j = 0; j < n; j += 16) {
    const x = src + (<usize>j << 2);
    const c0 = i32x4.add(i32x4.min_s(i32x4.max_s(roundCodes4(v128.load(x), idv, badv), lov), hiv), one);
    const c1 = i32x4.add(i32x4.min_s(i32x4.max_s(roundCodes4(v128.load(x, 16), idv, badv), lov), hiv), one);
    const c2 = i32x4.add(i32x4.min_s(i32x4.max_s(roundCodes4(v128.load(x, 32), idv, badv), lov), hiv), one);
    const c3 = i32x4.add(i32x4.min_s(i32x4.max_s(roundCodes4(v128.load(x, 48), idv, badv), lov), hiv), one);
    v128.store(CODE_SCRATCH + <usize>j, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3)));
  }
}

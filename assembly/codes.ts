// Shared pieces of the block formats: turning 16 signed codes into f32 (widen, convert, scale; every block
// decoder), and, for the 2-bit and ternary formats (q2_0, tq1_0, tq2_0), computing a block's codes the way ggml's reference quantizers do
// (f32 arithmetic, C roundf, x86 float-to-int).
import { BLOCK_AT, CODE_AT, SCRATCH } from "./scratch";
// Keys: a 2-bit/ternary code q is a byte 0..3 standing for (q - 1) * d.

// One partially used block is decoded here, then only its first `dim % block` values are copied out.
// 256 f32 = the largest block (QK_K); in this instance's scratch (scratch.ts).
// @ts-ignore: decorator
@inline export function blockScratch(): usize {
  return SCRATCH + BLOCK_AT;
}

// 16 signed codes (i8, in element order) -> 16 f32 at dst: (float)q * d, as ggml's dequantizers compute it
// (widen to i32, convert, one f32 multiply: bit-identical, 0 * inf included). d is splatted. Every block
// format's decoder ends here (q8_0, q4_0, q2_0, tq1_0, tq2_0).
// @ts-ignore: decorator
@inline export function scaleCodes16(dst: usize, q: v128, d: v128): void {
  const lo = i16x8.extend_low_i8x16_s(q);
  const hi = i16x8.extend_high_i8x16_s(q);
  v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), d));
  v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), d), 16);
  v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), d), 32);
  v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), d), 48);
}

// 16 codes (bytes 0..3, in element order) -> 16 f32 at dst: (q - 1) * d.
// @ts-ignore: decorator
@inline export function expand16(codes: v128, d: v128, dst: usize): void {
  scaleCodes16(dst, i8x16.sub(codes, i8x16.splat(1)), d);
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

// ---- Quantizing: a block's codes the way ggml's reference quantizers compute them.
// Scalar pieces (any input, used for blocks holding a NaN) and a SIMD path for NaN-free blocks.

// C's roundf: nearest, ties away from zero. x - trunc(x) is exact in f32, so no double rounding.
// @ts-ignore: decorator
@inline export function roundAway(x: f32): f32 {
  const t = trunc<f32>(x);
  return abs<f32>(x - t) >= <f32>0.5 ? t + copysign<f32>(1, x) : t;
}

// C's (int) of a float on x86 (cvttss2si): NaN and out-of-range values give INT_MIN.
// @ts-ignore: decorator
@inline export function toIntX86(x: f32): i32 {
  return x >= <f32>-2147483648.0 && x < <f32>2147483648.0 ? <i32>x : i32.MIN_VALUE;
}

// The low 32 bits of C's lroundf (TQ1_0/TQ2_0 use it) on x86-64: a 64-bit result, LONG_MIN (low bits 0)
// for NaN and |x| >= 2^63.
// @ts-ignore: decorator
@inline export function lroundLowX86(x: f32): i32 {
  const r = roundAway(x);
  return r >= <f32>-9223372036854775808.0 && r < <f32>9223372036854775808.0 ? <i32><i64>r : 0;
}

// Whether any of n values (a multiple of 4) is NaN. With a NaN, ggml's sequential MAX can end below some
// |x| (a NaN resets it), so codes beyond the usual range appear: such blocks take the scalar path.
// @ts-ignore: decorator
@inline export function hasNaN(src: usize, n: i32): bool {
  let nan = i32x4.splat(0);
  for (let j = 0; j < n; j += 4) {
    const v = v128.load(src + (<usize>j << 2));
    nan = v128.or(nan, f32x4.ne(v, v));
  }
  return v128.any_true(nan);
}

// absMax of n NaN-free values (a multiple of 4): then ggml's sequential MAX is the plain maximum.
// @ts-ignore: decorator
@inline export function absMaxNoNaN(src: usize, n: i32): f32 {
  let m = f32x4.splat(0);
  for (let j = 0; j < n; j += 4) m = f32x4.max(m, f32x4.abs(v128.load(src + (<usize>j << 2))));
  return max<f32>(max<f32>(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max<f32>(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
}

// One code byte per element of the block being quantized (at most 256), in this instance's scratch.
// @ts-ignore: decorator
@inline export function codeScratch(): usize {
  return SCRATCH + CODE_AT;
}

// Codes of n values (a multiple of 16) into CODE_SCRATCH: roundf(x * id) + 1, in f32 as C does.
// With d = max|x| over the block's non-NaN values and id = 1/d, every finite x * id lies in
// [-1 - 2^-23, 1 + 2^-23], so rounding is two compares. The product is non-finite only for a NaN x, when 1/d
// overflowed (a block of subnormals: x * inf) or d is inf (inf * 0); x86 C then converts INT_MIN (LONG_MIN
// for lroundf), and such lanes get `bad`, the value the format's INT_MIN lands on.
// @ts-ignore: decorator
@inline export function blockCodes(src: usize, n: i32, id: f32, bad: i32): void {
  const idv = f32x4.splat(id);
  const badv = i32x4.splat(bad + 1);
  const half = f32x4.splat(0.5);
  const nhalf = f32x4.splat(-0.5);
  const one = i32x4.splat(1);
  const big = f32x4.splat(2.0);
  for (let j = 0; j < n; j += 16) {
    const x = src + (<usize>j << 2);
    const v0 = f32x4.mul(v128.load(x), idv);
    const v1 = f32x4.mul(v128.load(x, 16), idv);
    const v2 = f32x4.mul(v128.load(x, 32), idv);
    const v3 = f32x4.mul(v128.load(x, 48), idv);
    // 1 + (v >= 0.5) - (v <= -0.5), with masks of -1: 1 - mask(>=) + mask(<=)
    const c0 = v128.bitselect(i32x4.add(i32x4.sub(one, f32x4.ge(v0, half)), f32x4.le(v0, nhalf)), badv, f32x4.lt(f32x4.abs(v0), big));
    const c1 = v128.bitselect(i32x4.add(i32x4.sub(one, f32x4.ge(v1, half)), f32x4.le(v1, nhalf)), badv, f32x4.lt(f32x4.abs(v1), big));
    const c2 = v128.bitselect(i32x4.add(i32x4.sub(one, f32x4.ge(v2, half)), f32x4.le(v2, nhalf)), badv, f32x4.lt(f32x4.abs(v2), big));
    const c3 = v128.bitselect(i32x4.add(i32x4.sub(one, f32x4.ge(v3, half)), f32x4.le(v3, nhalf)), badv, f32x4.lt(f32x4.abs(v3), big));
    v128.store(codeScratch() + <usize>j, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3)));
  }
}

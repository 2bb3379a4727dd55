// Shared pieces of the ternary formats (q2_0, tq1_0; Ternary Bonsai 2's pq2_0, ptq1_0), all pure functions of
// their arguments (no scratch): a block's codes as its reference quantizer computes them, the base-3 digit
// arithmetic of the packed bytes (TQ1_0's, which PTQ1_0 keeps at group 128), and the two-bit codes' unpacking.
// Keys: a code c is a byte 0..2 standing for (c - 1) * d; a trit byte b holds up to five base-3 digits.
// see: docs/FORMATS.md (TQ1_0 packing); docs/BONSAI2.md §2 (PQ2_0), §3 (PTQ1_0 packing), §6 (the x86 edge case).
import { expand16, lroundLowX86 } from "./codes";
import { mulCodes16 } from "./formats/q8_0";
import { BYTES_U32_0, BYTES_U32_1, BYTES_U32_2, BYTES_U32_3, BYTES_X4_0, CR_ONE, FIELDS_2BIT, FIELDS_SCALE, vconst, MASK_03 } from "./vconst";

// 16 codes (bytes, element order) of x[0..15] * id, as `roundf(x * id) + 1` in f32: with d = max|x| and
// id = 1/d, every finite product lies in [-1 - 2^-23, 1 + 2^-23], so rounding is two compares. A product that
// is not finite (id overflowed for a block of subnormals, inf * 0, NaN) gets `bad`, the code the C conversion
// of INT_MIN (PQ2_0) or LONG_MIN (PTQ1_0) lands on.
// @ts-ignore: decorator
@inline export function ternaryCodes16(x: usize, id: v128, bad: v128): v128 {
  const half = f32x4.splat(0.5);
  const nhalf = f32x4.splat(-0.5);
  const one = i32x4.splat(1);
  const two = f32x4.splat(2.0);
  const v0 = f32x4.mul(v128.load(x), id);
  const v1 = f32x4.mul(v128.load(x, 16), id);
  const v2 = f32x4.mul(v128.load(x, 32), id);
  const v3 = f32x4.mul(v128.load(x, 48), id);
  // 1 + (v >= 0.5) - (v <= -0.5), with masks of -1: 1 - mask(>=) + mask(<=); |v| < 2 is false for inf and NaN
  const c0 = v128.bitselect(i32x4.add(i32x4.sub(one, f32x4.ge(v0, half)), f32x4.le(v0, nhalf)), bad, f32x4.lt(f32x4.abs(v0), two));
  const c1 = v128.bitselect(i32x4.add(i32x4.sub(one, f32x4.ge(v1, half)), f32x4.le(v1, nhalf)), bad, f32x4.lt(f32x4.abs(v1), two));
  const c2 = v128.bitselect(i32x4.add(i32x4.sub(one, f32x4.ge(v2, half)), f32x4.le(v2, nhalf)), bad, f32x4.lt(f32x4.abs(v2), two));
  const c3 = v128.bitselect(i32x4.add(i32x4.sub(one, f32x4.ge(v3, half)), f32x4.le(v3, nhalf)), bad, f32x4.lt(f32x4.abs(v3), two));
  return i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3));
}

// The leading base-3 digit of 16 trit bytes p, ((p * 3) >> 8): 1 from p = 86 on, 2 from p = 171 on.
// @ts-ignore: decorator
@inline export function leadingDigit(p: v128): v128 {
  return i8x16.sub(i8x16.sub(i8x16.splat(0), i8x16.gt_u(p, i8x16.splat(85))), i8x16.gt_u(p, i8x16.splat(<i8>170)));
}

// p * 3 mod 256 in every byte: brings a trit byte's next digit to the front (and, on digit sums, is q * 3).
// @ts-ignore: decorator
@inline export function times3(p: v128): v128 {
  return i8x16.add(i8x16.add(p, p), p);
}

// ceil(v * 256 / 243) of 4 lanes v <= 242, the C expression `((uint16_t)q * 256 + (243 - 1)) / 243`:
// (256 v + 242) * 69043 >> 24 is that quotient for every v <= 242 (69043 = ceil(2^24 / 243); checked for all).
// @ts-ignore: decorator
@inline function ceilDiv243(v: v128): v128 {
  return i32x4.shr_u(i32x4.mul(i32x4.add(i32x4.shl(v, 8), i32x4.splat(242)), i32x4.splat(69043)), 24);
}

// The trit bytes of 16 digit sums v <= 242 (five digits, the first most significant): ceil(v * 256 / 243).
// @ts-ignore: decorator
@inline export function packTrits(v: v128): v128 {
  const lo = i16x8.extend_low_i8x16_u(v);
  const hi = i16x8.extend_high_i8x16_u(v);
  return i8x16.narrow_i16x8_u(
    i16x8.narrow_i32x4_u(ceilDiv243(i32x4.extend_low_i16x8_u(lo)), ceilDiv243(i32x4.extend_high_i16x8_u(lo))),
    i16x8.narrow_i32x4_u(ceilDiv243(i32x4.extend_low_i16x8_u(hi)), ceilDiv243(i32x4.extend_high_i16x8_u(hi))),
  );
}

// ---- two-bit codes (Q2_0, PQ2_0)

// What unpack64 does with each vector of 16 codes (a constant at every call site, so the branches fold away).
export const CODES: i32 = 0; // store the codes as bytes at dst
export const VALUES: i32 = 1; // store (q - 1) * d as f32 at dst
export const DOT: i32 = 2; // add sum (q - 1) * x to the returned lanes

// @ts-ignore: decorator
@inline function emit(q: v128, k: i32, d: v128, dst: usize, x: usize, mode: i32, acc: v128): v128 {
  if (mode == CODES) v128.store(dst + (<usize>k << 4), q);
  else if (mode == VALUES) expand16(q, d, dst + (<usize>k << 6));
  else acc = f32x4.add(acc, mulCodes16(i8x16.sub(q, i8x16.splat(1)), x + (<usize>k << 6)));
  return acc;
}

// mulCodes16 of (codes - 1) for elements 16k .. 16k + 15 (bytes 4k .. 4k + 3 of qs), for the relaxed build's
// dots, bit for bit, with no two-input shuffle (JavaScriptCore makes each one two pshufb and a por) and no
// extend (its extend_high reads the destination's old value): each byte four times (one swizzle), field k kept in
// place by a mask (4^k * field), then four bytes at a time widened to i32 lanes by a swizzle and converted;
// times 4^-k minus 1 is the code - 1 exactly, which mulCodes16's products and sums then meet in its order.
// @ts-ignore: decorator
@inline export function fieldsDot16(qs: v128, k: i32, x: usize): v128 {
  const t = v128.and(i8x16.relaxed_swizzle(qs, vconst(BYTES_X4_0 + (<usize>k << 4))), vconst(FIELDS_2BIT));
  const sc = vconst(FIELDS_SCALE);
  const one = vconst(CR_ONE);
  const a = f32x4.mul(f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(i8x16.relaxed_swizzle(t, vconst(BYTES_U32_0))), sc), one), v128.load(x));
  const b = f32x4.mul(f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(i8x16.relaxed_swizzle(t, vconst(BYTES_U32_1))), sc), one), v128.load(x, 16));
  const c = f32x4.mul(f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(i8x16.relaxed_swizzle(t, vconst(BYTES_U32_2))), sc), one), v128.load(x, 32));
  const d = f32x4.mul(f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(i8x16.relaxed_swizzle(t, vconst(BYTES_U32_3))), sc), one), v128.load(x, 48));
  return f32x4.add(f32x4.add(a, b), f32x4.add(c, d));
}

// The 64 two-bit codes held by 16 qs bytes (element 4b + l in bits 2l..2l+1 of byte b: Q2_0's block, PQ2_0's
// half block), in element order as four vectors of 16 (vector k = elements 16k .. 16k + 15), handed to emit.
// @ts-ignore: decorator
@inline export function unpack64(qs: v128, d: v128, dst: usize, x: usize, mode: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD && mode == DOT) {
    let acc = f32x4.splat(0);
    acc = f32x4.add(acc, fieldsDot16(qs, 0, x));
    acc = f32x4.add(acc, fieldsDot16(qs, 1, x + 64));
    acc = f32x4.add(acc, fieldsDot16(qs, 2, x + 128));
    return f32x4.add(acc, fieldsDot16(qs, 3, x + 192));
  }
  const three = vconst(MASK_03);
  // field l of byte b is element 4b + l; 16-bit shifts, then the mask (bits from the lane's other byte land
  // above bit 1): x86 has no byte shift, so V8 makes i8x16.shr_u a shift and a mask anyway, JavaScriptCore more
  const f0 = v128.and(qs, three);
  const f1 = v128.and(i16x8.shr_u(qs, 2), three);
  const f2 = v128.and(i16x8.shr_u(qs, 4), three);
  const f3 = v128.and(i16x8.shr_u(qs, 6), three);
  // interleave the fields back into element order: pairs (f0, f1) and (f2, f3) byte by byte, then the pairs
  const lo01 = i8x16.shuffle(f0, f1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const lo23 = i8x16.shuffle(f2, f3, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const hi01 = i8x16.shuffle(f0, f1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const hi23 = i8x16.shuffle(f2, f3, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  let acc = f32x4.splat(0);
  acc = emit(i8x16.shuffle(lo01, lo23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23), 0, d, dst, x, mode, acc);
  acc = emit(i8x16.shuffle(lo01, lo23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31), 1, d, dst, x, mode, acc);
  acc = emit(i8x16.shuffle(hi01, hi23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23), 2, d, dst, x, mode, acc);
  acc = emit(i8x16.shuffle(hi01, hi23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31), 3, d, dst, x, mode, acc);
  return acc;
}

// ---- base-3 packing one byte at a time, for blocks holding a NaN (whose running maximum ggml's MAX restarts,
// so x * id can leave [-1, 1] and the uint8 sums wrap; every step is reproduced)

// The C accumulation of one trit byte: q = (uint8)(q * 3 + xi) over `count` elements e0, e0 + step, ...,
// xi = lroundf(x * id) + 1 as x86-64 computes it.
// @ts-ignore: decorator
@inline export function tritsScalar(x: usize, e0: i32, step: i32, count: i32, id: f32): i32 {
  let q = 0;
  for (let k = 0; k < count; k++) q = (q * 3 + lroundLowX86(load<f32>(x + (<usize>(e0 + k * step) << 2)) * id) + 1) & 255;
  return q;
}

// `q = ((uint16_t)q * 256 + (243 - 1)) / 243` stored in a uint8_t, for any byte q.
// @ts-ignore: decorator
@inline export function packScalar(q: i32): u8 {
  return <u8>((q * 256 + 242) / 243);
}

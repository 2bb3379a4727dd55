// What Q4_K and Q5_K (formats/q4_k.ts, formats/q5_k.ts) share: a block of 256 values in 8 groups of 32, each
// group with a 6-bit scale code sc and a 6-bit minimum code m under two f16 super-scales d and dmin, so that
// value = (d * sc) * q - (dmin * m). Here: ggml's make_qkx2_quants for four groups at once (one per lane), the
// packing of the 16 six-bit codes into 12 bytes, the final codes of a group, and the shared decode / dot step.
// Keys: B = 256 values per block, G = 32 values per group (8 groups), nmax the largest code (15 for Q4_K,
// 31 for Q5_K), lane k of a v128 = group g + k.
//   header (16 bytes, both formats): [ d f16 | dmin f16 | scales[12] ]
//                                       0-1     2-3       4-15
//   scales[12] (get_scale_min_k4), for j < 4:
//     byte j     = sc[j] | (sc[j+4] >> 4) << 6       byte j + 4 = m[j] | (m[j+4] >> 4) << 6
//     byte j + 8 = (sc[j+4] & 15) | (m[j+4] & 15) << 4
// see: ggml-quants.c make_qkx2_quants, get_scale_min_k4, nearest_int, quantize_row_q4_K_ref.
import { f16ToF32, f16x4At, f32ToF16 } from "./half";
import { madd } from "./madd";
import { unpackBlock, unpackChunk } from "./idot";
import { laneGather, nearestInt, nearestInt4, nearestInt4K } from "./formats/kquant-search";
import { BYTES_U32_0, BYTES_U32_1, BYTES_U32_2, BYTES_U32_3, KQ_BIAS, KQ_MAGIC, KQ_MANT, vconst } from "./vconst";

// ggml's MAX(0, MIN(nmax, nearest_int(v))), as f32 lanes (codes are small integers, exact in f32).
// @ts-ignore: decorator
@inline function codeOf4(v: v128, nmax: v128, magic: v128, mant: v128, bias: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.max_s(i32x4.min_s(nearestInt4K(v, magic, mant, bias), nmax), i32x4.splat(0)));
}

// ---- make_qkx2_quants, four groups per call ----
//
// The layout written at `out` for lanes = groups g..g+3 (the caller passes base + 4g bytes, so two calls fill
// the eight groups of a block, 128 bytes in all):
//   out + 0: scale   out + 32: the_min (minus the offset)   out + 64: iscale   out + 96: shift
// where (iscale, shift) are the trial whose codes make_qkx2_quants kept: code = clamp(nearest(iscale * (x - shift))).
// A flat group (max == min) keeps codes 0: its iscale and shift are 0, and 0 * (x - 0) rounds to 0 for any x
// (0 * inf and 0 * NaN give the quiet NaN, whose nearest_int is 0). NaN inputs are promised ggml's bytes for
// the quiet NaN 0x7fc00000 (what JavaScript makes); NaNs with other payloads are not.
export const KQ_SCALE: usize = 0;
export const KQ_MIN: usize = 32;
export const KQ_ISCALE: usize = 64;
export const KQ_SHIFT: usize = 96;

// make_qkx2_quants(32, nmax, x, weights, L, &the_min, Laux, rmin, 0.1, nstep, false) for the four groups of
// 32 at x, with quantize_row_q4_K_ref's weights (sqrt(mean x^2) + |x|), one group per lane: lane for lane
// the same f32 operations in the same order as ggml's scalar loops (sums in element order, no fused
// multiply-adds). The "keep the better trial" branch becomes a select; note that a kept trial also moves the
// minimum later trials measure from, as in C. Results to `out` (layout above).
export function makeQkx2x4(x: usize, nmax: i32, rmin: f32, nstep: i32, out: usize): void {
  const nmaxI = i32x4.splat(nmax);
  const zero = f32x4.splat(0);
  // nearestInt4's constants, loaded once (kquant-search.ts)
  const magic = vconst(KQ_MAGIC);
  const mant = vconst(KQ_MANT);
  const bias = vconst(KQ_BIAS);
  // the weights' sqrt(sum x^2 / 32); weight of value e: av + |x_e|, recomputed where needed
  let sumX2 = zero;
  for (let e = 0; e < 32; e++) {
    const v = laneGather(x, e, 128);
    sumX2 = f32x4.add(sumX2, f32x4.mul(v, v));
  }
  const av = f32x4.sqrt(f32x4.div(sumX2, f32x4.splat(32)));
  // min, max (`x < min`, `x > max` from x[0] on: NaN never taken), sum of weights, sum of weights * x
  const x0 = laneGather(x, 0, 128);
  let min = x0;
  let max = x0;
  let sumW = f32x4.add(av, f32x4.abs(x0));
  let sumX = f32x4.mul(sumW, x0);
  for (let e = 1; e < 32; e++) {
    const v = laneGather(x, e, 128);
    min = v128.bitselect(v, min, f32x4.lt(v, min));
    max = v128.bitselect(v, max, f32x4.gt(v, max));
    const w = f32x4.add(av, f32x4.abs(v));
    sumW = f32x4.add(sumW, w);
    sumX = f32x4.add(sumX, f32x4.mul(w, v));
  }
  min = v128.bitselect(zero, min, f32x4.gt(min, zero));
  const flat = f32x4.eq(max, min);
  // the first codes: iscale = nmax / (max - min); their error, sum of w * (scale * L + min - x)^2
  let iscale = f32x4.div(f32x4.convert_i32x4_s(nmaxI), f32x4.sub(max, min));
  let scale = f32x4.div(f32x4.splat(1), iscale);
  let best = zero;
  for (let e = 0; e < 32; e++) {
    const v = laneGather(x, e, 128);
    const l = codeOf4(f32x4.mul(iscale, f32x4.sub(v, min)), nmaxI, magic, mant, bias);
    const diff = f32x4.sub(f32x4.add(f32x4.mul(scale, l), min), v);
    best = f32x4.add(best, f32x4.mul(f32x4.add(av, f32x4.abs(v)), f32x4.mul(diff, diff)));
  }
  let bestIscale = iscale;
  let bestShift = min;
  for (let is = 0; is <= nstep; is++) {
    iscale = f32x4.div(f32x4.splat(rmin + <f32>0.1 * <f32>is + <f32>nmax), f32x4.sub(max, min));
    let sumL = zero;
    let sumL2 = zero;
    let sumXL = zero;
    for (let e = 0; e < 32; e++) {
      const v = laneGather(x, e, 128);
      const l = codeOf4(f32x4.mul(iscale, f32x4.sub(v, min)), nmaxI, magic, mant, bias);
      const wl = f32x4.mul(f32x4.add(av, f32x4.abs(v)), l);
      sumL = f32x4.add(sumL, wl);
      sumL2 = f32x4.add(sumL2, f32x4.mul(wl, l));
      sumXL = f32x4.add(sumXL, f32x4.mul(wl, v));
    }
    // least squares for scale and offset over these codes, where the determinant is positive
    const det = f32x4.sub(f32x4.mul(sumW, sumL2), f32x4.mul(sumL, sumL));
    const solvable = f32x4.gt(det, zero);
    if (!v128.any_true(solvable)) continue;
    let thisScale = f32x4.div(f32x4.sub(f32x4.mul(sumW, sumXL), f32x4.mul(sumX, sumL)), det);
    let thisMin = f32x4.div(f32x4.sub(f32x4.mul(sumL2, sumX), f32x4.mul(sumL, sumXL)), det);
    // a positive offset is not allowed: offset 0 and the scale of a fit through the origin
    const positive = f32x4.gt(thisMin, zero);
    thisScale = v128.bitselect(f32x4.div(sumXL, sumL2), thisScale, positive);
    thisMin = v128.bitselect(zero, thisMin, positive);
    let cur = zero;
    for (let e = 0; e < 32; e++) {
      const v = laneGather(x, e, 128);
      const l = codeOf4(f32x4.mul(iscale, f32x4.sub(v, min)), nmaxI, magic, mant, bias);
      const diff = f32x4.sub(f32x4.add(f32x4.mul(thisScale, l), thisMin), v);
      cur = f32x4.add(cur, f32x4.mul(f32x4.add(av, f32x4.abs(v)), f32x4.mul(diff, diff)));
    }
    // flat groups took none of this (their lanes divided by zero above)
    const better = v128.andnot(v128.and(solvable, f32x4.lt(cur, best)), flat);
    best = v128.bitselect(cur, best, better);
    scale = v128.bitselect(thisScale, scale, better);
    bestIscale = v128.bitselect(iscale, bestIscale, better);
    bestShift = v128.bitselect(min, bestShift, better);
    min = v128.bitselect(thisMin, min, better);
  }
  v128.store(out + KQ_SCALE, v128.andnot(scale, flat));
  v128.store(out + KQ_MIN, f32x4.neg(min));
  v128.store(out + KQ_ISCALE, v128.andnot(bestIscale, flat));
  v128.store(out + KQ_SHIFT, v128.andnot(bestShift, flat));
}

// ---- the header: super-scales and the 6-bit codes ----

// From the eight scales and minimums make_qkx2_quants gave (at `from`, layout above): d = f16(max scale / 63),
// dmin = f16(max the_min / 63), sc = MIN(63, (uint8_t)nearest_int(63 / max scale * scale)) and likewise m,
// packed as drawn above, into the 16 header bytes at y (which must not overlap `from`).
export function packHeader(from: usize, y: usize): void {
  let maxScale: f32 = 0;
  let maxMin: f32 = 0;
  for (let j = 0; j < 8; j++) {
    const s = load<f32>(from + KQ_SCALE + (<usize>j << 2));
    const m = load<f32>(from + KQ_MIN + (<usize>j << 2));
    if (s > maxScale) maxScale = s;
    if (m > maxMin) maxMin = m;
  }
  const invScale: f32 = maxScale > 0 ? <f32>63 / maxScale : 0;
  const invMin: f32 = maxMin > 0 ? <f32>63 / maxMin : 0;
  for (let j = 0; j < 4; j++) {
    const sLo = sixBits(invScale * load<f32>(from + KQ_SCALE + (<usize>j << 2)));
    const sHi = sixBits(invScale * load<f32>(from + KQ_SCALE + 16 + (<usize>j << 2)));
    const mLo = sixBits(invMin * load<f32>(from + KQ_MIN + (<usize>j << 2)));
    const mHi = sixBits(invMin * load<f32>(from + KQ_MIN + 16 + (<usize>j << 2)));
    store<u8>(y + 4 + j, <u8>(sLo | ((sHi >> 4) << 6)));
    store<u8>(y + 8 + j, <u8>(mLo | ((mHi >> 4) << 6)));
    store<u8>(y + 12 + j, <u8>((sHi & 15) | ((mHi & 15) << 4)));
  }
  store<u16>(y, <u16>f32ToF16(maxScale / <f32>63));
  store<u16>(y + 2, <u16>f32ToF16(maxMin / <f32>63));
}

// MIN(63, (uint8_t)nearest_int(v)): C keeps the low byte of the int first.
// @ts-ignore: decorator
@inline function sixBits(v: f32): u32 {
  return min<u32>(63, <u32>nearestInt(v) & 255);
}

// get_scale_min_k4: the scale code (low byte) and minimum code (second byte) of group j from the header at y.
// @ts-ignore: decorator
@inline export function scaleMin(j: i32, y: usize): u32 {
  const q = y + 4;
  if (j < 4) return (<u32>load<u8>(q + j) & 63) | ((<u32>load<u8>(q + j + 4) & 63) << 8);
  const b = <u32>load<u8>(q + j + 4);
  return ((b & 15) | ((<u32>load<u8>(q + j - 4) >> 6) << 4)) | (((b >> 4) | ((<u32>load<u8>(q + j) >> 6) << 4)) << 8);
}

// ---- the final codes ----

// The codes (bytes 0..nmax) of 16 values at x in a group with scale d = f16(d) * sc and offset dm =
// f16(dmin) * m: nearest_int((x + dm) / d). A group whose d is 0 keeps make_qkx2_quants's codes (C's
// `if (!d) continue`; NaN goes on): nearest_int(iscale * (x - shift)) from the kept trial.
// @ts-ignore: decorator
@inline export function groupCodes16(x: usize, d: f32, dm: f32, iscale: f32, shift: f32, nmax: i32): v128 {
  const nmaxI = i32x4.splat(nmax);
  const zero = i32x4.splat(0);
  let c0: v128, c1: v128, c2: v128, c3: v128;
  if (d != 0) {
    const dv = f32x4.splat(d);
    const mv = f32x4.splat(dm);
    c0 = nearestInt4(f32x4.div(f32x4.add(v128.load(x), mv), dv));
    c1 = nearestInt4(f32x4.div(f32x4.add(v128.load(x, 16), mv), dv));
    c2 = nearestInt4(f32x4.div(f32x4.add(v128.load(x, 32), mv), dv));
    c3 = nearestInt4(f32x4.div(f32x4.add(v128.load(x, 48), mv), dv));
  } else {
    const iv = f32x4.splat(iscale);
    const sv = f32x4.splat(shift);
    c0 = nearestInt4(f32x4.mul(iv, f32x4.sub(v128.load(x), sv)));
    c1 = nearestInt4(f32x4.mul(iv, f32x4.sub(v128.load(x, 16), sv)));
    c2 = nearestInt4(f32x4.mul(iv, f32x4.sub(v128.load(x, 32), sv)));
    c3 = nearestInt4(f32x4.mul(iv, f32x4.sub(v128.load(x, 48), sv)));
  }
  c0 = i32x4.max_s(i32x4.min_s(c0, nmaxI), zero);
  c1 = i32x4.max_s(i32x4.min_s(c1, nmaxI), zero);
  c2 = i32x4.max_s(i32x4.min_s(c2, nmaxI), zero);
  c3 = i32x4.max_s(i32x4.min_s(c3, nmaxI), zero);
  return i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3));
}

// ---- decode and dot ----

// 16 codes (bytes, unsigned) -> 16 values d * q - m at dst (rounded after the product, then after the
// difference: no fused multiply-add, as dequantize_row_q4_K / q5_K compute them).
// @ts-ignore: decorator
@inline export function expandCodes16(dst: usize, q: v128, d: v128, m: v128): void {
  const lo = i16x8.extend_low_i8x16_u(q);
  const hi = i16x8.extend_high_i8x16_u(q);
  v128.store(dst, f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(lo)), d), m));
  v128.store(dst, f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(lo)), d), m), 16);
  v128.store(dst, f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(hi)), d), m), 32);
  v128.store(dst, f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(hi)), d), m), 48);
}

// acc plus the same 16 values, each times the f32 at x: the decoded value exactly, so a dot differs from one
// over the decoded row only in the order of its sums (and, in the relaxed build, fused multiply-adds).
// The codes are widened to i32 by four byte swizzles in the relaxed build (one pshufb each on V8 and
// JavaScriptCore): JavaScriptCore lowers extend_high to unpckhpd dst, src, dst and a pmovzx, which reads dst's
// old value, so where its register allocator picks a dst other than src the loop's iterations wait on each
// other through that register (Bun, q4_1 exact: 1.4x V8's time). Baseline: the extends.
// @ts-ignore: decorator
@inline export function dotCodes16(q: v128, d: v128, m: v128, x: usize, acc: v128): v128 {
  let c0: v128, c1: v128, c2: v128, c3: v128;
  if (ASC_FEATURE_RELAXED_SIMD) {
    c0 = i8x16.relaxed_swizzle(q, vconst(BYTES_U32_0));
    c1 = i8x16.relaxed_swizzle(q, vconst(BYTES_U32_1));
    c2 = i8x16.relaxed_swizzle(q, vconst(BYTES_U32_2));
    c3 = i8x16.relaxed_swizzle(q, vconst(BYTES_U32_3));
  } else {
    const lo = i16x8.extend_low_i8x16_u(q);
    const hi = i16x8.extend_high_i8x16_u(q);
    c0 = i32x4.extend_low_i16x8_u(lo);
    c1 = i32x4.extend_high_i16x8_u(lo);
    c2 = i32x4.extend_low_i16x8_u(hi);
    c3 = i32x4.extend_high_i16x8_u(hi);
  }
  const w0 = f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(c0), d), m);
  const w1 = f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(c1), d), m);
  const w2 = f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(c2), d), m);
  const w3 = f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(c3), d), m);
  // two short chains, then one add into acc: the accumulator waits on one addition per call
  const s = madd(w1, v128.load(x, 16), f32x4.mul(w0, v128.load(x)));
  const t = madd(w3, v128.load(x, 48), f32x4.mul(w2, v128.load(x, 32)));
  return f32x4.add(acc, f32x4.add(s, t));
}

// ---- mode "ggml": what Q4_K's and Q5_K's integer dots share (formats/q4_k.ts, q5_k.ts idot_) ----
// Per block: sum_j sc_j * (sum over group j of q * x_code) and sum_j m_j * (group j's activation sum, from the
// record's bsums), exact in i32; then d_x * d * the first - d_x * dmin * the second, in f32 as ggml does.

// The eight 6-bit scale codes (bytes 0..7) and minimum codes (bytes 8..15) of the block at y, unpacked from
// scales[12] (the layout above) four at a time in 32-bit words: sc 0..3, sc 4..7, m 0..3, m 4..7.
// @ts-ignore: decorator
@inline export function scalesMins(y: usize): v128 {
  const s0 = load<u32>(y, 4);
  const s1 = load<u32>(y, 8);
  const s2 = load<u32>(y, 12);
  const low6: u32 = 0x3f3f3f3f;
  const low4: u32 = 0x0f0f0f0f;
  const top2: u32 = 0x03030303;
  const sc47 = (s2 & low4) | (((s0 >> 6) & top2) << 4);
  const m47 = ((s2 >> 4) & low4) | (((s1 >> 6) & top2) << 4);
  return i32x4(s0 & low6, sc47, s1 & low6, m47);
}

// Group j's scale code from scalesMins's first two words (a = sc 0..3, b = sc 4..7).
// @ts-ignore: decorator
@inline export function scaleCode(a: u32, b: u32, j: i32): i32 {
  return <i32>(((j < 4 ? a : b) >> (<u32>(j & 3) << 3)) & 0xff);
}

// m_j * (bsums[2j] + bsums[2j + 1]) for the eight j, in four i32 lanes (their sum: the block's minimum term):
// the minimum codes against the record's 16 sums of 16 codes.
// @ts-ignore: decorator
@inline function minsLanes(sm: v128, bsums: usize): v128 {
  const m16 = i16x8.extend_high_i8x16_u(sm);
  const b0 = i32x4.extadd_pairwise_i16x8_s(v128.load(bsums));
  const b1 = i32x4.extadd_pairwise_i16x8_s(v128.load(bsums, 16));
  return i32x4.add(i32x4.mul(b0, i32x4.extend_low_i16x8_u(m16)), i32x4.mul(b1, i32x4.extend_high_i16x8_u(m16)));
}

// Sum of 16 codes (bytes 0..31, in order) times 16 activation codes, in four i32 lanes, for the baseline build:
// the code bytes split into even and odd i16 lanes for the record's i16 codes at x (m00ff: vconst.ts, a
// register, not a constant made at each use).
// @ts-ignore: decorator
@inline function codesDot16M(u: v128, x: usize, m00ff: v128): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(v128.and(u, m00ff), v128.load(x)), i32x4.dot_i16x8_s(i16x8.shr_u(u, 8), v128.load(x, 16)));
}

// Pair p of a block: group 2p (values 64p .., codes lo0, lo1) and group 2p + 1 (values 64p + 32 .., hi0, hi1).

// A group's scale code times its sum of 32 codes (two halves of 16) times their activation codes, in four i32
// lanes; the scale a splat (idot.ts scaleLanesLo/Hi, one lane): i16x8 in the relaxed build, i32x4 in the
// baseline. Relaxed build: the code bytes (7-bit: exact) against the record's i8 codes at x8, the halves' i16
// pair sums added (|sum| <= 4 * 31 * 128 < 2^15), then widened and scaled in one i32x4.dot_i16x8_s; baseline:
// codesDot16M twice and an i32 multiply. No shuffles on the codes (JavaScriptCore lowers two-input shuffles to
// two pshufb and a por).
// @ts-ignore: decorator
@inline function groupDot32(u0: v128, u1: v128, x: usize, x8: usize, scale: v128, m00ff: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const p = i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8), u0), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8, 16), u1));
    return i32x4.dot_i16x8_s(p, scale);
  }
  return i32x4.mul(i32x4.add(codesDot16M(u0, x, m00ff), codesDot16M(u1, x + 32, m00ff)), scale);
}

// The block's eight scale codes (scalesMins's first two words) as i16 lanes, for idot.ts scaleLanesLo/Hi.
// @ts-ignore: decorator
@inline export function scaleCodesI16(sm: v128): v128 {
  return i16x8.extend_low_i8x16_u(sm);
}

// Pair p's two groups times the record's codes (x, x8: the block's first), scaled by sA and sB (splats of
// their scale codes, as groupDot32 takes them), in four i32 lanes.
// @ts-ignore: decorator
@inline export function pairDot(lo0: v128, lo1: v128, hi0: v128, hi1: v128, x: usize, x8: usize, p: i32, sA: v128, sB: v128, m00ff: v128): v128 {
  const xp = x + (<usize>p << 7);
  const x8p = x8 + (<usize>p << 6);
  return i32x4.add(groupDot32(lo0, lo1, xp, x8p, sA, m00ff), groupDot32(hi0, hi1, xp + 64, x8p + 32, sB, m00ff));
}

// A block's two integer sums, each in two i32 lanes (idotBlock's result, Q2_K's too): [a's lanes 0 + 1, 2 + 3 |
// b's lanes 0 + 1, 2 + 3]; summed, the lanes give the same i32 sums in any order.
// @ts-ignore: decorator
@inline export function lanePairs(a: v128, b: v128): v128 {
  return i32x4.add(v128.shuffle<i32>(a, b, 0, 2, 4, 6), v128.shuffle<i32>(a, b, 1, 3, 5, 7));
}

// lanePairs of sum_j sc_j * isum_j (acc) and sum_j m_j * bsum_j.
// @ts-ignore: decorator
@inline export function blockSums(acc: v128, sm: v128, bsums: usize): v128 {
  return lanePairs(acc, minsLanes(sm, bsums));
}

// A block's value from its two integer sums (lanePairs) and the record's scale dx, as ggml rounds it: d_x * d
// and d_x * dmin, one f32 multiply each; d the f16 at dAt, dmin the one after it (Q2_K: a + m * -c, which is
// a - m * c to the bit).
// @ts-ignore: decorator
@inline export function blockValue(sums: v128, dAt: usize, dx: f32): f32 {
  const sc = i32x4.extract_lane(sums, 0) + i32x4.extract_lane(sums, 1);
  const mn = i32x4.extract_lane(sums, 2) + i32x4.extract_lane(sums, 3);
  return <f32>sc * (dx * f16ToF32(load<u16>(dAt))) - <f32>mn * (dx * f16ToF32(load<u16>(dAt, 2)));
}

// blockValue for four consecutive blocks (sums s0..s3, the first one's d at dAt, BYTES apart; the record's scales dx,
// one lane per block): lane b the same f32 operations as blockValue, with the lane sums, the f16 scales
// (f16x4At) and the products in vectors.
// @ts-ignore: decorator
@inline export function blockValues4(s0: v128, s1: v128, s2: v128, s3: v128, dAt: usize, BYTES: usize, dx: v128): v128 {
  const u = i32x4.add(v128.shuffle<i32>(s0, s1, 0, 4, 2, 6), v128.shuffle<i32>(s0, s1, 1, 5, 3, 7)); // sc0 sc1 mn0 mn1
  const v = i32x4.add(v128.shuffle<i32>(s2, s3, 0, 4, 2, 6), v128.shuffle<i32>(s2, s3, 1, 5, 3, 7)); // sc2 sc3 mn2 mn3
  const sc = f32x4.convert_i32x4_s(v128.shuffle<i64>(u, v, 0, 2));
  const mn = f32x4.convert_i32x4_s(v128.shuffle<i64>(u, v, 1, 3));
  const d = f16x4At(dAt, dAt + BYTES, dAt + 2 * BYTES, dAt + 3 * BYTES);
  const dmin = f16x4At(dAt + 2, dAt + BYTES + 2, dAt + 2 * BYTES + 2, dAt + 3 * BYTES + 2);
  return f32x4.sub(f32x4.mul(sc, f32x4.mul(dx, d)), f32x4.mul(mn, f32x4.mul(dx, dmin)));
}

// Pair p unpacked into the block at dst (idot.ts layout): chunks 4p .. 4p + 3 with their groups' scale codes.
// @ts-ignore: decorator
@inline export function unpackPair(dst: usize, lo0: v128, lo1: v128, hi0: v128, hi1: v128, p: i32, scA: u32, scB: u32): void {
  const scLo = scaleCode(scA, scB, 2 * p);
  const scHi = scaleCode(scA, scB, 2 * p + 1);
  unpackChunk(dst, 4 * p, lo0, scLo);
  unpackChunk(dst, 4 * p + 1, lo1, scLo);
  unpackChunk(dst, 4 * p + 2, hi0, scHi);
  unpackChunk(dst, 4 * p + 3, hi1, scHi);
}

// The unpacked block's tail (idot.ts unpackBlock): bsum weights the minimum codes (each twice: two bsums per
// group of 32), dA = d, dB = -dmin.
// @ts-ignore: decorator
@inline export function unpackMins(dst: usize, sm: v128, blk: usize): void {
  const m16 = i16x8.extend_high_i8x16_u(sm);
  unpackBlock(dst, v128.shuffle<i16>(m16, m16, 0, 0, 1, 1, 2, 2, 3, 3), v128.shuffle<i16>(m16, m16, 4, 4, 5, 5, 6, 6, 7, 7), f16ToF32(load<u16>(blk)), -f16ToF32(load<u16>(blk, 2)));
}

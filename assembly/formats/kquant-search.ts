// The scale searches of ggml's reference quantizers, four groups at a time (one group per lane, each lane doing
// its group's f32 operations in ggml's order, so the bytes are ggml's): the rounding they share (nearest_int),
// lane gathers, and make_qkx2_quants with q2_k's parameters. q3_k and iq4_xs keep their own searches beside
// their formats, and kquants.ts (Q4_K, Q5_K) its make_qkx2_quants; all use the helpers here.
// Keys: G group (16 values for q2_k), lane j = group j of the four; codes 0..3, value i of a group at bits 2i.
// see: ggml-quants.c nearest_int, make_qkx2_quants, quantize_row_q2_K_ref.
import { KQ_3, KQ_BIAS, KQ_M4, KQ_MAGIC, KQ_MANT, vconst } from "../vconst";

// ggml's GROUP_MAX_EPS: groups whose largest |x| is below it quantize to zero.
export const GROUP_MAX_EPS: f32 = 1e-15;

// ggml's nearest_int: the float magic-number rounding (to nearest, ties to even, for |v| < 2^22; beyond that
// the same bit pattern C reads).
// @ts-ignore: decorator
@inline export function nearestInt(v: f32): i32 {
  return (reinterpret<i32>(v + <f32>12582912.0) & 0x007fffff) - 0x00400000;
}

// The four-lane helpers below read their constants from vconst.ts at each use (one load each), or take them as
// arguments in the search loops, which load them once (nearestInt4K): a register beats a load at each use on
// V8 11 (Node 20) too.

// nearestInt on four lanes.
// @ts-ignore: decorator
@inline export function nearestInt4(v: v128): v128 {
  return nearestInt4K(v, vconst(KQ_MAGIC), vconst(KQ_MANT), vconst(KQ_BIAS));
}

// The same with its constants given (vconst(KQ_MAGIC), (KQ_MANT), (KQ_BIAS)).
// @ts-ignore: decorator
@inline export function nearestInt4K(v: v128, magic: v128, mant: v128, bias: v128): v128 {
  return i32x4.sub(v128.and(f32x4.add(v, magic), mant), bias);
}


// MAX(-4, MIN(3, l)) on four lanes (Q3_K's codes before the offset).
// @ts-ignore: decorator
@inline export function clamp3(l: v128): v128 {
  return i32x4.max_s(i32x4.min_s(l, vconst(KQ_3)), vconst(KQ_M4));
}

// Value i of four groups `stride` bytes apart (x, x + stride, ...): lane j holds group j's value.
// @ts-ignore: decorator
@inline export function laneGather(x: usize, i: i32, stride: usize): v128 {
  const p = x + (<usize>i << 2);
  let v = v128.load32_zero(p);
  v = v128.load32_lane(p + stride, v, 1);
  v = v128.load32_lane(p + 2 * stride, v, 2);
  return v128.load32_lane(p + 3 * stride, v, 3);
}

// Lane `lane` (0..3, not a constant) of four f32.
// @ts-ignore: decorator
@inline export function laneOf(v: v128, lane: i32): f32 {
  const at = i8x16.splat(<i8>(lane << 2));
  return f32x4.extract_lane(i8x16.swizzle(v, i8x16.add(at, i8x16(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3))), 0);
}

// The largest lane of a, b, c, d above 0, as ggml's `if (s > max) max = s` from max = 0 finds it (NaN never
// wins; the order does not matter for a maximum).
// @ts-ignore: decorator
@inline export function maxAbove0(a: v128, b: v128, c: v128, d: v128): f32 {
  let m = f32x4.splat(0);
  m = v128.bitselect(a, m, f32x4.gt(a, m));
  m = v128.bitselect(b, m, f32x4.gt(b, m));
  m = v128.bitselect(c, m, f32x4.gt(c, m));
  m = v128.bitselect(d, m, f32x4.gt(d, m));
  let r = f32x4.extract_lane(m, 0);
  const m1 = f32x4.extract_lane(m, 1);
  const m2 = f32x4.extract_lane(m, 2);
  const m3 = f32x4.extract_lane(m, 3);
  if (m1 > r) r = m1;
  if (m2 > r) r = m2;
  if (m3 > r) r = m3;
  return r;
}

// MAX(0, MIN(3, l)) on four lanes.
// @ts-ignore: decorator
@inline export function clamp03(l: v128): v128 {
  return i32x4.max_s(i32x4.min_s(l, vconst(KQ_3)), i32x4.splat(0));
}

// make_qkx2_quants(16, 3, x, weights |x|, L, &the_min, Laux, rmin -0.5, rdelta 0.1, nstep 15, use_mad) for the
// four groups of 16 at x (64 bytes apart), one group per lane. Returns the four scales; stores the four
// the_min at `mins` and, when `codes` is not 0, the four groups' codes L there (one u32 per group, value i at
// bits 2i). A trial's codes are packed the same way as they are made, so the error pass and the
// keep-the-best step need no per-value storage. ggml's "keep the best" branch becomes a select; a group whose
// values are all equal (max == min after min is raised to 0) returns scale 0 and codes 0, as ggml does early.
export function q2kSearch4(x: usize, mins: usize, codes: usize): v128 {
  const zero = f32x4.splat(0);
  const magic = vconst(KQ_MAGIC);
  const mant = vconst(KQ_MANT);
  const bias = vconst(KQ_BIAS);
  const x0 = laneGather(x, 0, 64);
  let lo = x0;
  let hi = x0;
  let sumW = f32x4.abs(x0);
  let sumX = f32x4.mul(sumW, x0);
  for (let i = 1; i < 16; i++) {
    const xi = laneGather(x, i, 64);
    lo = v128.bitselect(xi, lo, f32x4.lt(xi, lo));
    hi = v128.bitselect(xi, hi, f32x4.gt(xi, hi));
    const w = f32x4.abs(xi);
    sumW = f32x4.add(sumW, w);
    sumX = f32x4.add(sumX, f32x4.mul(w, xi));
  }
  lo = v128.andnot(lo, f32x4.gt(lo, zero)); // if (min > 0) min = 0
  const flat = f32x4.eq(hi, lo);
  let min = lo;
  let iscale = f32x4.div(f32x4.splat(3), f32x4.sub(hi, min));
  let scale = f32x4.div(f32x4.splat(1), iscale);
  // the first codes and their weighted absolute error
  let best = i32x4.splat(0);
  let bestError = zero;
  for (let i = 0; i < 16; i++) {
    const xi = laneGather(x, i, 64);
    const l = clamp03(nearestInt4K(f32x4.mul(iscale, f32x4.sub(xi, min)), magic, mant, bias));
    best = v128.or(best, i32x4.shl(l, 2 * i));
    const diff = f32x4.sub(f32x4.add(f32x4.mul(scale, f32x4.convert_i32x4_s(l)), min), xi);
    bestError = f32x4.add(bestError, f32x4.mul(f32x4.abs(xi), f32x4.abs(diff)));
  }
  for (let is = 0; is <= 15; is++) {
    // (rmin + rdelta * is + nmax) / (max - min), min being the best trial's so far
    iscale = f32x4.div(f32x4.splat((<f32>-0.5 + <f32>0.1 * <f32>is) + <f32>3), f32x4.sub(hi, min));
    let trial = i32x4.splat(0);
    let sumL = zero;
    let sumL2 = zero;
    let sumXL = zero;
    for (let i = 0; i < 16; i++) {
      const xi = laneGather(x, i, 64);
      const l = clamp03(nearestInt4K(f32x4.mul(iscale, f32x4.sub(xi, min)), magic, mant, bias));
      trial = v128.or(trial, i32x4.shl(l, 2 * i));
      const lf = f32x4.convert_i32x4_s(l);
      const wl = f32x4.mul(f32x4.abs(xi), lf);
      sumL = f32x4.add(sumL, wl);
      sumL2 = f32x4.add(sumL2, f32x4.mul(wl, lf));
      sumXL = f32x4.add(sumXL, f32x4.mul(wl, xi));
    }
    const D = f32x4.sub(f32x4.mul(sumW, sumL2), f32x4.mul(sumL, sumL));
    let thisScale = f32x4.div(f32x4.sub(f32x4.mul(sumW, sumXL), f32x4.mul(sumX, sumL)), D);
    let thisMin = f32x4.div(f32x4.sub(f32x4.mul(sumL2, sumX), f32x4.mul(sumL, sumXL)), D);
    const positive = f32x4.gt(thisMin, zero); // then min = 0 and scale = sum_xl / sum_l2
    thisMin = v128.andnot(thisMin, positive);
    thisScale = v128.bitselect(f32x4.div(sumXL, sumL2), thisScale, positive);
    let error = zero;
    for (let i = 0; i < 16; i++) {
      const xi = laneGather(x, i, 64);
      const lf = f32x4.convert_i32x4_s(v128.and(i32x4.shr_u(trial, 2 * i), i32x4.splat(3)));
      const diff = f32x4.sub(f32x4.add(f32x4.mul(thisScale, lf), thisMin), xi);
      error = f32x4.add(error, f32x4.mul(f32x4.abs(xi), f32x4.abs(diff)));
    }
    // D > 0 && cur_error < best_error, for groups that did not return early
    const better = v128.andnot(v128.and(f32x4.gt(D, zero), f32x4.lt(error, bestError)), flat);
    best = v128.bitselect(trial, best, better);
    bestError = v128.bitselect(error, bestError, better);
    scale = v128.bitselect(thisScale, scale, better);
    min = v128.bitselect(thisMin, min, better);
  }
  if (mins != 0) v128.store(mins, f32x4.neg(min));
  if (codes != 0) v128.store(codes, v128.andnot(best, flat));
  return v128.andnot(scale, flat);
}

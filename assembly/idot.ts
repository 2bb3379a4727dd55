// What the integer-dot kernels of mode "ggml" share (formats/<fmt>.ts idot_<fmt>): lane sums, and the unpacked
// rows that batches of Q8_K records are dotted with.
// Keys: s_r the four lanes of row r's partial sums; c a run of 16 values in a block of 256.

import { VEC_Q8_K, actCodes8, actD, actSums } from "./activations";
import { f16ToF32, f16x4At } from "./half";

// The masks these kernels take (MASK_*) live in vconst.ts; loops load them once per row (vconst) and pass
// them down.

// Each i16 lane's even byte moved to its high byte, the low byte zero (256 * the signed byte: i16x8.shl(w, 8)).
// Relaxed build: a byte shuffle (pshufb; an index of 0x80 selects zero in every engine) with mev =
// vconst(MASK_EVEN_HI): JavaScriptCore lowers a vector shift by a constant to four instructions (the count
// masked and moved to a vector register at each use). Baseline: the shift (mev unused).
// @ts-ignore: decorator
@inline export function evenHigh(w: v128, mev: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i8x16.relaxed_swizzle(w, mev);
  return i16x8.shl(w, 8);
}

// [sum s0, sum s1, sum s2, sum s3] in two rounds of interleave-and-add (punpck{l,h}dq, punpck{l,h}qdq).
// @ts-ignore: decorator
@inline export function sumLanes4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const a = i32x4.add(v128.shuffle<i32>(s0, s1, 0, 4, 1, 5), v128.shuffle<i32>(s0, s1, 2, 6, 3, 7));
  const b = i32x4.add(v128.shuffle<i32>(s2, s3, 0, 4, 1, 5), v128.shuffle<i32>(s2, s3, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i64>(a, b, 0, 2), v128.shuffle<i64>(a, b, 1, 3));
}

// @ts-ignore: decorator
@inline export function sumLanes(s: v128): i32 {
  return (i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1)) + (i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3));
}

// Eight scales (i16 lanes of s16) as two vectors of four, each scale in one 32-bit lane, so that scale j is
// then a splat of a lane (v128.shuffle<i32>(v, v, j, j, j, j): one pshufd) where a scale loaded as a byte and
// splat costs three instructions (load, movd, broadcast). Relaxed build: each lane holds the i16 scale twice
// (an i16x8 splat, for i32x4.dot_i16x8_s); baseline: the i32 scale (for i32x4.mul). Lo: scales 0..3, Hi: 4..7.
// @ts-ignore: decorator
@inline export function scaleLanesLo(s16: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return v128.shuffle<i16>(s16, s16, 0, 0, 1, 1, 2, 2, 3, 3);
  return i32x4.extend_low_i16x8_s(s16);
}
// @ts-ignore: decorator
@inline export function scaleLanesHi(s16: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return v128.shuffle<i16>(s16, s16, 4, 4, 5, 5, 6, 6, 7, 7);
  return i32x4.extend_high_i16x8_s(s16);
}

// Pairwise sums of eight i16 lanes into four i32 lanes, as i32x4.dot_i16x8_s with ones (pmaddwd), which every
// engine lowers to one instruction (i32x4.extadd_pairwise_i16x8_s is the same sum).
// @ts-ignore: decorator
@inline export function widenPairs(p: v128): v128 {
  return i32x4.dot_i16x8_s(p, i16x8.splat(1));
}
// The same with the ones loaded (ones: vconst(MASK_ONES16)), for loops.
// @ts-ignore: decorator
@inline export function widenPairsM(p: v128, ones: v128): v128 {
  return i32x4.dot_i16x8_s(p, ones);
}

// A group's scale times its 16 codes u (unsigned bytes, 0..127) . the record's codes (x: i16, x8: i8), in four
// i32 lanes, the scale sv in every i32 lane as scaleLanesLo / Hi make it (relaxed build: the i16 scale twice;
// baseline: the i32 scale) and laneSplat picks it: one pshufd per group where a scale loaded as a byte and
// splat costs three instructions (q3_k, q2_k; q6_k inlines the same). m00ff: vconst(MASK_00FF).
// @ts-ignore: decorator
@inline export function scaledDotLane(u: v128, x: usize, x8: usize, sv: v128, m00ff: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8), u), sv);
  const s = i32x4.add(i32x4.dot_i16x8_s(v128.and(u, m00ff), v128.load(x)), i32x4.dot_i16x8_s(i16x8.shr_u(u, 8), v128.load(x, 16)));
  return i32x4.mul(s, sv);
}

// Lane j (a constant: the callers write their steps out) of v in every lane: one pshufd.
// @ts-ignore: decorator
@inline export function laneSplat(v: v128, j: i32): v128 {
  return j == 0 ? v128.shuffle<i32>(v, v, 0, 0, 0, 0) : j == 1 ? v128.shuffle<i32>(v, v, 1, 1, 1, 1) : j == 2 ? v128.shuffle<i32>(v, v, 2, 2, 2, 2) : v128.shuffle<i32>(v, v, 3, 3, 3, 3);
}

// The sum of 16 signed codes v (-128..127, both builds: relaxed_dot takes one operand 7-bit unsigned only)
// times the record's 16 i16 activation codes at x, in four i32 lanes: v split into even and odd i16 lanes.
// @ts-ignore: decorator
@inline export function signedDot16(v: v128, x: usize): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(i16x8.shr_s(i16x8.shl(v, 8), 8), v128.load(x)), i32x4.dot_i16x8_s(i16x8.shr_s(v, 8), v128.load(x, 16)));
}

// ---- one vector, the block values of the formats whose codes' offset folds into one integer sum (Q6_K, Q3_K) ----
// A block's value from its integer sums (i32 lanes) and the record's scale dx: lane sum * (d * d_x), d the f16
// at dAt, as ggml rounds it; and the same for four consecutive blocks (BYTES apart; dx: their four record
// scales), lane b each the same f32 operations (formats/idot-rows.ts idotRowBlocks).
// @ts-ignore: decorator
@inline export function foldValue(sums: v128, dAt: usize, dx: f32): f32 {
  return <f32>sumLanes(sums) * (f16ToF32(load<u16>(dAt)) * dx);
}
// @ts-ignore: decorator
@inline export function foldValues4(s0: v128, s1: v128, s2: v128, s3: v128, dAt: usize, BYTES: usize, dx: v128): v128 {
  const d = f16x4At(dAt, dAt + BYTES, dAt + 2 * BYTES, dAt + 3 * BYTES);
  return f32x4.mul(f32x4.convert_i32x4_s(sumLanes4(s0, s1, s2, s3)), f32x4.mul(d, dx));
}

// ---- batches of Q8_K records: a row's codes unpacked once, then dotted with each record ----
// For two or more hidden vectors, a k-quant row is unpacked once into `scratch` (the format's unpack code writes
// it with unpackChunk / unpackBlock) and the vectors' dots are then plain loops (idotUnpacked4: four records per
// pass, each unpacked chunk loaded once for the four; idotUnpacked: one) that read the unpacked bytes from L1:
// the decode is paid once per row and batch, not once per vector.
// Layout per block of 256 values (UNPACKED bytes):
//   relaxed build:  [ codes u8 (256) | each 16 values' scale as an i16x8 splat (16 x 16) | ow | dA | dB | pad ]
//                   ("paired" rows, Q4_K and Q5_K: the chunks 2k, 2k + 1 of a group of 32 hold the same scale)
//   baseline build, and "wide" rows in both (signed codes, IQ4_XS's levels, which relaxed_dot cannot take):
//                   [ codes times scale as i16, each 16 values' even then odd (512)    | ow | dA | dB | pad ]
//   ow: 16 i16 weights of the record's 16 bsums (Q6_K: -32 * scale; Q4_K / Q5_K: the minimum code of the
//   group of 32 holding them; Q3_K: -4 * scale; Q2_K: the minimum code; IQ4_XS: 0); dA, dB: f32 (d_w, and
//   -dmin_w or unused).
// A block's value: d_x * dA * (sum codes * x_codes + sum ow * bsums) when the offset folds into the integer sum
// (Q6_K, Q3_K, IQ4_XS: one scale), else d_x * (dA * sum codes * x_codes + dB * sum ow * bsums) (Q4_K, Q5_K,
// Q2_K), as ggml rounds it.
export const UNPACKED: usize = 560;
const OW: usize = 512;

// Values 16c .. 16c + 15 of the block being unpacked at dst: codes u (bytes, 7-bit) with scale sc.
// @ts-ignore: decorator
@inline export function unpackChunk(dst: usize, c: i32, u: v128, sc: i32): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    v128.store(dst + (<usize>c << 4), u);
    v128.store(dst + 256 + (<usize>c << 4), i16x8.splat(<i16>sc));
    return;
  }
  const s = i16x8.splat(<i16>sc);
  v128.store(dst + (<usize>c << 5), i16x8.mul(v128.and(u, i16x8.splat(0xff)), s));
  v128.store(dst + (<usize>c << 5), i16x8.mul(i16x8.shr_u(u, 8), s), 16);
}

// The same for signed codes v (-128..127) in the wide layout, in both builds.
// @ts-ignore: decorator
@inline export function unpackChunkWide(dst: usize, c: i32, v: v128, sc: i32): void {
  const s = i16x8.splat(<i16>sc);
  v128.store(dst + (<usize>c << 5), i16x8.mul(i16x8.shr_s(i16x8.shl(v, 8), 8), s));
  v128.store(dst + (<usize>c << 5), i16x8.mul(i16x8.shr_s(v, 8), s), 16);
}

// The block's bsum weights (two i16x8) and its float scales.
// @ts-ignore: decorator
@inline export function unpackBlock(dst: usize, ow0: v128, ow1: v128, dA: f32, dB: f32): void {
  v128.store(dst + OW, ow0);
  v128.store(dst + OW, ow1, 16);
  store<f32>(dst + OW, dA, 32);
  store<f32>(dst + OW, dB, 36);
}

// The partial sums of 16 values of one record against the unpacked chunk at wc (layout above), in four i32
// lanes: relaxed build, the code bytes against the record's i8 codes at x8c, scaled by the chunk's i16 splat;
// baseline and wide rows, the i16 products against the record's even and odd i16 codes at xc.
// @ts-ignore: decorator
@inline function chunkDot(w: usize, c: i32, xc: usize, x8c: usize, wide: bool): v128 {
  if (ASC_FEATURE_RELAXED_SIMD && !wide) {
    const p = i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c), v128.load(w + (<usize>c << 4)));
    return i32x4.dot_i16x8_s(p, v128.load(w + 256 + (<usize>c << 4)));
  }
  const wc = w + (<usize>c << 5);
  return i32x4.add(i32x4.dot_i16x8_s(v128.load(wc), v128.load(xc)), i32x4.dot_i16x8_s(v128.load(wc, 16), v128.load(xc, 16)));
}

// Relaxed build, "paired" rows (chunks 2k and 2k + 1 share their scale: Q4_K's and Q5_K's groups of 32): the
// two chunks' i16 pair sums added (|sum| <= 4 * 31 * 128 < 2^15) and then widened and scaled once, one
// i32x4.dot_i16x8_s for 32 values. The same integer sum as chunkDot twice.
// @ts-ignore: decorator
@inline function chunkPairDot(w: usize, c: i32, x8c: usize): v128 {
  const p = i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c), v128.load(w + (<usize>c << 4))), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c, 16), v128.load(w + (<usize>c << 4), 16)));
  return i32x4.dot_i16x8_s(p, v128.load(w + 256 + (<usize>c << 4)));
}

// The record's bsums (at xs) . the block's bsum weights, in four i32 lanes.
// @ts-ignore: decorator
@inline function bsumDot(w: usize, xs: usize): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(v128.load(xs), v128.load(w + OW)), i32x4.dot_i16x8_s(v128.load(xs, 16), v128.load(w + OW, 16)));
}

// One block's value from its integer sums (acc: codes . x codes; xs: the record's bsums) as ggml rounds it.
// @ts-ignore: decorator
@inline function blockValue(w: usize, acc: v128, xs: usize, dx: f32, fold: bool): f32 {
  const off = bsumDot(w, xs);
  if (fold) return <f32>sumLanes(i32x4.add(acc, off)) * (load<f32>(w + OW, 32) * dx);
  return <f32>sumLanes(acc) * (load<f32>(w + OW, 32) * dx) + <f32>sumLanes(off) * (load<f32>(w + OW, 36) * dx);
}

// blockValue for four records at once, lane r for record r (accumulators a0..a3, bsums xs + r s, scales dx
// lane r): in each lane the same f32 operations in the same order as blockValue (an integer sum's order does
// not change it), with the lane sums of the four (sumLanes4) and the f32 products in vectors.
// @ts-ignore: decorator
@inline function blockValues4(w: usize, a0: v128, a1: v128, a2: v128, a3: v128, xs: usize, s: usize, dx: v128, fold: bool): v128 {
  const o0 = bsumDot(w, xs);
  const o1 = bsumDot(w, xs + s);
  const o2 = bsumDot(w, xs + (s << 1));
  const o3 = bsumDot(w, xs + (s << 1) + s);
  const dA = f32x4.mul(f32x4.splat(load<f32>(w + OW, 32)), dx);
  if (fold) return f32x4.mul(f32x4.convert_i32x4_s(sumLanes4(i32x4.add(a0, o0), i32x4.add(a1, o1), i32x4.add(a2, o2), i32x4.add(a3, o3))), dA);
  const dB = f32x4.mul(f32x4.splat(load<f32>(w + OW, 36)), dx);
  return f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(sumLanes4(a0, a1, a2, a3)), dA), f32x4.mul(f32x4.convert_i32x4_s(sumLanes4(o0, o1, o2, o3)), dB));
}

// One unpacked row of nb blocks . one Q8_K record (codes x, x8, scales xd, bsums xs). wide: the row was
// unpacked with unpackChunkWide.
// @ts-ignore: decorator
@inline function idotUnpacked(w: usize, nb: i32, x: usize, x8: usize, xd: usize, xs: usize, fold: bool, wide: bool, paired: bool): f32 {
  let sum: f32 = 0;
  for (let b = 0; b < nb; b++) {
    let acc = i32x4.splat(0);
    if (ASC_FEATURE_RELAXED_SIMD && paired) {
      for (let c = 0; c < 16; c += 2) acc = i32x4.add(acc, chunkPairDot(w, c, x8 + (<usize>c << 4)));
    } else {
      for (let c = 0; c < 16; c++) acc = i32x4.add(acc, chunkDot(w, c, x + (<usize>c << 5), x8 + (<usize>c << 4), wide));
    }
    sum += blockValue(w, acc, xs, load<f32>(xd), fold);
    w += UNPACKED;
    x += 512;
    x8 += 256;
    xd += 4;
    xs += 32;
  }
  return sum;
}

// The same for four records s apart (x, x8, xd, xs: the first one's): each unpacked chunk is loaded once for the
// four, and their block values are taken together (blockValues4). Per record the same operations in the same order as idotUnpacked (a logit of a batch does not depend on
// where its record sits in the batch).
// Results to out, out + os, out + 2 os, out + 3 os.
// @ts-ignore: decorator
@inline function idotUnpacked4(w: usize, nb: i32, x: usize, x8: usize, xd: usize, xs: usize, s: usize, fold: bool, wide: bool, paired: bool, out: usize, os: usize): void {
  let sums = f32x4.splat(0);
  const s2 = s << 1;
  const s3 = s2 + s;
  for (let b = 0; b < nb; b++) {
    let acc0 = i32x4.splat(0);
    let acc1 = i32x4.splat(0);
    let acc2 = i32x4.splat(0);
    let acc3 = i32x4.splat(0);
    // paired rows (relaxed build): two chunks per step, as chunkPairDot
    for (let c = 0; ASC_FEATURE_RELAXED_SIMD && paired && c < 16; c += 2) {
      const x8c = x8 + (<usize>c << 4);
      const w0 = v128.load(w + (<usize>c << 4));
      const w1 = v128.load(w + (<usize>c << 4), 16);
      const sc = v128.load(w + 256 + (<usize>c << 4));
      acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c), w0), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c, 16), w1)), sc));
      acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c + s), w0), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c + s, 16), w1)), sc));
      acc2 = i32x4.add(acc2, i32x4.dot_i16x8_s(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c + s2), w0), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c + s2, 16), w1)), sc));
      acc3 = i32x4.add(acc3, i32x4.dot_i16x8_s(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c + s3), w0), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c + s3, 16), w1)), sc));
    }
    for (let c = 0; !(ASC_FEATURE_RELAXED_SIMD && paired) && c < 16; c++) {
      const xc = x + (<usize>c << 5);
      const x8c = x8 + (<usize>c << 4);
      if (ASC_FEATURE_RELAXED_SIMD && !wide) {
        const wc = v128.load(w + (<usize>c << 4));
        const sc = v128.load(w + 256 + (<usize>c << 4));
        acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c), wc), sc));
        acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c + s), wc), sc));
        acc2 = i32x4.add(acc2, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c + s2), wc), sc));
        acc3 = i32x4.add(acc3, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8c + s3), wc), sc));
      } else {
        const we = v128.load(w + (<usize>c << 5));
        const wo = v128.load(w + (<usize>c << 5), 16);
        acc0 = i32x4.add(acc0, i32x4.add(i32x4.dot_i16x8_s(we, v128.load(xc)), i32x4.dot_i16x8_s(wo, v128.load(xc, 16))));
        acc1 = i32x4.add(acc1, i32x4.add(i32x4.dot_i16x8_s(we, v128.load(xc + s)), i32x4.dot_i16x8_s(wo, v128.load(xc + s, 16))));
        acc2 = i32x4.add(acc2, i32x4.add(i32x4.dot_i16x8_s(we, v128.load(xc + s2)), i32x4.dot_i16x8_s(wo, v128.load(xc + s2, 16))));
        acc3 = i32x4.add(acc3, i32x4.add(i32x4.dot_i16x8_s(we, v128.load(xc + s3)), i32x4.dot_i16x8_s(wo, v128.load(xc + s3, 16))));
      }
    }
    const dx = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(xd)), 1, load<f32>(xd + s)), 2, load<f32>(xd + s2)), 3, load<f32>(xd + s3));
    sums = f32x4.add(sums, blockValues4(w, acc0, acc1, acc2, acc3, xs, s, dx, fold));
    w += UNPACKED;
    x += 512;
    x8 += 256;
    xd += 4;
    xs += 32;
  }
  store<f32>(out, f32x4.extract_lane(sums, 0));
  store<f32>(out + os, f32x4.extract_lane(sums, 1));
  store<f32>(out + (os << 1), f32x4.extract_lane(sums, 2));
  store<f32>(out + (os << 1) + os, f32x4.extract_lane(sums, 3));
}

// One unpacked row (row r of the slice, nb blocks at w) . nx Q8_K records (act, actStride apart): out[b * S + r].
// Records four at a time, then one at a time. fold, wide, paired: as the format unpacked the row (layout above,
// idotUnpackedBatch).
// @ts-ignore: decorator
@inline function batchOf(w: usize, nb: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, r: i32, fold: bool, wide: bool, paired: bool): void {
  const c8 = actCodes8(VEC_Q8_K, dim);
  const cd = actD(VEC_Q8_K, dim);
  const cs = actSums(VEC_Q8_K, dim);
  const os = <usize>stride << 2;
  let b = 0;
  for (; b + 4 <= nx; b += 4) {
    const a = act + <usize>b * actStride;
    idotUnpacked4(w, nb, a, a + c8, a + cd, a + cs, actStride, fold, wide, paired, out + <usize>b * os + (<usize>r << 2), os);
  }
  for (; b < nx; b++) {
    const a = act + <usize>b * actStride;
    store<f32>(out + <usize>b * os + (<usize>r << 2), idotUnpacked(w, nb, a, a + c8, a + cd, a + cs, fold, wide, paired));
  }
}

// batchOf, compiled once per layout of unpacked rows (two copies in the module, three in the relaxed build, not
// one per format; fold is decided once per block, so it stays a runtime flag). paired: chunks 2k and 2k + 1
// share their scale and their codes are at most 31 (chunkPairDot; the relaxed build's narrow layout only).
export function idotUnpackedBatch(w: usize, nb: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, r: i32, fold: bool, wide: bool, paired: bool): void {
  if (wide) batchOf(w, nb, act, actStride, nx, dim, out, stride, r, fold, true, false);
  else if (ASC_FEATURE_RELAXED_SIMD && paired) batchOf(w, nb, act, actStride, nx, dim, out, stride, r, fold, false, true);
  else batchOf(w, nb, act, actStride, nx, dim, out, stride, r, fold, false, false);
}

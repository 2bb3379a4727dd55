// Mode "ggml", batches of Q8_0 / Q8_1 records (activations.ts) over formats of 32-value blocks whose codes take
// an unpack (Q5_0, Q5_1, IQ4_NL, Q4_1): for two or more hidden vectors a row is unpacked once into `scratch` —
// its scales as f32 and its codes as bytes — and each vector's dot then reads those bytes from L1, so the unpack
// (5th bits, level lookups) is paid once per row and batch, not once per vector.
// Keys: NB blocks in the row, NB4 = NB rounded up to 4.
// Layout of an unpacked row (unpackedBytes):
//   [0, 4 NB4)            d_w per block, f32
//   [4 NB4, 8 NB4)        m_w per block, f32 (Q4_1, Q5_1: the minimum; else not read)
//   [8 NB4, 12 NB4)       d_w * d_x of the record being dotted (baseline: d_x / 256, see below)
//   [12 NB4, +32 NB)      the codes, 32 bytes per block in element order
// A block's integer sum: codes . x_codes - offset * (the record's lane sums), then times d_w * d_x, plus (Q8_1
// formats) m_w * s_x apart, as the formats' single-vector kernels and ggml compute it.
import { actCodes8, actD, actD256, actS, actSums } from "./activations";
import { bytesDot } from "./formats/q8_0";
import { MASK_EVEN_HI, MASK_FF00, MASK_ONES16, vconst } from "./vconst";
import { widenPairsM } from "./idot";
import { hsum } from "./madd";

// @ts-ignore: decorator
@inline function nb4Of(nb: i32): usize {
  return <usize>((nb + 3) & ~3);
}

/** Bytes of an unpacked row of nb blocks. */
// @ts-ignore: decorator
@inline export function unpackedBytes(nb: i32): usize {
  return nb4Of(nb) * 12 + (<usize>nb << 5);
}

// Where an unpack writes block b: its d_w, its m_w, its 32 code bytes.
// @ts-ignore: decorator
@inline export function unpackedD(u: usize, b: i32): usize {
  return u + (<usize>b << 2);
}
// @ts-ignore: decorator
@inline export function unpackedM(u: usize, nb: i32, b: i32): usize {
  return u + (nb4Of(nb) << 2) + (<usize>b << 2);
}
// @ts-ignore: decorator
@inline export function unpackedCodes(u: usize, nb: i32, b: i32): usize {
  return u + nb4Of(nb) * 12 + (<usize>b << 5);
}

/**
 * One unpacked row (u, nb blocks) . one record (act, a `kind` record of dim values).
 * q7: the code bytes are 0..127, which the relaxed build dots with i16x8.relaxed_dot_i8x16_i7x16_s (plain sums,
 * d_x); otherwise, and in the baseline build, they pair with the record's i16 codes as 256 * code (q8_0.ts
 * bytesDot; d_x / 256). offsetShift: the codes are offset by 2^offsetShift (Q5_0: 16), taken off lane by lane
 * with the record's lane sums; -1 for none. mins: add sum m_w * s_x (Q8_1 records).
 */
// @ts-ignore: decorator
@inline export function idotUnpacked32(u: usize, nb: i32, act: usize, dim: i32, kind: i32, q7: bool, offsetShift: i32, mins: bool): f32 {
  const relaxed = ASC_FEATURE_RELAXED_SIMD && q7;
  const n4 = nb4Of(nb);
  const ws = u + (n4 << 3);
  // d_w * d_x per block, four at a time (the record's d holds NB4 entries; those past NB are not read later)
  let xd = act + (relaxed ? actD(kind, dim) : actD256(kind, dim));
  for (let b: usize = 0; b < n4; b += 4) {
    v128.store(ws + (b << 2), f32x4.mul(v128.load(u + (b << 2)), v128.load(xd + (b << 2))));
  }
  // the minimum's term over whole fours, then one block at a time (past NB the record holds no s)
  let minSum: f32 = 0;
  if (mins) {
    const xs = act + actS(kind, dim);
    const m = u + (n4 << 2);
    let macc = f32x4.splat(0);
    let b = 0;
    for (; b + 4 <= nb; b += 4) macc = f32x4.add(macc, f32x4.mul(v128.load(m + (<usize>b << 2)), v128.load(xs + (<usize>b << 2))));
    minSum = hsum(macc);
    for (; b < nb; b++) minSum += load<f32>(m + (<usize>b << 2)) * load<f32>(xs + (<usize>b << 2));
  }
  let codes = u + n4 * 12;
  let x = act;
  let x8 = act + actCodes8(kind, dim);
  let xsum = act + actSums(kind, dim);
  let w = ws;
  let acc = f32x4.splat(0);
  const ones = vconst(MASK_ONES16);
  const mff00 = vconst(MASK_FF00);
  const mev = vconst(MASK_EVEN_HI);
  for (let b = 0; b < nb; b++) {
    const lo = v128.load(codes);
    const hi = v128.load(codes, 16);
    let s = relaxed
      ? widenPairsM(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8), lo), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8, 16), hi)), ones)
      : bytesDot(lo, hi, x, mff00, mev);
    if (offsetShift >= 0) s = i32x4.sub(s, i32x4.shl(v128.load(xsum), offsetShift + (relaxed ? 0 : 8)));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), v128.load32_splat(w)));
    codes += 32;
    x += 64;
    x8 += 32;
    xsum += 16;
    w += 4;
  }
  return hsum(acc) + minSum;
}

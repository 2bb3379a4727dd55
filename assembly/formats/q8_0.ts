// Q8_0 rows: blocks of 32 int8 codes sharing one f16 scale. decode: ids -> f32 rows (qs[j] * d, an f32
// product, as ggml's dequantize_row_q8_0); encode: f32 -> blocks, byte-identical to quantize_row_q8_0_ref.
// Keys: V vocab, D dim, N ids, B = 32 elements per block; a row is ceil(D / 32) blocks of 34 bytes.
//   block (34 bytes): [ d f16 | qs[0] i8 | qs[1] | ... | qs[31] ]     element j = qs[j] * d
//                       0-1     2          3           33
import { f16ToF32, f16x4At, f32ToF16, highHalvesToF32M } from "../half";
import { VEC_Q8_0, actD256 } from "../activations";
import { evenHigh } from "../idot";
import { scaleCodes16 } from "../codes";
import { roundAwayX4, x86TruncX4 } from "../cround";
import { hsum } from "../madd";
import { decodeRows } from "./block-rows";
import { CR_HALF, CR_HI, CR_LO, CR_ONE, CR_SIGN, HALF_2P112, HALF_MASK, MASK_EVEN_HI, MASK_FF00, vconst } from "../vconst";

// One whole block: the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class Q8_0Block {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    const d = f32x4.splat(f16ToF32(load<u16>(src)));
    scaleCodes16(dst, v128.load(src, 2), d);
    scaleCodes16(dst + 64, v128.load(src, 18), d);
  }
}

export function decode_q8_0(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<Q8_0Block>(table, rowBytes, ids, n, dim, out, 32, 34);
}

// Encode n f32 values (whole blocks): amax = max |x|, d = amax / 127, q = roundf(x * (1/d)).
// see: ggml-quants.c quantize_row_q8_0_ref
export function encode_q8_0(src: usize, n: usize, dst: usize): void {
  // the rounding constants loaded once (vconst.ts)
  const half = vconst(CR_HALF);
  const sign = vconst(CR_SIGN);
  const one = vconst(CR_ONE);
  const lo = vconst(CR_LO);
  const hi = vconst(CR_HI);
  for (let b: usize = 0; b < n; b += 32) {
    let m = f32x4.abs(v128.load(src));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 16)));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 32)));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 48)));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 64)));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 80)));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 96)));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 112)));
    m = f32x4.max(m, v128.shuffle<f32>(m, m, 2, 3, 0, 1));
    m = f32x4.max(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
    let amax = f32x4.extract_lane(m, 0);
    // without NaN the maximum does not depend on order; with one, replay C's `a > b ? a : b` in order
    if (amax != amax) amax = macroMaxAbs(src);
    const d: f32 = amax / 127.0;
    const id: f32 = d != 0 ? <f32>1.0 / d : 0;
    store<u16>(dst, <u16>f32ToF16(d));
    const idv = f32x4.splat(id);
    store16(dst + 2, src, idv, half, sign, one, lo, hi);
    store16(dst + 18, src + 64, idv, half, sign, one, lo, hi);
    src += 128;
    dst += 34;
  }
}

function macroMaxAbs(src: usize): f32 {
  let amax: f32 = 0;
  for (let j = 0; j < 32; j++) {
    const a = abs<f32>(load<f32>(src + (<usize>j << 2)));
    amax = amax > a ? amax : a;
  }
  return amax;
}

// 16 values -> 16 codes: roundf(x * id) converted as x86 does, low byte kept (C's int -> int8_t)
// @ts-ignore: decorator
@inline function store16(dst: usize, src: usize, idv: v128, half: v128, sign: v128, one: v128, lo: v128, hi: v128): void {
  const q0 = x86TruncX4(roundAwayX4(f32x4.mul(v128.load(src), idv), half, sign, one), lo, hi, sign);
  const q1 = x86TruncX4(roundAwayX4(f32x4.mul(v128.load(src, 16), idv), half, sign, one), lo, hi, sign);
  const q2 = x86TruncX4(roundAwayX4(f32x4.mul(v128.load(src, 32), idv), half, sign, one), lo, hi, sign);
  const q3 = x86TruncX4(roundAwayX4(f32x4.mul(v128.load(src, 48), idv), half, sign, one), lo, hi, sign);
  v128.store(dst, lowBytes(q0, q1, q2, q3));
}

/** The low byte of each i32 lane of four vectors, in order: 16 bytes. */
// @ts-ignore: decorator
@inline export function lowBytes(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i8x16.shuffle(a, b, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
  const cd = i8x16.shuffle(c, d, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
  return i64x2.shuffle(ab, cd, 0, 2);
}

// Exact dot of one Q8_0 row with one f32 vector of `dim` values (whole blocks), straight from the packed bytes:
// per block, sum qs[j] * x[j] in f32 lanes, then scale by d (the same value as summing (qs[j] * d) * x[j],
// one rounding apart). Used by the projection for small batches, where decoding into a scratch costs more.
// mulCodes16: 16 signed codes (as i8) times 16 f32 at x, summed into 4 lanes (Q4_0 and Q2_0 share it).
// @ts-ignore: decorator
@inline export function mulCodes16(q: v128, x: usize): v128 {
  const lo = i16x8.extend_low_i8x16_s(q);
  const hi = i16x8.extend_high_i8x16_s(q);
  const a = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), v128.load(x));
  const b = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), v128.load(x, 16));
  const c = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), v128.load(x, 32));
  const d = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), v128.load(x, 48));
  return f32x4.add(f32x4.add(a, b), f32x4.add(c, d));
}

export function dot_q8_0(row: usize, x: usize, dim: i32): f32 {
  const blocks = dim >> 5; // whole blocks: the caller guarantees it
  let acc = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const sum = f32x4.add(mulCodes16(v128.load(row, 2), x), mulCodes16(v128.load(row, 18), x + 64));
    acc = f32x4.add(acc, f32x4.mul(sum, f32x4.splat(f16ToF32(load<u16>(row)))));
    row += 34;
    x += 128;
  }
  return hsum(acc);
}

// Bag pooling (pool.ts) adds rows straight from the blocks: acc += (w * d) * qs[j], whole blocks only. With
// w = 1 each term is qs[j] * d, the decoded value, so an unweighted sum equals decode-then-add bit for bit.
// add4_q8_0 takes four rows (four independent streams from memory; acc read and written once per four):
//   acc += ((w0 d0) q0 + (w1 d1) q1) + ((w2 d2) q2 + (w3 d3) q3)
export function add_q8_0(acc: usize, row: usize, w: f32, dim: i32): void {
  const blocks = dim >> 5;
  for (let b = 0; b < blocks; b++) {
    const d = f32x4.splat(f16ToF32(load<u16>(row)) * w);
    const q0 = v128.load(row, 2);
    const q1 = v128.load(row, 18);
    v128.store(acc, f32x4.add(v128.load(acc), f32x4.mul(codesLo(q0, 0), d)));
    v128.store(acc, f32x4.add(v128.load(acc, 16), f32x4.mul(codesLo(q0, 1), d)), 16);
    v128.store(acc, f32x4.add(v128.load(acc, 32), f32x4.mul(codesHi(q0, 0), d)), 32);
    v128.store(acc, f32x4.add(v128.load(acc, 48), f32x4.mul(codesHi(q0, 1), d)), 48);
    v128.store(acc, f32x4.add(v128.load(acc, 64), f32x4.mul(codesLo(q1, 0), d)), 64);
    v128.store(acc, f32x4.add(v128.load(acc, 80), f32x4.mul(codesLo(q1, 1), d)), 80);
    v128.store(acc, f32x4.add(v128.load(acc, 96), f32x4.mul(codesHi(q1, 0), d)), 96);
    v128.store(acc, f32x4.add(v128.load(acc, 112), f32x4.mul(codesHi(q1, 1), d)), 112);
    row += 34;
    acc += 128;
  }
}

export function add4_q8_0(acc: usize, r0: usize, r1: usize, r2: usize, r3: usize, w0: f32, w1: f32, w2: f32, w3: f32, dim: i32): void {
  const blocks = dim >> 5;
  for (let b = 0; b < blocks; b++) {
    const d0 = f32x4.splat(f16ToF32(load<u16>(r0)) * w0);
    const d1 = f32x4.splat(f16ToF32(load<u16>(r1)) * w1);
    const d2 = f32x4.splat(f16ToF32(load<u16>(r2)) * w2);
    const d3 = f32x4.splat(f16ToF32(load<u16>(r3)) * w3);
    // 32 codes per row: two 16-byte loads, each widened in four steps of four
    for (let half = 0; half < 2; half++) {
      const o = <usize>(2 + (half << 4));
      const q0 = v128.load(r0 + o);
      const q1 = v128.load(r1 + o);
      const q2 = v128.load(r2 + o);
      const q3 = v128.load(r3 + o);
      const a = acc + (<usize>half << 6);
      v128.store(a, f32x4.add(v128.load(a), sum4(codesLo(q0, 0), d0, codesLo(q1, 0), d1, codesLo(q2, 0), d2, codesLo(q3, 0), d3)));
      v128.store(a, f32x4.add(v128.load(a, 16), sum4(codesLo(q0, 1), d0, codesLo(q1, 1), d1, codesLo(q2, 1), d2, codesLo(q3, 1), d3)), 16);
      v128.store(a, f32x4.add(v128.load(a, 32), sum4(codesHi(q0, 0), d0, codesHi(q1, 0), d1, codesHi(q2, 0), d2, codesHi(q3, 0), d3)), 32);
      v128.store(a, f32x4.add(v128.load(a, 48), sum4(codesHi(q0, 1), d0, codesHi(q1, 1), d1, codesHi(q2, 1), d2, codesHi(q3, 1), d3)), 48);
    }
    r0 += 34;
    r1 += 34;
    r2 += 34;
    r3 += 34;
    acc += 128;
  }
}

// (a da + b db) + (c dc + d dd)
// @ts-ignore: decorator
@inline function sum4(a: v128, da: v128, b: v128, db: v128, c: v128, dc: v128, d: v128, dd: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.mul(a, da), f32x4.mul(b, db)), f32x4.add(f32x4.mul(c, dc), f32x4.mul(d, dd)));
}

// Signed codes 0-3 (quarter 0) or 4-7 (quarter 1) of the low eight of 16, as f32; codesHi: of the high eight.
// @ts-ignore: decorator
@inline function codesLo(q: v128, quarter: i32): v128 {
  const h = i16x8.extend_low_i8x16_s(q);
  return f32x4.convert_i32x4_s(quarter == 0 ? i32x4.extend_low_i16x8_s(h) : i32x4.extend_high_i16x8_s(h));
}
// @ts-ignore: decorator
@inline function codesHi(q: v128, quarter: i32): v128 {
  const h = i16x8.extend_high_i8x16_s(q);
  return f32x4.convert_i32x4_s(quarter == 0 ? i32x4.extend_low_i16x8_s(h) : i32x4.extend_high_i16x8_s(h));
}

// ---- mode "ggml": integer dots with Q8_0 activations (activations.ts), as ggml_vec_dot_q8_0_q8_0 ----
// Per block: the 32 products of weight and activation codes summed exactly in i32, then one f32 multiply by
// d_w * d_x. The 32 code bytes are read as i16 lanes: shl 8 keeps each lane's even byte and `& 0xff00` its
// odd byte, both as 256 * code, which i32x4.dot_i16x8_s pairs with the record's even and odd i16 codes
// (no sign extension); the 256 goes into d_x / 256, a power of two, so the result is unchanged.
// Each row's scales go first, in a pass of their own (rowScalesFinite), then its dots read the row from L1.
// Measured (32000 x 4096, 1 vector, CPU time): folding the scales' conversion into the dot loop, or making
// the next row's scales inside this row's dot loop, took 1.2-1.4x as long — the dot loop then waits on memory
// with its lines few in flight. One vector's dots take rows in pairs where the pair is short (pairRows), so
// each activation load serves two rows; a batch loads each block once per four vectors (idotRow4). Every
// path adds a row's blocks in the same order with the same products: within a build, the same bits for a
// vector alone or in any batch (the relaxed build's fused multiply-add rounds once where the baseline rounds
// twice).

// 256 * (the 16 weight codes w) . (activation codes xe, xo: even, odd), in four i32 lanes; mff00: the mask
// (vconst.ts, loaded once per row).
// @ts-ignore: decorator
@inline function dot16(w: v128, xe: v128, xo: v128, mff00: v128, mev: v128): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(evenHigh(w, mev), xe), i32x4.dot_i16x8_s(v128.and(w, mff00), xo));
}

// 256 * (32 signed weight codes as bytes in element order: lo 0..15, hi 16..31) . the record's 32 i16 codes at
// x, in four i32 lanes (lane i: elements 4i..4i+3 and 16 + 4i..16 + 4i + 3, as the record's lane sums).
// Formats whose codes are bytes after an unpack (Q5_0, Q5_1, IQ4_NL) dot with it too; mff00: vconst(MASK_FF00),
// loaded once per row.
// @ts-ignore: decorator
@inline export function bytesDot(lo: v128, hi: v128, x: usize, mff00: v128, mev: v128): v128 {
  return i32x4.add(dot16(lo, v128.load(x), v128.load(x, 16), mff00, mev), dot16(hi, v128.load(x, 32), v128.load(x, 48), mff00, mev));
}

// 256 * block . 32 activation codes at x.
// @ts-ignore: decorator
@inline function blockDot(blk: usize, x: usize, mff00: v128, mev: v128): v128 {
  return i32x4.add(
    dot16(v128.load(blk, 2), v128.load(x), v128.load(x, 16), mff00, mev),
    dot16(v128.load(blk, 18), v128.load(x, 32), v128.load(x, 48), mff00, mev),
  );
}

// The row's block scales d_w times the activation record's block scales (xd), as f32 into ws (nb f32), four at a
// time (f16x4At), before the row's dot with that record: the per-block work is then one load, and no shuffle
// is needed. (Four blocks' sums reduced into one vector against
// four scales take two-input shuffles, which JavaScriptCore lowers to two pshufb and a por each; a scalar f16
// conversion per block costs V8 more than the row's scales converted at once.)
// @ts-ignore: decorator
@inline export function rowScales(w: usize, blockBytes: usize, nb: i32, xd: usize, ws: usize): void {
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    v128.store(ws, f32x4.mul(f16x4At(w, w + blockBytes, w + 2 * blockBytes, w + 3 * blockBytes), v128.load(xd)));
    w += blockBytes << 2;
    xd += 16;
    ws += 16;
  }
  for (; b < nb; b++) {
    store<f32>(ws, f16ToF32(load<u16>(w)) * load<f32>(xd));
    w += blockBytes;
    xd += 4;
    ws += 4;
  }
}

// ---- a row's block scales, made in a pass before its dots ----
// The pass is the row's first touch of memory, and its loads are mostly misses: it should take few
// instructions per cache line. So the f16 conversion is the plain one for finite halves, its two constants
// loaded once (V8 13 rebuilds a constant vector at each use in a loop): rows with an Inf or NaN scale never
// keep what these kernels compute for them (src/project/project.ts forEachSlice recomputes them with the
// exact kernel; the threaded calls do not take such tables). Q4_0 uses it too.

// The f16 scales of four blocks (at w + k * blockBytes) as f32, exact for finite halves: half.ts
// highHalvesToF32M (hm the mask, hk 2^112).
// @ts-ignore: decorator
@inline function finiteHalves4(w: usize, blockBytes: usize, hm: v128, hk: v128): v128 {
  let hh = v128.load16_lane(w, i32x4.splat(0), 1);
  hh = v128.load16_lane(w + blockBytes, hh, 3);
  hh = v128.load16_lane(w + 2 * blockBytes, hh, 5);
  hh = v128.load16_lane(w + 3 * blockBytes, hh, 7);
  return highHalvesToF32M(hh, hm, hk);
}

// d_w * xd[b] per block into ws (nb f32); xd 0: d_w alone (as rowD). The f32 product is the one rowScales
// makes; blocks past the last four are converted one at a time (no read past the row).
// @ts-ignore: decorator
@inline export function rowScalesFinite(w: usize, blockBytes: usize, nb: i32, xd: usize, ws: usize): void {
  const hm = vconst(HALF_MASK);
  const hk = vconst(HALF_2P112);
  const end4 = ws + (<usize>(nb & ~3) << 2);
  const end = ws + (<usize>nb << 2);
  if (xd == 0) {
    while (ws < end4) {
      v128.store(ws, finiteHalves4(w, blockBytes, hm, hk));
      w += blockBytes << 2;
      ws += 16;
    }
  } else {
    while (ws < end4) {
      v128.store(ws, f32x4.mul(finiteHalves4(w, blockBytes, hm, hk), v128.load(xd)));
      w += blockBytes << 2;
      xd += 16;
      ws += 16;
    }
  }
  while (ws < end) {
    store<f32>(ws, xd == 0 ? f16ToF32(load<u16>(w)) : f16ToF32(load<u16>(w)) * load<f32>(xd));
    w += blockBytes;
    xd += xd == 0 ? 0 : 4;
    ws += 4;
  }
}

// acc + s * scale, s a block's four i32 lane sums (relaxed build: one fused multiply-add, one rounding fewer).
// @ts-ignore: decorator
@inline export function addScaled(acc: v128, s: v128, scale: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(f32x4.convert_i32x4_s(s), scale, acc);
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), scale));
}

// One row of nb blocks (d_w * d_x / 256 already in ws, rowScalesFinite) . one activation record's codes at x, one
// block per step (with four per step V8 11 hoists all 24 loads and spills; the loop tests the row pointer, so
// a step advances three pointers and no counter): the block's lane sums in f32 times its scale, accumulated in
// four lanes.
// @ts-ignore: decorator
@inline function idotRow(w: usize, ws: usize, x: usize, nb: i32): f32 {
  const mff00 = vconst(MASK_FF00);
  const mev = vconst(MASK_EVEN_HI);
  let acc = f32x4.splat(0);
  const end = w + <usize>nb * 34;
  while (w < end) {
    acc = addScaled(acc, blockDot(w, x, mff00, mev), v128.load32_splat(ws));
    w += 34;
    ws += 4;
    x += 64;
  }
  return hsum(acc);
}

// Whether one vector's dots take rows in pairs. A pair computes for twice as long between its scale passes,
// which are where its rows first come from memory; while it computes, the hardware prefetcher runs ahead of
// the last pass by some kilobytes, so a pair of long rows starts its next pass with the second row still in
// memory. Measured (32000 x 4096, 1 vector, CPU time, Node 20 and 24): pairs of 2304-byte Q4_0 rows 0.75-0.9x
// of single rows, pairs of 4352-byte Q8_0 rows 1.1-1.2x, adjacent or half the call apart (from cache, 0.8-0.9x
// for both).
const PAIR_BYTES: usize = 4608;
// @ts-ignore: decorator
@inline export function pairRows(rowBytes: usize): bool {
  return rowBytes * 2 <= PAIR_BYTES;
}

// Two rows (the second rowBytes after the first; scales at ws and ws + wsStride) . one record: each step loads
// the record's 32 codes once for both rows.
// @ts-ignore: decorator
@inline function idotRows2(w: usize, rowBytes: usize, ws: usize, wsStride: usize, x: usize, nb: i32, out: usize): void {
  const mff00 = vconst(MASK_FF00);
  const mev = vconst(MASK_EVEN_HI);
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  const end = w + <usize>nb * 34;
  while (w < end) {
    const x0 = v128.load(x);
    const x1 = v128.load(x, 16);
    const x2 = v128.load(x, 32);
    const x3 = v128.load(x, 48);
    const s0 = i32x4.add(dot16(v128.load(w, 2), x0, x1, mff00, mev), dot16(v128.load(w, 18), x2, x3, mff00, mev));
    acc0 = addScaled(acc0, s0, v128.load32_splat(ws));
    const w1 = w + rowBytes;
    const s1 = i32x4.add(dot16(v128.load(w1, 2), x0, x1, mff00, mev), dot16(v128.load(w1, 18), x2, x3, mff00, mev));
    acc1 = addScaled(acc1, s1, v128.load32_splat(ws + wsStride));
    w += 34;
    ws += 4;
    x += 64;
  }
  store<f32>(out, hsum(acc0));
  store<f32>(out, hsum(acc1), 4);
}

// ---- batches: each row's weights loaded once for four records ----
// For four or more vectors, a row's block scales d_w are converted once (rowScalesFinite), each four records'
// block scales d_w * (d_x / 256) are made from them in one pass (recordScales4), and the vectors go in fours
// (the rest one at a time): each block's 32 codes are loaded and split into
// even and odd i16 lanes once, then dotted with the four records' codes (the row is in L1 after the first
// step). Measured (32000 x 4096, 8 vectors, CPU time): fours took 0.66 of one vector at a time; the scales
// made before the loop, rather than one f32 product per record and block inside it, 0.91-0.95 of that.

// 256 * the block's codes (even ea, eb and odd oa, ob i16 lanes) . the record's 32 codes at x.
// @ts-ignore: decorator
@inline function splitDot(ea: v128, oa: v128, eb: v128, ob: v128, x: usize): v128 {
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(ea, v128.load(x)), i32x4.dot_i16x8_s(oa, v128.load(x, 16))),
    i32x4.add(i32x4.dot_i16x8_s(eb, v128.load(x, 32)), i32x4.dot_i16x8_s(ob, v128.load(x, 48))),
  );
}

// Each record's block scales d_w * (d_x / 256) for the four records of a step (the product rowScales makes),
// into ws + k * wsStride from the row's d_w at dw: the dot loop then reads one splat per record and block.
// q4_0's batches use it too.
// @ts-ignore: decorator
@inline export function recordScales4(dw: usize, nb: i32, d: usize, xs: usize, ws: usize, wsStride: usize): void {
  const end = dw + (<usize>nb << 2);
  while (dw < end) {
    const v = v128.load(dw);
    v128.store(ws, f32x4.mul(v, v128.load(d)));
    v128.store(ws + wsStride, f32x4.mul(v, v128.load(d + xs)));
    v128.store(ws + 2 * wsStride, f32x4.mul(v, v128.load(d + 2 * xs)));
    v128.store(ws + 3 * wsStride, f32x4.mul(v, v128.load(d + 3 * xs)));
    dw += 16;
    d += 16;
    ws += 16;
  }
}

// One row . four records (codes at x + k * xs; block scales at ws + k * wsStride, recordScales4) into
// out + k * os.
// @ts-ignore: decorator
@inline function idotRow4(w: usize, ws: usize, wsStride: usize, nb: i32, x: usize, xs: usize, out: usize, os: usize): void {
  const mff00 = vconst(MASK_FF00);
  const mev = vconst(MASK_EVEN_HI);
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let acc2 = f32x4.splat(0);
  let acc3 = f32x4.splat(0);
  const end = w + <usize>nb * 34;
  while (w < end) {
    const wa = v128.load(w, 2);
    const wb = v128.load(w, 18);
    const ea = evenHigh(wa, mev);
    const oa = v128.and(wa, mff00);
    const eb = evenHigh(wb, mev);
    const ob = v128.and(wb, mff00);
    acc0 = addScaled(acc0, splitDot(ea, oa, eb, ob, x), v128.load32_splat(ws));
    acc1 = addScaled(acc1, splitDot(ea, oa, eb, ob, x + xs), v128.load32_splat(ws + wsStride));
    acc2 = addScaled(acc2, splitDot(ea, oa, eb, ob, x + 2 * xs), v128.load32_splat(ws + 2 * wsStride));
    acc3 = addScaled(acc3, splitDot(ea, oa, eb, ob, x + 3 * xs), v128.load32_splat(ws + 3 * wsStride));
    w += 34;
    ws += 4;
    x += 64;
  }
  store<f32>(out, hsum(acc0));
  store<f32>(out + os, hsum(acc1));
  store<f32>(out + 2 * os, hsum(acc2));
  store<f32>(out + 3 * os, hsum(acc3));
}

// R rows (rowBytes apart) . B activation records (actStride apart): out[b * S + r], f32. scratch: f32 arrays of
// nb (rounded up to four) block scales: two rows' for one record, or a row's d_w and four records'.
// Keys: R = nrows, B = nx, S = stride.
export function idot_q8_0(rows: usize, rowBytes: usize, nrows: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, scratch: usize): void {
  const nb = <i32>(rowBytes / 34);
  const dOff = actD256(VEC_Q8_0, dim);
  // scratch: f32 arrays of nb (rounded up to four) block scales: two rows' (d_w * d_x / 256) for one record at a
  // time, or a row's d_w and then four records' scales
  const st = <usize>((nb + 3) & ~3) << 2;
  const os = <usize>stride << 2;
  const nx4 = nx & ~3;
  if (nx == 1) {
    // the common case on its own, where V8 allocates its registers best
    let r = 0;
    if (pairRows(rowBytes)) for (; r + 2 <= nrows; r += 2) {
      const w = rows + <usize>r * rowBytes;
      rowScalesFinite(w, 34, nb, act + dOff, scratch);
      rowScalesFinite(w + rowBytes, 34, nb, act + dOff, scratch + st);
      idotRows2(w, rowBytes, scratch, st, act, nb, out + (<usize>r << 2));
    }
    for (; r < nrows; r++) {
      const w = rows + <usize>r * rowBytes;
      rowScalesFinite(w, 34, nb, act + dOff, scratch);
      store<f32>(out + (<usize>r << 2), idotRow(w, scratch, act, nb));
    }
    return;
  }
  for (let r = 0; r < nrows; r++) {
    const w = rows + <usize>r * rowBytes;
    const o = out + (<usize>r << 2);
    let b = 0;
    if (nx4 > 0) {
      rowScalesFinite(w, 34, nb, 0, scratch);
      for (; b < nx4; b += 4) {
        const a = act + <usize>b * actStride;
        recordScales4(scratch, nb, a + dOff, actStride, scratch + st, st);
        idotRow4(w, scratch + st, st, nb, a, actStride, o + <usize>b * os, os);
      }
    }
    for (; b < nx; b++) {
      const a = act + <usize>b * actStride;
      rowScalesFinite(w, 34, nb, a + dOff, scratch);
      store<f32>(o + <usize>b * os, idotRow(w, scratch, a, nb));
    }
  }
}

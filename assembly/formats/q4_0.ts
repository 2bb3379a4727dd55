// Q4_0 rows: blocks of 32 4-bit codes sharing one f16 scale; codes are offset by 8. decode: ids -> f32 rows
// ((q - 8) * d in f32, as dequantize_row_q4_0); encode: f32 -> blocks, byte-identical to quantize_row_q4_0_ref.
// Keys: V vocab, D dim, N ids, B = 32 elements per block; a row is ceil(D / 32) blocks of 18 bytes.
//   block (18 bytes): [ d f16 | qs[0] | qs[1] | ... | qs[15] ]
//                       0-1     2       3             17
//   qs[j] = element j in the low nibble (bits 0-3), element j + 16 in the high nibble (bits 4-7)
import { f16ToF32, f32ToF16 } from "../half";
import { VEC_Q8_0, actCodes8, actD, actD256, actSums } from "../activations";
import { widenPairs } from "../idot";
import { scaleCodes16 } from "../codes";
import { x86TruncX4 } from "../cround";
import { addScaled, lowBytes, mulCodes16, pairRows, recordScales4, rowScalesFinite } from "./q8_0";
import { hsum } from "../madd";
import { decodeRows } from "./block-rows";
import { CR_HI, CR_LO, CR_SIGN, MASK_08, MASK_0F, MASK_0F00, vconst } from "../vconst";

// One whole block: the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class Q4_0Block {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    const d = f32x4.splat(f16ToF32(load<u16>(src)));
    const qs = v128.load(src, 2);
    const eight = i8x16.splat(8);
    scaleCodes16(dst, i8x16.sub(v128.and(qs, i8x16.splat(15)), eight), d);
    scaleCodes16(dst + 64, i8x16.sub(i8x16.shr_u(qs, 4), eight), d);
  }
}

export function decode_q4_0(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<Q4_0Block>(table, rowBytes, ids, n, dim, out, 32, 18);
}

// Encode n f32 values (whole blocks): max = the value of largest magnitude (the first one on ties),
// d = max / -8, q = min(15, (int8_t)(x * (1/d) + 8.5)).
// see: ggml-quants.c quantize_row_q4_0_ref
export function encode_q4_0(src: usize, n: usize, dst: usize): void {
  for (let b: usize = 0; b < n; b += 32) {
    const d: f32 = largestMagnitude(src) / -8.0;
    const id: f32 = d != 0 ? <f32>1.0 / d : 0;
    store<u16>(dst, <u16>f32ToF16(d));
    packNibbles(src, dst + 2, f32x4.splat(0), f32x4.splat(id), f32x4.splat(8.5));
    src += 128;
    dst += 18;
  }
}

/**
 * The value of largest magnitude among the 32 at src, keeping its sign (Q4_0 and Q5_0 scale by it): C's
 * `if (amax < fabsf(v)) { amax = fabsf(v); max = v; }` keeps the first value whose |v| beats all before it,
 * so NaN never wins. pmax (a < b ? b : a) ignores NaN the same way.
 */
// @ts-ignore: decorator
@inline export function largestMagnitude(src: usize): f32 {
  let m = f32x4.pmax(f32x4.splat(0), f32x4.abs(v128.load(src)));
  m = f32x4.pmax(m, f32x4.abs(v128.load(src, 16)));
  m = f32x4.pmax(m, f32x4.abs(v128.load(src, 32)));
  m = f32x4.pmax(m, f32x4.abs(v128.load(src, 48)));
  m = f32x4.pmax(m, f32x4.abs(v128.load(src, 64)));
  m = f32x4.pmax(m, f32x4.abs(v128.load(src, 80)));
  m = f32x4.pmax(m, f32x4.abs(v128.load(src, 96)));
  m = f32x4.pmax(m, f32x4.abs(v128.load(src, 112)));
  m = f32x4.pmax(m, v128.shuffle<f32>(m, m, 2, 3, 0, 1));
  m = f32x4.pmax(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
  const amax = f32x4.extract_lane(m, 0);
  if (!(amax > 0)) return 0;
  let p = src;
  while (abs<f32>(load<f32>(p)) != amax) p += 4;
  return load<f32>(p);
}

/**
 * 32 values -> 16 bytes of nibble codes q = min(15, (int8_t)((x - sub) * id + add)), element j low and
 * j + 16 high, as ggml's Q4_0 (sub 0, add 8.5) and Q4_1 (sub min, add 0.5) reference quantizers compute them.
 */
// @ts-ignore: decorator
@inline export function packNibbles(src: usize, dst: usize, sub: v128, id: v128, add: v128): void {
  const lo = lowBytes(
    codeX4(v128.load(src), sub, id, add, 15),
    codeX4(v128.load(src, 16), sub, id, add, 15),
    codeX4(v128.load(src, 32), sub, id, add, 15),
    codeX4(v128.load(src, 48), sub, id, add, 15),
  );
  const hi = lowBytes(
    codeX4(v128.load(src, 64), sub, id, add, 15),
    codeX4(v128.load(src, 80), sub, id, add, 15),
    codeX4(v128.load(src, 96), sub, id, add, 15),
    codeX4(v128.load(src, 112), sub, id, add, 15),
  );
  // as C's `qs = xi0; qs |= xi1 << 4` on bytes: the shift drops what leaves the byte
  v128.store(dst, v128.or(lo, i8x16.shl(hi, 4)));
}

/**
 * Four codes MIN(top, (int8_t)((x - sub) * id + add)), C's float-to-int conversion as x86 does it, each in the
 * low byte of its i32 lane (what a uint8_t keeps): Q4_0, Q4_1 (top 15) and Q5_0 (top 31) quantize with it;
 * Q5_1's plain (uint8_t) cast is top 127, which leaves every int8 as it is.
 */
// @ts-ignore: decorator
@inline export function codeX4(x: v128, sub: v128, id: v128, add: v128, top: i32): v128 {
  // the constants as loads (one instruction each) where V8 13+ would rebuild them at each use in the loop
  const q = x86TruncX4(f32x4.add(f32x4.mul(f32x4.sub(x, sub), id), add), vconst(CR_LO), vconst(CR_HI), vconst(CR_SIGN));
  const q8 = i32x4.shr_s(i32x4.shl(q, 24), 24); // (int8_t): the low byte, signed
  return i32x4.min_s(q8, i32x4.splat(top));
}

// Exact dot of one Q4_0 row with one f32 vector of `dim` values (whole blocks), straight from the packed bytes:
// per block, d * sum((q_j - 8) x_j) (the same value as summing ((q_j - 8) d) x_j, a few roundings apart).
// Used by the projection for small batches, where decoding into a scratch costs more.
export function dot_q4_0(row: usize, x: usize, dim: i32): f32 {
  const blocks = dim >> 5; // whole blocks: the caller guarantees it
  let acc = f32x4.splat(0);
  // masks from memory, once (V8 13 rebuilds a constant vector at each use in a loop; vconst.ts); the high
  // nibbles by a 16-bit shift and the mask (x86 has no byte shift: i8x16.shr_u costs a shift and a mask anyway)
  const eight = vconst(MASK_08);
  const m0f = vconst(MASK_0F);
  for (let b = 0; b < blocks; b++) {
    const qs = v128.load(row, 2);
    // low nibbles are elements 0..15, high nibbles 16..31
    const lo = mulCodes16(i8x16.sub(v128.and(qs, m0f), eight), x);
    const hi = mulCodes16(i8x16.sub(v128.and(i16x8.shr_u(qs, 4), m0f), eight), x + 64);
    acc = f32x4.add(acc, f32x4.mul(f32x4.add(lo, hi), f32x4.splat(f16ToF32(load<u16>(row)))));
    row += 18;
    x += 128;
  }
  return hsum(acc);
}

// Fast mode: the 32 codes of one block as bytes, element order (0..15; the weight is d * (q - 8)).
// @ts-ignore: decorator
@inline export function codes_q4_0(blk: usize, dst: usize): void {
  const qs = v128.load(blk, 2);
  v128.store(dst, v128.and(qs, i8x16.splat(15)));
  v128.store(dst, i8x16.shr_u(qs, 4), 16);
}

// ---- mode "ggml": integer dots with Q8_0 activations (activations.ts), as ggml_vec_dot_q4_0_q8_0 ----
// Per block: sum (q - 8) * x_code = sum q * x_code - 8 * (the record's lane sums), exact in i32 lane by lane,
// then one f32 multiply by d_w * d_x. The 16 code bytes give 32 codes:
//   baseline build: read as i16 lanes (bytes 2i, 2i+1: elements 2i, 2i+1 in the low nibbles, 16 + 2i, 17 + 2i
//     in the high ones), each nibble masked into bits 8-11 (256 * code) and paired with the record's even and
//     odd i16 codes by i32x4.dot_i16x8_s; the 256 goes into d_x / 256;
//   relaxed build: the nibbles as bytes 0..15 (7-bit: exact) times the record's i8 codes in order by
//     i16x8.relaxed_dot_i8x16_i7x16_s, the two halves added in i16 (|sum| <= 4 * 15 * 127), then widened.
// A row streams front to back; every four blocks share the lane sums and the scales' conversion.

// The block's sum of q * x_code (times 256 in the baseline build), in four i32 lanes, from the code parts
// (codeParts) p0..p3. m: the row's mask (relaxed: 0x0f bytes; baseline: 0x0f00 lanes; vconst.ts, loaded
// once per row: V8 13 would rebuild a constant at each use in the loop).
// @ts-ignore: decorator
@inline function partsDot(p0: v128, p1: v128, p2: v128, p3: v128, x: usize, x8: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return widenPairs(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8), p0), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8, 16), p1)));
  }
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(p0, v128.load(x)), i32x4.dot_i16x8_s(p1, v128.load(x, 16))),
    i32x4.add(i32x4.dot_i16x8_s(p2, v128.load(x, 32)), i32x4.dot_i16x8_s(p3, v128.load(x, 48))),
  );
}

// @ts-ignore: decorator
@inline export function blockDotQ(blk: usize, x: usize, x8: usize, m: v128): v128 {
  const q = v128.load(blk, 2);
  if (ASC_FEATURE_RELAXED_SIMD) return partsDot(v128.and(q, m), v128.and(i16x8.shr_u(q, 4), m), q, q, x, x8);
  return partsDot(v128.and(i16x8.shl(q, 8), m), v128.and(q, m), v128.and(i16x8.shl(q, 4), m), v128.and(i16x8.shr_u(q, 4), m), x, x8);
}

// The row's mask for blockDotQ (Q4_1's nibbles, at byte 4: blk + 2, dot with them too).
// @ts-ignore: decorator
@inline export function rowMask(): v128 {
  return vconst(ASC_FEATURE_RELAXED_SIMD ? MASK_0F : MASK_0F00);
}

// baseline: sums times 256 and d / 256; relaxed: plain sums and d
// @ts-ignore: decorator
@inline function sumShift(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 3 : 11;
}
// @ts-ignore: decorator
@inline function dOffset(dim: i32): usize {
  return ASC_FEATURE_RELAXED_SIMD ? actD(VEC_Q8_0, dim) : actD256(VEC_Q8_0, dim);
}

// One row of nb blocks (d_w * d_x already in ws, q8_0.ts rowScalesFinite) . one activation record (act: its
// start; layout offsets from activations.ts), one block per step, no shuffles (see q8_0.ts idotRow).
// @ts-ignore: decorator
@inline function idotRowQ4_0(w: usize, ws: usize, act: usize, dim: i32, nb: i32): f32 {
  const shift = sumShift();
  const m = rowMask();
  let x = act;
  let x8 = act + actCodes8(VEC_Q8_0, dim);
  let xs = act + actSums(VEC_Q8_0, dim);
  let acc = f32x4.splat(0);
  const end = w + <usize>nb * 18;
  while (w < end) {
    // the -8 offset lane by lane (the record's lane sums match the lanes of blockDotQ): every lane stays the exact
    // partial sum of (q - 8) * x_code, so the f32 lanes do not cancel
    const s = i32x4.sub(blockDotQ(w, x, x8, m), i32x4.shl(v128.load(xs), shift));
    acc = addScaled(acc, s, v128.load32_splat(ws));
    w += 18;
    ws += 4;
    x += 64;
    x8 += 32;
    xs += 16;
  }
  return hsum(acc);
}

// 1 in every i16 lane, loaded once per call.
const ONES16 = memory.data<u16>([1, 1, 1, 1, 1, 1, 1, 1], 16);

// Two rows (the second rowBytes after the first; scales at ws and ws + wsStride) . one record, as idotRowQ4_0
// for each: the record's codes and lane sums loaded once for both rows.
// @ts-ignore: decorator
@inline function idotRows2Q4_0(w: usize, rowBytes: usize, ws: usize, wsStride: usize, act: usize, dim: i32, nb: i32, out: usize): void {
  const shift = sumShift();
  const m = rowMask();
  const ones = v128.load(ONES16);
  let x = act;
  let x8 = act + actCodes8(VEC_Q8_0, dim);
  let xs = act + actSums(VEC_Q8_0, dim);
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  const end = w + <usize>nb * 18;
  while (w < end) {
    const off = i32x4.shl(v128.load(xs), shift);
    const q0 = v128.load(w, 2);
    const q1 = v128.load(w + rowBytes, 2);
    let s0: v128, s1: v128;
    if (ASC_FEATURE_RELAXED_SIMD) {
      const xa = v128.load(x8);
      const xb = v128.load(x8, 16);
      // the pairs widened by a dot with ones held in a register (as widenPairs, whose constant V8 13 and
      // JavaScriptCore rebuild at each use in a loop)
      s0 = i32x4.dot_i16x8_s(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(xa, v128.and(q0, m)), i16x8.relaxed_dot_i8x16_i7x16_s(xb, v128.and(i16x8.shr_u(q0, 4), m))), ones);
      s1 = i32x4.dot_i16x8_s(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(xa, v128.and(q1, m)), i16x8.relaxed_dot_i8x16_i7x16_s(xb, v128.and(i16x8.shr_u(q1, 4), m))), ones);
    } else {
      const x0 = v128.load(x);
      const x1 = v128.load(x, 16);
      const x2 = v128.load(x, 32);
      const x3 = v128.load(x, 48);
      s0 = nibbleDot(q0, m, x0, x1, x2, x3);
      s1 = nibbleDot(q1, m, x0, x1, x2, x3);
    }
    acc0 = addScaled(acc0, i32x4.sub(s0, off), v128.load32_splat(ws));
    acc1 = addScaled(acc1, i32x4.sub(s1, off), v128.load32_splat(ws + wsStride));
    w += 18;
    ws += 4;
    x += 64;
    x8 += 32;
    xs += 16;
  }
  store<f32>(out, hsum(acc0));
  store<f32>(out, hsum(acc1), 4);
}

// Baseline build: 256 * the block's codes q (16 bytes of nibbles) . the record's even and odd i16 codes (x0..x3),
// as blockDotQ.
// @ts-ignore: decorator
@inline function nibbleDot(q: v128, m: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(v128.and(i16x8.shl(q, 8), m), x0), i32x4.dot_i16x8_s(v128.and(q, m), x1)),
    i32x4.add(i32x4.dot_i16x8_s(v128.and(i16x8.shl(q, 4), m), x2), i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(q, 4), m), x3)),
  );
}

// One row . four records (the first at act, actStride apart; block scales at ws + k * wsStride) into
// out + k * os: each block's code parts made once for the four; per record the same integer sums, scale and
// f32 steps as idotRowQ4_0 (the same bits as one at a time).
// @ts-ignore: decorator
@inline function idotRow4(w: usize, ws: usize, wsStride: usize, nb: i32, act: usize, actStride: usize, dim: i32, out: usize, os: usize): void {
  const shift = sumShift();
  const m = rowMask();
  const s1 = actStride;
  const s2 = actStride << 1;
  const s3 = actStride * 3;
  let x = act;
  let x8 = act + actCodes8(VEC_Q8_0, dim);
  let xs = act + actSums(VEC_Q8_0, dim);
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let acc2 = f32x4.splat(0);
  let acc3 = f32x4.splat(0);
  const end = w + <usize>nb * 18;
  while (w < end) {
    const q = v128.load(w, 2);
    let p0: v128, p1: v128, p2: v128, p3: v128;
    if (ASC_FEATURE_RELAXED_SIMD) {
      p0 = v128.and(q, m);
      p1 = v128.and(i16x8.shr_u(q, 4), m);
      p2 = q;
      p3 = q;
    } else {
      p0 = v128.and(i16x8.shl(q, 8), m);
      p1 = v128.and(q, m);
      p2 = v128.and(i16x8.shl(q, 4), m);
      p3 = v128.and(i16x8.shr_u(q, 4), m);
    }
    acc0 = addScaled(acc0, i32x4.sub(partsDot(p0, p1, p2, p3, x, x8), i32x4.shl(v128.load(xs), shift)), v128.load32_splat(ws));
    acc1 = addScaled(acc1, i32x4.sub(partsDot(p0, p1, p2, p3, x + s1, x8 + s1), i32x4.shl(v128.load(xs + s1), shift)), v128.load32_splat(ws + wsStride));
    acc2 = addScaled(acc2, i32x4.sub(partsDot(p0, p1, p2, p3, x + s2, x8 + s2), i32x4.shl(v128.load(xs + s2), shift)), v128.load32_splat(ws + 2 * wsStride));
    acc3 = addScaled(acc3, i32x4.sub(partsDot(p0, p1, p2, p3, x + s3, x8 + s3), i32x4.shl(v128.load(xs + s3), shift)), v128.load32_splat(ws + 3 * wsStride));
    w += 18;
    ws += 4;
    x += 64;
    x8 += 32;
    xs += 16;
  }
  store<f32>(out, hsum(acc0));
  store<f32>(out + os, hsum(acc1));
  store<f32>(out + 2 * os, hsum(acc2));
  store<f32>(out + 3 * os, hsum(acc3));
}

// R rows (rowBytes apart) . B activation records (actStride apart): out[b * S + r], f32. scratch: f32 arrays of
// nb (rounded up to four) block scales: two rows' for one record, or a row's d_w and four records'. One
// vector: rows in pairs while short (q8_0.ts pairRows; idotRows2Q4_0). Four or more: each row's d_w converted
// once and the records taken four per load of a block (idotRow4, scales from recordScales4); the rest one at
// a time.
export function idot_q4_0(rows: usize, rowBytes: usize, nrows: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, scratch: usize): void {
  const nb = <i32>(rowBytes / 18);
  const st = <usize>((nb + 3) & ~3) << 2;
  const os = <usize>stride << 2;
  const dOff = dOffset(dim);
  if (nx == 1) {
    // the common case on its own, where V8 allocates its registers best
    let r = 0;
    if (pairRows(rowBytes)) for (; r + 2 <= nrows; r += 2) {
      const w = rows + <usize>r * rowBytes;
      rowScalesFinite(w, 18, nb, act + dOff, scratch);
      rowScalesFinite(w + rowBytes, 18, nb, act + dOff, scratch + st);
      idotRows2Q4_0(w, rowBytes, scratch, st, act, dim, nb, out + (<usize>r << 2));
    }
    for (; r < nrows; r++) {
      const w = rows + <usize>r * rowBytes;
      rowScalesFinite(w, 18, nb, act + dOff, scratch);
      store<f32>(out + (<usize>r << 2), idotRowQ4_0(w, scratch, act, dim, nb));
    }
    return;
  }
  const nx4 = nx & ~3;
  for (let r = 0; r < nrows; r++) {
    const w = rows + <usize>r * rowBytes;
    const o = out + (<usize>r << 2);
    let b = 0;
    if (nx4 > 0) {
      rowScalesFinite(w, 18, nb, 0, scratch);
      for (; b < nx4; b += 4) {
        const a = act + <usize>b * actStride;
        recordScales4(scratch, nb, a + dOff, actStride, scratch + st, st);
        idotRow4(w, scratch + st, st, nb, a, actStride, dim, o + <usize>b * os, os);
      }
    }
    for (; b < nx; b++) {
      const a = act + <usize>b * actStride;
      rowScalesFinite(w, 18, nb, a + dOff, scratch);
      store<f32>(o + <usize>b * os, idotRowQ4_0(w, scratch, a, dim, nb));
    }
  }
}

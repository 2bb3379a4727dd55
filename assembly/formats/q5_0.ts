// Q5_0 rows (ggml type 6): blocks of 32 five-bit codes sharing one f16 scale; codes are offset by 16.
// decode_q5_0: ids -> f32 rows ((q - 16) * d in f32, as dequantize_row_q5_0); dot_q5_0: exact dot from the
// packed row; encode_q5_0: f32 -> blocks, byte-identical to quantize_row_q5_0_ref.
// Keys: D dim, N ids, B = 32 elements per block; a row is ceil(D / 32) blocks of 22 bytes.
//   block (22 bytes): [ d f16 | qh u32 | qs[0] | qs[1] | ... | qs[15] ]
//                       0-1     2-5     6       7             21
//   element j < 16:  low nibble of qs[j]       | (bit j of qh) << 4
//   element j + 16:  high nibble of qs[j]      | (bit j + 16 of qh) << 4
// see: ggml-common.h block_q5_0; ggml-quants.c quantize_row_q5_0_ref, dequantize_row_q5_0.
import { f16ToF32, f32ToF16 } from "../half";
import { scaleCodes16 } from "../codes";
import { hsum } from "../madd";
import { codeX4, largestMagnitude } from "./q4_0";
import { lowBytes, mulCodes16, bytesDot, rowScales } from "./q8_0";
import { decodeRows } from "./block-rows";
import { VEC_Q8_0, actCodes8, actD, actD256, actSums } from "../activations";
import { MASK_0F, MASK_10, MASK_BITS, MASK_FF00, MASK_ONES16, MASK_SPREAD_HI, MASK_SPREAD_LO, vconst } from "../vconst";
import { widenPairsM } from "../idot";
import { lut16 } from "../fast/swizzle";
import { idotUnpacked32, unpackedCodes, unpackedD } from "../idot32";

// The integer dots' loops take their masks loaded once per row (vconst.ts: V8 13+ rebuilds a constant
// vector at each use in a loop): m0f, m10, bits, the spread indices lo / hi (MASK_SPREAD_LO / HI), ones, mff00.

/**
 * A block's 5-bit codes as bytes (0..31), elements 0..15 (spread: the MASK_SPREAD_LO indices) or 16..31
 * (MASK_SPREAD_HI, high: true): the nibbles of the 16 bytes q and the fifth bits of qh (bit j of qh is
 * element j's), the codes of Q5_0 and Q5_1 alike.
 */
// @ts-ignore: decorator
@inline export function codes5(q: v128, qh: u32, high: bool, spread: v128, m0f: v128, m10: v128, bits: v128): v128 {
  const nib = high ? v128.and(i16x8.shr_u(q, 4), m0f) : v128.and(q, m0f);
  const qhBytes = lut16(i32x4.splat(qh), spread);
  return v128.or(nib, v128.and(i8x16.eq(v128.and(qhBytes, bits), bits), m10));
}

/** codes5 with its masks read from memory at the call (decode and unpack: once per block). */
// @ts-ignore: decorator
@inline export function codes5At(q: v128, qh: u32, high: bool): v128 {
  return codes5(q, qh, high, vconst(high ? MASK_SPREAD_HI : MASK_SPREAD_LO), vconst(MASK_0F), vconst(MASK_10), vconst(MASK_BITS));
}

// One whole block: the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class Q5_0Block {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    const d = f32x4.splat(f16ToF32(load<u16>(src)));
    const qh = load<u32>(src, 2);
    const qs = v128.load(src, 6);
    const sixteen = vconst(MASK_10);
    scaleCodes16(dst, i8x16.sub(codes5At(qs, qh, false), sixteen), d);
    scaleCodes16(dst + 64, i8x16.sub(codes5At(qs, qh, true), sixteen), d);
  }
}

export function decode_q5_0(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<Q5_0Block>(table, rowBytes, ids, n, dim, out, 32, 22);
}

// Exact dot of one Q5_0 row with one f32 vector of `dim` values (whole blocks), straight from the packed bytes:
// per block, d * sum((q_j - 16) x_j) (the same value as summing ((q_j - 16) d) x_j, a few roundings apart).
// Used by the projection for small batches, where decoding into a scratch costs more.
export function dot_q5_0(row: usize, x: usize, dim: i32): f32 {
  const blocks = dim >> 5; // whole blocks: the caller guarantees it
  let acc = f32x4.splat(0);
  // the masks loaded once (vconst.ts: V8 13+ rebuilds a constant vector at each use in a loop)
  const m0f = vconst(MASK_0F);
  const m10 = vconst(MASK_10); // also the codes' offset, 16
  const bits = vconst(MASK_BITS);
  const spLo = vconst(MASK_SPREAD_LO);
  const spHi = vconst(MASK_SPREAD_HI);
  for (let b = 0; b < blocks; b++) {
    const qh = load<u32>(row, 2);
    const qs = v128.load(row, 6);
    const lo = mulCodes16(i8x16.sub(codes5(qs, qh, false, spLo, m0f, m10, bits), m10), x);
    const hi = mulCodes16(i8x16.sub(codes5(qs, qh, true, spHi, m0f, m10, bits), m10), x + 64);
    acc = f32x4.add(acc, f32x4.mul(f32x4.add(lo, hi), f32x4.splat(f16ToF32(load<u16>(row)))));
    row += 22;
    x += 128;
  }
  return hsum(acc);
}

// Encode n f32 values (whole blocks): max = the value of largest magnitude (the first one on ties),
// d = max / -16, q = min(31, (int8_t)(x * (1/d) + 16.5)).
// see: ggml-quants.c quantize_row_q5_0_ref
export function encode_q5_0(src: usize, n: usize, dst: usize): void {
  const add = f32x4.splat(16.5);
  const zero = f32x4.splat(0);
  for (let b: usize = 0; b < n; b += 32) {
    const d: f32 = largestMagnitude(src) / -16.0;
    const id = f32x4.splat(d != 0 ? <f32>1.0 / d : 0);
    store<u16>(dst, <u16>f32ToF16(d));
    const lo = lowBytes(
      codeX4(v128.load(src), zero, id, add, 31),
      codeX4(v128.load(src, 16), zero, id, add, 31),
      codeX4(v128.load(src, 32), zero, id, add, 31),
      codeX4(v128.load(src, 48), zero, id, add, 31),
    );
    const hi = lowBytes(
      codeX4(v128.load(src, 64), zero, id, add, 31),
      codeX4(v128.load(src, 80), zero, id, add, 31),
      codeX4(v128.load(src, 96), zero, id, add, 31),
      codeX4(v128.load(src, 112), zero, id, add, 31),
    );
    packFifths(lo, hi, dst + 2, dst + 6);
    src += 128;
    dst += 22;
  }
}

/**
 * The code bytes of elements 0..15 (lo) and 16..31 (hi) of a block into its qh word and nibbles, as ggml's
 * Q5_0 and Q5_1 quantizers pack them: qs[j] = (lo & 15) | (hi & 15) << 4, bit j of qh = bit 4 of element j.
 */
// @ts-ignore: decorator
@inline export function packFifths(lo: v128, hi: v128, qh: usize, qs: usize): void {
  v128.store(qs, v128.or(v128.and(lo, i8x16.splat(15)), i8x16.shl(hi, 4)));
  // bit 4 of each byte to its sign bit, where bitmask reads it
  store<u32>(qh, <u32>i8x16.bitmask(i8x16.shl(lo, 3)) | (<u32>i8x16.bitmask(i8x16.shl(hi, 3)) << 16));
}

// ---- mode "ggml": integer dots with Q8_0 activations (activations.ts), as ggml_vec_dot_q5_0_q8_0 ----
// Per block: sum (q - 16) * x_code = sum q * x_code - 16 * (the record's lane sums), exact in i32 lane by lane,
// then one f32 multiply by d_w * d_x. The 5-bit codes are unpacked to bytes in element order (0..31):
//   relaxed build: times the record's i8 codes by i16x8.relaxed_dot_i8x16_i7x16_s (7-bit: exact), the two
//     halves added in i16 (|sum| <= 4 * 31 * 128), then widened;
//   baseline build: read as i16 lanes and paired with the record's even and odd i16 codes as 256 * code
//     (q8_0.ts bytesDot); the 256 goes into d_x / 256.
// A row streams front to back, one block per step (see q8_0.ts idotRow).

/**
 * A block's 5-bit codes (bytes lo: elements 0..15, hi: 16..31, each 0..31) . its activation codes (x: the
 * record's i16 codes, x8: its i8 codes), times 256 in the baseline build, in four i32 lanes. Q5_1 shares it.
 */
// @ts-ignore: decorator
@inline export function codes5Dot(lo: v128, hi: v128, x: usize, x8: usize, ones: v128, mff00: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return widenPairsM(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8), lo), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x8, 16), hi)), ones);
  }
  return bytesDot(lo, hi, x, mff00, mff00); // baseline only: evenHigh shifts, its index mask unused
}

// One row of nb blocks (BYTES each: qh at QH, the 16 code bytes at QS; d_w * d_x already in ws) . one activation
// record's codes (x: i16, x8: i8), Q5_0's and Q5_1's. shift >= 0 (Q5_0): the offset 16 taken off lane by lane,
// each lane staying the exact partial sum of (q - 16) * x_code, from the record's lane sums at xs shifted by
// `shift`; shift < 0 (Q5_1): no offset (its minimum is added apart).
// @ts-ignore: decorator
@inline export function idotRow5(w: usize, ws: usize, x: usize, x8: usize, xs: usize, shift: i32, nb: i32, BYTES: usize, QH: usize, QS: usize): f32 {
  let acc = f32x4.splat(0);
  const m0f = vconst(MASK_0F);
  const m10 = vconst(MASK_10);
  const bits = vconst(MASK_BITS);
  const spLo = vconst(MASK_SPREAD_LO);
  const spHi = vconst(MASK_SPREAD_HI);
  const ones = vconst(MASK_ONES16);
  const mff00 = vconst(MASK_FF00);
  for (let b = 0; b < nb; b++) {
    const qh = load<u32>(w + QH);
    const q = v128.load(w + QS);
    const lo = codes5(q, qh, false, spLo, m0f, m10, bits);
    const hi = codes5(q, qh, true, spHi, m0f, m10, bits);
    let s = codes5Dot(lo, hi, x, x8, ones, mff00);
    if (shift >= 0) s = i32x4.sub(s, i32x4.shl(v128.load(xs), shift));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), v128.load32_splat(ws)));
    w += BYTES;
    ws += 4;
    x += 64;
    x8 += 32;
    xs += 16;
  }
  return hsum(acc);
}

// One row . one activation record (act: its start), Q5_0's layout; baseline: sums times 256 and d / 256,
// relaxed: plain sums and d.
// @ts-ignore: decorator
@inline function idotRowQ5_0(w: usize, ws: usize, act: usize, dim: i32, nb: i32): f32 {
  return idotRow5(w, ws, act, act + actCodes8(VEC_Q8_0, dim), act + actSums(VEC_Q8_0, dim), ASC_FEATURE_RELAXED_SIMD ? 4 : 12, nb, 22, 2, 6);
}

// A row unpacked for a batch (idot32.ts): d, and the codes 0..31 (the -16 taken off with the lane sums).
function unpackQ5_0(w: usize, nb: i32, u: usize): void {
  for (let b = 0; b < nb; b++) {
    store<f32>(unpackedD(u, b), f16ToF32(load<u16>(w)));
    const qh = load<u32>(w, 2);
    const q = v128.load(w, 6);
    const c = unpackedCodes(u, nb, b);
    v128.store(c, codes5At(q, qh, false));
    v128.store(c, codes5At(q, qh, true), 16);
    w += 22;
  }
}

// R rows (rowBytes apart) . B activation records (actStride apart): out[b * S + r], f32. scratch: a row's
// block scales (4 * blocks bytes), or for two or more records the row unpacked (idot32.ts unpackedBytes).
export function idot_q5_0(rows: usize, rowBytes: usize, nrows: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, scratch: usize): void {
  const nb = <i32>(rowBytes / 22);
  const dOff = ASC_FEATURE_RELAXED_SIMD ? actD(VEC_Q8_0, dim) : actD256(VEC_Q8_0, dim);
  for (let r = 0; r < nrows; r++) {
    const w = rows + <usize>r * rowBytes;
    if (nx >= 2) {
      unpackQ5_0(w, nb, scratch);
      for (let b = 0; b < nx; b++) {
        const v = idotUnpacked32(scratch, nb, act + <usize>b * actStride, dim, VEC_Q8_0, true, 4, false);
        store<f32>(out + ((<usize>b * <usize>stride + <usize>r) << 2), v);
      }
      continue;
    }
    for (let b = 0; b < nx; b++) {
      const a = act + <usize>b * actStride;
      rowScales(w, 22, nb, a + dOff, scratch);
      store<f32>(out + ((<usize>b * <usize>stride + <usize>r) << 2), idotRowQ5_0(w, scratch, a, dim, nb));
    }
  }
}

// Q6_K rows (ggml type 14, the llama.cpp k-quant that Q4_K_M/Q5_K_M model files use for token_embd and
// output.weight): blocks of 256 six-bit codes in 16 groups of 16, an int8 scale per group and an f16 scale d
// per block. decode_q6_k: rows of ids -> f32 (SIMD); dot_q6_k: exact dot from the packed row; encode_q6_k:
// f32 -> blocks, byte-identical to ggml's quantize_row_q6_K_ref.
// Keys: D dim, N ids, B = 256 elements per block (QK_K), 210 bytes per block; h half (128 elements), l 0..31.
//   block: [ ql[128] (bytes 0-127) | qh[64] (128-191) | scales[16] i8 (192-207) | d f16 (208-209, LAST) ]
//   half h uses ql[64h ..], qh[32h ..], scales[8h ..]; element 128h + 32k + l has code
//     q = (low nibble of ql[64h + l + 32 (k & 1)] if k < 2 else its high nibble) | ((qh[32h + l] >> 2k) & 3) << 4
//   and value (d * scales[8h + 2k + l / 16]) * (q - 32), in that order of f32 products, as dequantize_row_q6_K.
// see: ggml-quants.c quantize_row_q6_K_ref, make_qx_quants, dequantize_row_q6_K; ggml-common.h block_q6_K.
import { f16ToF32, f32ToF16 } from "../half";
import { scaleCodes16 } from "../codes";
import { Q6_L_AT, Q6_SCALES_AT, Q6_XT_AT, SCRATCH } from "../scratch";
import { hsum, madd } from "../madd";
import { mulCodes16 } from "./q8_0";
import { UNPACKED, foldValue, foldValues4, scaleLanesHi, scaleLanesLo, unpackBlock, unpackChunk } from "../idot";
import { decodeRows } from "./block-rows";
import { idotRowBlocks, idotRows } from "./idot-rows";
import { GROUP_MAX_EPS, nearestInt, nearestInt4K } from "./kquant-search";
import { KQ_31, KQ_BIAS, KQ_M32, KQ_MAGIC, KQ_MANT, MASK_0F, MASK_20, MASK_30, vconst } from "../vconst";

const QK: i32 = 256;
const BLOCK_BYTES: usize = 210;

// The codes q (0..63) of run k (0..3) for 16 consecutive l: from the 16 ql bytes the run reads (its nibble:
// low for k < 2) and the 16 qh bytes (bits 2k, 2k+1).
// @ts-ignore: decorator
@inline function ucodes(ql: v128, qh: v128, k: i32): v128 {
  const low = k < 2 ? v128.and(ql, i8x16.splat(0x0f)) : v128.and(i16x8.shr_u(ql, 4), i8x16.splat(0x0f));
  // bits 2k, 2k+1 of qh to bits 4, 5: masked first, so the 16-bit shift moves nothing across bytes
  const hiBits = v128.and(qh, i8x16.splat(<i8>(<i32>3 << (2 * k))));
  const high = k == 0 ? i16x8.shl(hiBits, 4) : k == 1 ? i16x8.shl(hiBits, 2) : k == 2 ? hiBits : i16x8.shr_u(hiBits, 2);
  return v128.or(low, high);
}

// The same with the two masks given (0x0f and 0x30 in every byte, m0f and m30): the high bits shifted to bits
// 4, 5 first (16-bit shifts; the mask drops what crosses bytes). Mode "ggml" loads the masks once per row
// (vconst.ts).
// @ts-ignore: decorator
@inline function ucodesM(ql: v128, qh: v128, k: i32, m0f: v128, m30: v128): v128 {
  const low = k < 2 ? v128.and(ql, m0f) : v128.and(i16x8.shr_u(ql, 4), m0f);
  const high = v128.and(k == 0 ? i16x8.shl(qh, 4) : k == 1 ? i16x8.shl(qh, 2) : k == 2 ? qh : i16x8.shr_u(qh, 2), m30);
  return v128.or(low, high);
}

// ucodesM as signed bytes q - 32 (m20: 0x20 in every byte).
// @ts-ignore: decorator
@inline function codesM(ql: v128, qh: v128, k: i32, m0f: v128, m30: v128, m20: v128): v128 {
  return i8x16.sub(ucodesM(ql, qh, k, m0f, m30), m20);
}

// The same as signed bytes q - 32.
// @ts-ignore: decorator
@inline function codes(ql: v128, qh: v128, k: i32): v128 {
  return i8x16.sub(ucodes(ql, qh, k), i8x16.splat(32));
}

// One block (256 f32 at dst).
// @ts-ignore: decorator
@inline function decodeBlock(src: usize, dst: usize): void {
  const d = f16ToF32(load<u16>(src, 208));
  for (let h = 0; h < 2; h++) {
    const ql = src + (<usize>h << 6);
    const qh = src + 128 + (<usize>h << 5);
    const sc = src + 192 + (<usize>h << 3);
    const out = dst + (<usize>h << 9);
    for (let half16 = 0; half16 < 2; half16++) {
      const o = <usize>half16 << 4;
      const a = v128.load(ql + o);
      const b = v128.load(ql + 32 + o);
      const hb = v128.load(qh + o);
      // run k: elements 32k + 16 half16 .. + 15; scale index 2k + half16
      scaleCodes16(out + ((0 + o) << 2), codes(a, hb, 0), f32x4.splat(d * <f32>load<i8>(sc + half16)));
      scaleCodes16(out + ((32 + o) << 2), codes(b, hb, 1), f32x4.splat(d * <f32>load<i8>(sc + 2 + half16)));
      scaleCodes16(out + ((64 + o) << 2), codes(a, hb, 2), f32x4.splat(d * <f32>load<i8>(sc + 4 + half16)));
      scaleCodes16(out + ((96 + o) << 2), codes(b, hb, 3), f32x4.splat(d * <f32>load<i8>(sc + 6 + half16)));
    }
  }
}

// decodeBlock as the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class Q6KBlock {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    decodeBlock(src, dst);
  }
}

export function decode_q6_k(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<Q6KBlock>(table, rowBytes, ids, n, dim, out, QK, BLOCK_BYTES);
}

// Exact-mode dot of one row of whole blocks with f32 x, straight from the packed bytes (no decoded copy):
// per group of 16, (d * scale) times the sum of codes x values. Used by the projection for small batches.
export function dot_q6_k(row: usize, x: usize, dim: i32): f32 {
  const blocks = dim >> 8; // whole blocks: the caller guarantees it
  // the masks from memory, once (V8 13 rebuilds a constant vector at each use in the loop; vconst.ts)
  const m0f = vconst(MASK_0F);
  const m30 = vconst(MASK_30);
  const m20 = vconst(MASK_20);
  let acc = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const d = f16ToF32(load<u16>(row, 208));
    for (let h = 0; h < 2; h++) {
      const ql = row + (<usize>h << 6);
      const qh = row + 128 + (<usize>h << 5);
      const sc = row + 192 + (<usize>h << 3);
      const xh = x + (<usize>h << 9);
      for (let half16 = 0; half16 < 2; half16++) {
        const o = <usize>half16 << 4;
        const a = v128.load(ql + o);
        const c = v128.load(ql + 32 + o);
        const hb = v128.load(qh + o);
        acc = madd(mulCodes16(codesM(a, hb, 0, m0f, m30, m20), xh + (o << 2)), f32x4.splat(d * <f32>load<i8>(sc + half16)), acc);
        acc = madd(mulCodes16(codesM(c, hb, 1, m0f, m30, m20), xh + ((32 + o) << 2)), f32x4.splat(d * <f32>load<i8>(sc + 2 + half16)), acc);
        acc = madd(mulCodes16(codesM(a, hb, 2, m0f, m30, m20), xh + ((64 + o) << 2)), f32x4.splat(d * <f32>load<i8>(sc + 4 + half16)), acc);
        acc = madd(mulCodes16(codesM(c, hb, 3, m0f, m30, m20), xh + ((96 + o) << 2)), f32x4.splat(d * <f32>load<i8>(sc + 6 + half16)), acc);
      }
    }
    row += BLOCK_BYTES;
    x += <usize>QK << 2;
  }
  return hsum(acc);
}

// ---- mode "ggml": integer dots with Q8_K activations (activations.ts), as ggml_vec_dot_q6_K_q8_K ----
// Per block: sum over groups g of scales[g] * sum (q - 32) * x_code, exact in i32, then one f32 multiply by
// d_w * d_x. Codes stay unsigned (0..63): the 32 goes into 32 * sum_g scales[g] * bsums[g] from the record.
// A group's 16 products: baseline build, the code bytes split into even and odd i16 lanes (a mask and a
// shift) against the record's even and odd i16 codes (i32x4.dot_i16x8_s); relaxed build, the code bytes
// (7-bit: exact) against the record's i8 codes (i16x8.relaxed_dot_i8x16_i7x16_s); each group's scale meets its
// sums in one multiply. Two or more vectors: each row is unpacked once (idot.ts idotUnpacked).
// Keys: g group of 16 (0..15), h half (128 values), x the record's i16 codes, x8 its i8 codes.

// Group g's scale times its sum of q * x_code (16 codes u), in four i32 lanes. Relaxed build (groupDotR): the
// i16 pair sums of the codes against the record's i8 codes x8v meet the scale (an i16x8 splat) in one
// i32x4.dot_i16x8_s (widened and scaled at once); baseline (groupDotB): the code bytes split into even and odd
// i16 lanes against the record's i16 codes xlo, xhi, the i32 sums times the scale (an i32x4 splat). No
// shuffles on the codes (JavaScriptCore lowers two-input shuffles to two pshufb and a por). The callers load
// x8v / xlo, xhi at constant offsets from a pointer per half block: JavaScriptCore computes an address like
// x8 + (g << 4) with three instructions before each load, where an immediate offset folds into the load.
// @ts-ignore: decorator
@inline function groupDotR(u: v128, x8v: v128, scale: v128): v128 {
  return i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x8v, u), scale);
}
// @ts-ignore: decorator
@inline function groupDotB(u: v128, xlo: v128, xhi: v128, scale: v128, m00ff: v128): v128 {
  const s = i32x4.add(i32x4.dot_i16x8_s(v128.and(u, m00ff), xlo), i32x4.dot_i16x8_s(i16x8.shr_u(u, 8), xhi));
  return i32x4.mul(s, scale);
}

// One block's integer sum, in four i32 lanes: sum_g scales[g] * sum (q - 32) * x_code. Group 8h + j of half h: run k = j >> 1 of
// the half's codes, values 16 (j & 1) .. of it.
// @ts-ignore: decorator
@inline function idotBlock(blk: usize, x: usize, x8: usize, bsums: usize, m0f: v128, m30: v128, m00ff: v128): v128 {
  let acc = i32x4.splat(0);
  for (let h = 0; h < 2; h++) {
    const ql = blk + (<usize>h << 6);
    const qh = blk + 128 + (<usize>h << 5);
    const s16 = v128.load8x8_s(blk + 192 + (<usize>h << 3));
    // group 8h + j's scale: lane j & 3 of sLo (j < 4) or sHi, as a splat (one pshufd)
    const sLo = scaleLanesLo(s16);
    const sHi = scaleLanesHi(s16);
    const xh = x + (<usize>h << 8);
    const x8h = x8 + (<usize>h << 7);
    const a0 = v128.load(ql);
    const a1 = v128.load(ql, 16);
    const c0 = v128.load(ql, 32);
    const c1 = v128.load(ql, 48);
    const h0 = v128.load(qh);
    const h1 = v128.load(qh, 16);
    if (ASC_FEATURE_RELAXED_SIMD) {
      acc = i32x4.add(acc, i32x4.add(groupDotR(ucodesM(a0, h0, 0, m0f, m30), v128.load(x8h), v128.shuffle<i32>(sLo, sLo, 0, 0, 0, 0)), groupDotR(ucodesM(a1, h1, 0, m0f, m30), v128.load(x8h, 16), v128.shuffle<i32>(sLo, sLo, 1, 1, 1, 1))));
      acc = i32x4.add(acc, i32x4.add(groupDotR(ucodesM(c0, h0, 1, m0f, m30), v128.load(x8h, 32), v128.shuffle<i32>(sLo, sLo, 2, 2, 2, 2)), groupDotR(ucodesM(c1, h1, 1, m0f, m30), v128.load(x8h, 48), v128.shuffle<i32>(sLo, sLo, 3, 3, 3, 3))));
      acc = i32x4.add(acc, i32x4.add(groupDotR(ucodesM(a0, h0, 2, m0f, m30), v128.load(x8h, 64), v128.shuffle<i32>(sHi, sHi, 0, 0, 0, 0)), groupDotR(ucodesM(a1, h1, 2, m0f, m30), v128.load(x8h, 80), v128.shuffle<i32>(sHi, sHi, 1, 1, 1, 1))));
      acc = i32x4.add(acc, i32x4.add(groupDotR(ucodesM(c0, h0, 3, m0f, m30), v128.load(x8h, 96), v128.shuffle<i32>(sHi, sHi, 2, 2, 2, 2)), groupDotR(ucodesM(c1, h1, 3, m0f, m30), v128.load(x8h, 112), v128.shuffle<i32>(sHi, sHi, 3, 3, 3, 3))));
    } else {
      acc = i32x4.add(acc, i32x4.add(groupDotB(ucodesM(a0, h0, 0, m0f, m30), v128.load(xh), v128.load(xh, 16), v128.shuffle<i32>(sLo, sLo, 0, 0, 0, 0), m00ff), groupDotB(ucodesM(a1, h1, 0, m0f, m30), v128.load(xh, 32), v128.load(xh, 48), v128.shuffle<i32>(sLo, sLo, 1, 1, 1, 1), m00ff)));
      acc = i32x4.add(acc, i32x4.add(groupDotB(ucodesM(c0, h0, 1, m0f, m30), v128.load(xh, 64), v128.load(xh, 80), v128.shuffle<i32>(sLo, sLo, 2, 2, 2, 2), m00ff), groupDotB(ucodesM(c1, h1, 1, m0f, m30), v128.load(xh, 96), v128.load(xh, 112), v128.shuffle<i32>(sLo, sLo, 3, 3, 3, 3), m00ff)));
      acc = i32x4.add(acc, i32x4.add(groupDotB(ucodesM(a0, h0, 2, m0f, m30), v128.load(xh, 128), v128.load(xh, 144), v128.shuffle<i32>(sHi, sHi, 0, 0, 0, 0), m00ff), groupDotB(ucodesM(a1, h1, 2, m0f, m30), v128.load(xh, 160), v128.load(xh, 176), v128.shuffle<i32>(sHi, sHi, 1, 1, 1, 1), m00ff)));
      acc = i32x4.add(acc, i32x4.add(groupDotB(ucodesM(c0, h0, 3, m0f, m30), v128.load(xh, 192), v128.load(xh, 208), v128.shuffle<i32>(sHi, sHi, 2, 2, 2, 2), m00ff), groupDotB(ucodesM(c1, h1, 3, m0f, m30), v128.load(xh, 224), v128.load(xh, 240), v128.shuffle<i32>(sHi, sHi, 3, 3, 3, 3), m00ff)));
    }
  }
  // the codes' offset: 32 * sum_g scales[g] * bsums[g]
  const scv = v128.load(blk, 192);
  const off = i32x4.add(i32x4.dot_i16x8_s(v128.load(bsums), i16x8.extend_low_i8x16_s(scv)), i32x4.dot_i16x8_s(v128.load(bsums, 16), i16x8.extend_high_i8x16_s(scv)));
  return i32x4.sub(acc, i32x4.shl(off, 5));
}


// One row of nb blocks unpacked into dst (idot.ts layout): codes 0..63 with their group scales, bsum weights
// -32 * scales (the codes' offset), dA = d.
function unpackRow(w: usize, nb: i32, dst: usize): void {
  const m0f = vconst(MASK_0F);
  const m30 = vconst(MASK_30);
  for (let b = 0; b < nb; b++) {
    const sc = w + 192;
    for (let h = 0; h < 2; h++) {
      const ql = w + (<usize>h << 6);
      const qh = w + 128 + (<usize>h << 5);
      const a0 = v128.load(ql);
      const a1 = v128.load(ql, 16);
      const c0 = v128.load(ql, 32);
      const c1 = v128.load(ql, 48);
      const h0 = v128.load(qh);
      const h1 = v128.load(qh, 16);
      const g = h << 3;
      unpackChunk(dst, g, ucodesM(a0, h0, 0, m0f, m30), <i32>load<i8>(sc + <usize>g));
      unpackChunk(dst, g + 1, ucodesM(a1, h1, 0, m0f, m30), <i32>load<i8>(sc + <usize>(g + 1)));
      unpackChunk(dst, g + 2, ucodesM(c0, h0, 1, m0f, m30), <i32>load<i8>(sc + <usize>(g + 2)));
      unpackChunk(dst, g + 3, ucodesM(c1, h1, 1, m0f, m30), <i32>load<i8>(sc + <usize>(g + 3)));
      unpackChunk(dst, g + 4, ucodesM(a0, h0, 2, m0f, m30), <i32>load<i8>(sc + <usize>(g + 4)));
      unpackChunk(dst, g + 5, ucodesM(a1, h1, 2, m0f, m30), <i32>load<i8>(sc + <usize>(g + 5)));
      unpackChunk(dst, g + 6, ucodesM(c0, h0, 3, m0f, m30), <i32>load<i8>(sc + <usize>(g + 6)));
      unpackChunk(dst, g + 7, ucodesM(c1, h1, 3, m0f, m30), <i32>load<i8>(sc + <usize>(g + 7)));
    }
    const scv = v128.load(sc);
    const m32 = i16x8.splat(-32);
    unpackBlock(dst, i16x8.mul(i16x8.extend_low_i8x16_s(scv), m32), i16x8.mul(i16x8.extend_high_i8x16_s(scv), m32), f16ToF32(load<u16>(w, 208)), 0);
    w += BLOCK_BYTES;
    dst += UNPACKED;
  }
}

// The kernels as idot-rows.ts's kernel type: one vector, the packed row block by block (idotRowBlocks over
// idotBlock and idot.ts foldValue / foldValues4); more, the row unpacked once (unpackRow).
// @ts-ignore: decorator
@final class Q6KDot {
  // @ts-ignore: decorator
  @inline row(w: usize, act: usize, dim: i32, nb: i32): f32 { return idotRowBlocks<Q6KDot>(w, act, dim, nb, BLOCK_BYTES); }
  // @ts-ignore: decorator
  @inline unpack(w: usize, nb: i32, dst: usize): void { unpackRow(w, nb, dst); }
  // @ts-ignore: decorator
  @inline block(blk: usize, x: usize, x8: usize, bsums: usize, m0f: v128, m30: v128, m01: v128, m02: v128, m00ff: v128): v128 { return idotBlock(blk, x, x8, bsums, m0f, m30, m00ff); }
  // @ts-ignore: decorator
  @inline value(sums: v128, blk: usize, dx: f32): f32 { return foldValue(sums, blk + 208, dx); }
  // @ts-ignore: decorator
  @inline values4(s0: v128, s1: v128, s2: v128, s3: v128, blk: usize, dx: v128): v128 { return foldValues4(s0, s1, s2, s3, blk + 208, BLOCK_BYTES, dx); }
}

export function idot_q6_k(rows: usize, rowBytes: usize, nrows: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, scratch: usize): void {
  idotRows<Q6KDot>(rows, rowBytes, nrows, act, actStride, nx, dim, out, stride, scratch, BLOCK_BYTES, true, false, false);
}

// ---- encode: ggml's reference quantizer, operation for operation in f32 ----

// The 256 codes (0..63) of the block being encoded (this and the next two: in the instance's scratch).
// @ts-ignore: decorator
@inline function q6L(): usize {
  return SCRATCH + Q6_L_AT;
}
// The 16 group scales make_qx_quants returned.
// @ts-ignore: decorator
@inline function q6Scales(): usize {
  return SCRATCH + Q6_SCALES_AT;
}
// Four groups transposed: XT[i] = value i of groups g, g+1, g+2, g+3 (one group per lane).
// @ts-ignore: decorator
@inline function q6XT(): usize {
  return SCRATCH + Q6_XT_AT;
}

// ggml's MAX(-nmax, MIN(nmax - 1, nearest_int(v))) for nmax 32 on four lanes (kquant-search.ts nearestInt4K), the
// codes -32..31. Its constants are loaded by the callers once per block (vconst.ts), not written in the
// loops: V8 13+ (Node 24, Deno) builds a constant vector again at each use inside a loop.
// @ts-ignore: decorator
@inline function codes6x4(v: v128, magic: v128, mant: v128, bias: v128, top: v128, bottom: v128): v128 {
  return i32x4.max_s(i32x4.min_s(nearestInt4K(v, magic, mant, bias), top), bottom);
}

// make_qx_quants's sums for one trial iscale per lane (rmse_type 1: weights x^2), each lane summing its
// group's 16 values in order, as the scalar loop does. sumlx is returned, suml2 left in SUML2.
let SUML2: v128 = i32x4.splat(0);
// @ts-ignore: decorator
@inline function trial4(iscale: v128, magic: v128, mant: v128, bias: v128, top: v128, bottom: v128): v128 {
  let sumlx = f32x4.splat(0);
  let suml2 = f32x4.splat(0);
  for (let i = 0; i < 16; i++) {
    const xi = v128.load(q6XT() + (<usize>i << 4));
    const l = f32x4.convert_i32x4_s(codes6x4(f32x4.mul(iscale, xi), magic, mant, bias, top, bottom));
    const w = f32x4.mul(xi, xi);
    sumlx = f32x4.add(sumlx, f32x4.mul(f32x4.mul(w, xi), l));
    suml2 = f32x4.add(suml2, f32x4.mul(f32x4.mul(w, l), l));
  }
  SUML2 = suml2;
  return sumlx;
}

// make_qx_quants(16, 32, x, L, rmse_type 1, no weights) for the four groups of 16 values at x (64 bytes
// apart), one per lane: codes to l (16 per group), scales to scales. Lane for lane the same f32 operations in
// the same order as ggml's scalar loop; its "keep the best trial" branch becomes a select, and the codes are
// computed once from the winning iscale (they are the ones the scalar loop would have kept).
function makeQxQuants4(x: usize, l: usize, scales: usize): void {
  const magic = vconst(KQ_MAGIC);
  const mant = vconst(KQ_MANT);
  const bias = vconst(KQ_BIAS);
  const top = vconst(KQ_31);
  const bottom = vconst(KQ_M32);
  for (let i = 0; i < 16; i += 4) {
    const r0 = v128.load(x + (<usize>i << 2));
    const r1 = v128.load(x + 64 + (<usize>i << 2));
    const r2 = v128.load(x + 128 + (<usize>i << 2));
    const r3 = v128.load(x + 192 + (<usize>i << 2));
    const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
    const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
    const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
    const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
    const at = q6XT() + (<usize>i << 4);
    v128.store(at, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
    v128.store(at, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
    v128.store(at, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
    v128.store(at, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
  }
  // the value of largest |x| (`if (ax > amax)`: the first of equals, NaN never)
  let amax = f32x4.splat(0);
  let max = f32x4.splat(0);
  for (let i = 0; i < 16; i++) {
    const xi = v128.load(q6XT() + (<usize>i << 4));
    const ax = f32x4.abs(xi);
    const gt = f32x4.gt(ax, amax);
    amax = v128.bitselect(ax, amax, gt);
    max = v128.bitselect(xi, max, gt);
  }
  const quiet = f32x4.lt(amax, f32x4.splat(GROUP_MAX_EPS)); // these groups quantize to zero
  let iscale = f32x4.div(f32x4.splat(-32), max);
  let bestIscale = iscale;
  let sumlx = trial4(iscale, magic, mant, bias, top, bottom);
  let suml2 = SUML2;
  let scale = v128.and(f32x4.div(sumlx, suml2), f32x4.ne(suml2, f32x4.splat(0)));
  let best = f32x4.mul(scale, sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is == 0) continue;
    iscale = f32x4.div(f32x4.neg(f32x4.splat(<f32>32 + <f32>0.1 * <f32>is)), max);
    sumlx = trial4(iscale, magic, mant, bias, top, bottom);
    suml2 = SUML2;
    const better = v128.and(f32x4.gt(suml2, f32x4.splat(0)), f32x4.gt(f32x4.mul(sumlx, sumlx), f32x4.mul(best, suml2)));
    const s = f32x4.div(sumlx, suml2);
    scale = v128.bitselect(s, scale, better);
    best = v128.bitselect(f32x4.mul(s, sumlx), best, better);
    bestIscale = v128.bitselect(iscale, bestIscale, better);
  }
  v128.store(scales, v128.andnot(scale, quiet));
  for (let i = 0; i < 16; i++) {
    const q = v128.andnot(i32x4.sub(codes6x4(f32x4.mul(bestIscale, v128.load(q6XT() + (<usize>i << 4))), magic, mant, bias, top, bottom), bottom), quiet);
    store<u8>(l + i, <u8>i32x4.extract_lane(q, 0));
    store<u8>(l + 16 + i, <u8>i32x4.extract_lane(q, 1));
    store<u8>(l + 32 + i, <u8>i32x4.extract_lane(q, 2));
    store<u8>(l + 48 + i, <u8>i32x4.extract_lane(q, 3));
  }
}

// Encode n f32 values (whole blocks of 256), as quantize_row_q6_K_ref.
export function encode_q6_k(src: usize, n: usize, dst: usize): void {
  const magic = vconst(KQ_MAGIC);
  const mant = vconst(KQ_MANT);
  const bias = vconst(KQ_BIAS);
  const top = vconst(KQ_31);
  const bottom = vconst(KQ_M32);
  for (let b: usize = 0; b < n; b += <usize>QK) {
    const x = src + (b << 2);
    const y = dst + (b / <usize>QK) * BLOCK_BYTES;
    let maxScale: f32 = 0;
    let maxAbsScale: f32 = 0;
    for (let g = 0; g < 16; g += 4) makeQxQuants4(x + (<usize>g << 6), q6L() + (<usize>g << 4), q6Scales() + (<usize>g << 2));
    for (let g = 0; g < 16; g++) {
      const scale = load<f32>(q6Scales() + (<usize>g << 2));
      const a = abs<f32>(scale);
      if (a > maxAbsScale) {
        maxAbsScale = a;
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) {
      memory.fill(y, 0, BLOCK_BYTES);
      continue;
    }
    const iscale: f32 = <f32>-128 / maxScale;
    const dh = f32ToF16(<f32>1 / iscale);
    store<u16>(y, <u16>dh, 208);
    for (let g = 0; g < 16; g++) {
      const q = nearestInt(iscale * load<f32>(q6Scales() + (<usize>g << 2)));
      store<i8>(y + 192 + g, <i8>(q < 127 ? q : 127));
    }
    const dd = f16ToF32(dh);
    for (let g = 0; g < 16; g++) {
      const d: f32 = dd * <f32>load<i8>(y + 192 + g);
      if (d == 0) continue;
      const dv = f32x4.splat(d);
      const xg = x + (<usize>g << 6);
      const c0 = codes6x4(f32x4.div(v128.load(xg), dv), magic, mant, bias, top, bottom);
      const c1 = codes6x4(f32x4.div(v128.load(xg, 16), dv), magic, mant, bias, top, bottom);
      const c2 = codes6x4(f32x4.div(v128.load(xg, 32), dv), magic, mant, bias, top, bottom);
      const c3 = codes6x4(f32x4.div(v128.load(xg, 48), dv), magic, mant, bias, top, bottom);
      const c = i8x16.add(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3)), i8x16.splat(32));
      v128.store(q6L() + (<usize>g << 4), c);
    }
    // pack: per half, ql[l] = q(l) | q(l + 64) << 4, ql[l + 32] = q(l + 32) | q(l + 96) << 4,
    // qh[l] = the top two bits of q(l), q(l + 32), q(l + 64), q(l + 96)
    for (let h = 0; h < 2; h++) {
      const lh = q6L() + (<usize>h << 7);
      for (let l = 0; l < 32; l++) {
        const q1 = <u32>load<u8>(lh + l);
        const q2 = <u32>load<u8>(lh + 32 + l);
        const q3 = <u32>load<u8>(lh + 64 + l);
        const q4 = <u32>load<u8>(lh + 96 + l);
        store<u8>(y + (<usize>h << 6) + l, <u8>((q1 & 15) | ((q3 & 15) << 4)));
        store<u8>(y + (<usize>h << 6) + 32 + l, <u8>((q2 & 15) | ((q4 & 15) << 4)));
        store<u8>(y + 128 + (<usize>h << 5) + l, <u8>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)));
      }
    }
  }
}

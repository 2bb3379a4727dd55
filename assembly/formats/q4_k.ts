// Q4_K rows (ggml type 12, the k-quant of token_embd.weight in llama.cpp's Q4_K_M files of untied models):
// blocks of 256 four-bit codes in 8 groups of 32, each group with a 6-bit scale and a 6-bit minimum under two
// f16 super-scales. decode_q4_k: rows of ids -> f32 (SIMD), bit-identical to dequantize_row_q4_K; dot_q4_k:
// exact dot from the packed row; encode_q4_k: f32 -> blocks, byte-identical to quantize_row_q4_K_ref.
// Keys: D dim, N ids, B = 256 values per block (QK_K), 144 bytes per block; group j = 0..7, pair p = 0..3.
//   block: [ d f16 | dmin f16 | scales[12] | qs[128]  ]
//            0-1     2-3       4-15         16-143
//   qs[32p + l], l = 0..31: low nibble = element 64p + l (group 2p), high nibble = element 64p + 32 + l
//   (group 2p + 1). Group j's codes sc, m come from scales[] as kquants.ts draws; element value
//   (d * sc) * q - (dmin * m), rounded after each operation.
// see: ggml-quants.c quantize_row_q4_K_ref, dequantize_row_q4_K; ggml-common.h block_q4_K.
import { f16ToF32 } from "../half";
import { hsum } from "../madd";
import { KQ_ISCALE, KQ_SHIFT, blockSums, blockValue, blockValues4, dotCodes16, expandCodes16, groupCodes16, makeQkx2x4, packHeader, pairDot, scaleCodesI16, scaleMin, scalesMins, unpackMins, unpackPair } from "../kquants";
import { MASK_0F, vconst } from "../vconst";
import { UNPACKED, scaleLanesHi, scaleLanesLo } from "../idot";
import { decodeRows } from "./block-rows";
import { idotRowBlocks, idotRows } from "./idot-rows";

const QK: i32 = 256;
const BLOCK_BYTES: usize = 144;
const QS: usize = 16;

// Group j's scale d * sc and offset dmin * m in the block at src (one f32 product each, as ggml rounds them).
// @ts-ignore: decorator
@inline function groupScale(src: usize, d: f32, j: i32): f32 {
  return d * <f32>(scaleMin(j, src) & 255);
}
// @ts-ignore: decorator
@inline function groupMin(src: usize, dmin: f32, j: i32): f32 {
  return dmin * <f32>(scaleMin(j, src) >> 8);
}

// One whole block (256 f32 at dst).
// @ts-ignore: decorator
@inline function decodeBlock(src: usize, dst: usize): void {
  const d = f16ToF32(load<u16>(src));
  const dmin = f16ToF32(load<u16>(src, 2));
  for (let p = 0; p < 4; p++) {
    const dA = f32x4.splat(groupScale(src, d, 2 * p));
    const mA = f32x4.splat(groupMin(src, dmin, 2 * p));
    const dB = f32x4.splat(groupScale(src, d, 2 * p + 1));
    const mB = f32x4.splat(groupMin(src, dmin, 2 * p + 1));
    const q0 = v128.load(src + QS + (<usize>p << 5));
    const q1 = v128.load(src + QS + (<usize>p << 5), 16);
    const o = dst + (<usize>p << 8);
    expandCodes16(o, v128.and(q0, i8x16.splat(15)), dA, mA);
    expandCodes16(o + 64, v128.and(q1, i8x16.splat(15)), dA, mA);
    expandCodes16(o + 128, i8x16.shr_u(q0, 4), dB, mB);
    expandCodes16(o + 192, i8x16.shr_u(q1, 4), dB, mB);
  }
}

// decodeBlock as the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class Q4KBlock {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    decodeBlock(src, dst);
  }
}

export function decode_q4_k(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<Q4KBlock>(table, rowBytes, ids, n, dim, out, QK, BLOCK_BYTES);
}

// Exact-mode dot of one row (dim a multiple of 256) with f32 x, straight from the packed bytes: each value
// decoded in registers as decode does, times x, summed (only the order of the sums differs from a dot over
// the decoded row). Two accumulators: the values l < 16 and l >= 16 of each group.
export function dot_q4_k(row: usize, x: usize, dim: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  // the mask from memory, once (V8 13 rebuilds a constant vector at each use in a loop); the high nibbles by a
  // 16-bit shift and the mask, as dot_q4_1
  const m0f = vconst(MASK_0F);
  for (let b = 0; b < dim; b += QK) {
    const d = f16ToF32(load<u16>(row));
    const dmin = f16ToF32(load<u16>(row, 2));
    for (let p = 0; p < 4; p++) {
      const dA = f32x4.splat(groupScale(row, d, 2 * p));
      const mA = f32x4.splat(groupMin(row, dmin, 2 * p));
      const dB = f32x4.splat(groupScale(row, d, 2 * p + 1));
      const mB = f32x4.splat(groupMin(row, dmin, 2 * p + 1));
      const q0 = v128.load(row + QS + (<usize>p << 5));
      const q1 = v128.load(row + QS + (<usize>p << 5), 16);
      const xp = x + (<usize>p << 8);
      acc0 = dotCodes16(v128.and(q0, m0f), dA, mA, xp, acc0);
      acc1 = dotCodes16(v128.and(q1, m0f), dA, mA, xp + 64, acc1);
      acc0 = dotCodes16(v128.and(i16x8.shr_u(q0, 4), m0f), dB, mB, xp + 128, acc0);
      acc1 = dotCodes16(v128.and(i16x8.shr_u(q1, 4), m0f), dB, mB, xp + 192, acc1);
    }
    row += BLOCK_BYTES;
    x += <usize>QK << 2;
  }
  return hsum(f32x4.add(acc0, acc1));
}

// ---- mode "ggml": integer dots with Q8_K activations (activations.ts), as ggml_vec_dot_q4_K_q8_K ----
// Per block: sum_j sc_j * (sum over group j of q * x_code) and sum_j m_j * (group j's activation sum), exact
// in i32 (kquants.ts), then d_x * d and d_x * dmin, one f32 multiply each. One pair of groups per step (with
// the whole block in one step V8 hoists all its loads and spills); every second step four groups meet their
// scale codes.

// Pair p's codes (groups 2p: low nibbles, 2p + 1: high nibbles) . the record, scaled by sA and sB.
// @ts-ignore: decorator
@inline function pairCodesDot(blk: usize, x: usize, x8: usize, p: i32, sA: v128, sB: v128, m0f: v128, m00ff: v128): v128 {
  const q0 = v128.load(blk + QS + (<usize>p << 5));
  const q1 = v128.load(blk + QS + (<usize>p << 5), 16);
  const lo0 = v128.and(q0, m0f);
  const lo1 = v128.and(q1, m0f);
  const hi0 = v128.and(i16x8.shr_u(q0, 4), m0f);
  const hi1 = v128.and(i16x8.shr_u(q1, 4), m0f);
  return pairDot(lo0, lo1, hi0, hi1, x, x8, p, sA, sB, m00ff);
}

// One block's two integer sums (kquants.ts blockSums): sum_j sc_j * isum_j and sum_j m_j * bsum_j. Two
// pairs per step; group 4h + j's scale code is lane j of sv (idot.ts scaleLanesLo, then Hi), splat by one
// pshufd.
// @ts-ignore: decorator
@inline function idotBlock(blk: usize, x: usize, x8: usize, bsums: usize, m0f: v128, m00ff: v128): v128 {
  const sm = scalesMins(blk);
  const s16 = scaleCodesI16(sm);
  let sv = scaleLanesLo(s16);
  const svHi = scaleLanesHi(s16);
  let acc = i32x4.splat(0);
  for (let h = 0; h < 2; h++) {
    acc = i32x4.add(acc, pairCodesDot(blk, x, x8, 2 * h, v128.shuffle<i32>(sv, sv, 0, 0, 0, 0), v128.shuffle<i32>(sv, sv, 1, 1, 1, 1), m0f, m00ff));
    acc = i32x4.add(acc, pairCodesDot(blk, x, x8, 2 * h + 1, v128.shuffle<i32>(sv, sv, 2, 2, 2, 2), v128.shuffle<i32>(sv, sv, 3, 3, 3, 3), m0f, m00ff));
    sv = svHi;
  }
  return blockSums(acc, sm, bsums);
}


// One row of nb blocks unpacked into dst (idot.ts layout): codes with their groups' scale codes, bsum weights
// the minimum codes (each twice: two bsums per group of 32), dA = d, dB = -dmin.
function unpackRow(w: usize, nb: i32, dst: usize): void {
  const m0f = vconst(MASK_0F);
  for (let b = 0; b < nb; b++) {
    const sm = scalesMins(w);
    const scA = <u32>i32x4.extract_lane(sm, 0);
    const scB = <u32>i32x4.extract_lane(sm, 1);
    for (let p = 0; p < 4; p++) {
      const q0 = v128.load(w + QS + (<usize>p << 5));
      const q1 = v128.load(w + QS + (<usize>p << 5), 16);
      const lo0 = v128.and(q0, m0f);
      const lo1 = v128.and(q1, m0f);
      const hi0 = v128.and(i16x8.shr_u(q0, 4), m0f);
      const hi1 = v128.and(i16x8.shr_u(q1, 4), m0f);
      unpackPair(dst, lo0, lo1, hi0, hi1, p, scA, scB);
    }
    unpackMins(dst, sm, w);
    w += BLOCK_BYTES;
    dst += UNPACKED;
  }
}

// The kernels as idot-rows.ts's kernel type: one vector, the packed row block by block (idotRowBlocks over
// idotBlock and kquants.ts blockValue / blockValues4); more, the row unpacked once (unpackRow).
// @ts-ignore: decorator
@final class Q4KDot {
  // @ts-ignore: decorator
  @inline row(w: usize, act: usize, dim: i32, nb: i32): f32 { return idotRowBlocks<Q4KDot>(w, act, dim, nb, BLOCK_BYTES); }
  // @ts-ignore: decorator
  @inline unpack(w: usize, nb: i32, dst: usize): void { unpackRow(w, nb, dst); }
  // @ts-ignore: decorator
  @inline block(blk: usize, x: usize, x8: usize, bsums: usize, m0f: v128, m30: v128, m01: v128, m02: v128, m00ff: v128): v128 { return idotBlock(blk, x, x8, bsums, m0f, m00ff); }
  // @ts-ignore: decorator
  @inline value(sums: v128, blk: usize, dx: f32): f32 { return blockValue(sums, blk, dx); }
  // @ts-ignore: decorator
  @inline values4(s0: v128, s1: v128, s2: v128, s3: v128, blk: usize, dx: v128): v128 { return blockValues4(s0, s1, s2, s3, blk, BLOCK_BYTES, dx); }
}

export function idot_q4_k(rows: usize, rowBytes: usize, nrows: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, scratch: usize): void {
  idotRows<Q4KDot>(rows, rowBytes, nrows, act, actStride, nx, dim, out, stride, scratch, BLOCK_BYTES, false, false, true);
}

// ---- encode: ggml's reference quantizer, operation for operation in f32 ----

// The codes of groups 2p (low nibbles) and 2p + 1 (high nibbles) into qs[32p ..], with each group's
// fallback trial (iscale, shift) for a zero d (see groupCodes16).
function packPair(y: usize, x: usize, p: i32, d: f32, dmin: f32, isA: f32, shA: f32, isB: f32, shB: f32): void {
  const dA = groupScale(y, d, 2 * p);
  const mA = groupMin(y, dmin, 2 * p);
  const dB = groupScale(y, d, 2 * p + 1);
  const mB = groupMin(y, dmin, 2 * p + 1);
  const xa = x + (<usize>p << 8);
  const q = y + QS + (<usize>p << 5);
  for (let h = 0; h < 2; h++) {
    const lo = groupCodes16(xa + (<usize>h << 6), dA, mA, isA, shA, 15);
    const hi = groupCodes16(xa + 128 + (<usize>h << 6), dB, mB, isB, shB, 15);
    // codes are 0..15: the 16-bit shift carries nothing into the next byte
    v128.store(q + (<usize>h << 4), v128.or(lo, i16x8.shl(hi, 4)));
  }
}

// Encode n f32 values (whole blocks of 256), as quantize_row_q4_K_ref: make_qkx2_quants(32, 15, rmin -1,
// rdelta 0.1, 20 steps) per group, four groups per call; then the header; then the codes. The block's own
// qs[] bytes hold make_qkx2_quants's results until the codes overwrite them (no memory outside dst).
export function encode_q4_k(src: usize, n: usize, dst: usize): void {
  for (let b: usize = 0; b < n; b += <usize>QK) {
    const x = src + (b << 2);
    const y = dst + (b / <usize>QK) * BLOCK_BYTES;
    const scratch = y + QS;
    makeQkx2x4(x, 15, -1, 20, scratch);
    makeQkx2x4(x + 512, 15, -1, 20, scratch + 16);
    packHeader(scratch, y);
    // the kept trials, read before the codes overwrite them
    const is0 = v128.load(scratch + KQ_ISCALE);
    const is1 = v128.load(scratch + KQ_ISCALE + 16);
    const sh0 = v128.load(scratch + KQ_SHIFT);
    const sh1 = v128.load(scratch + KQ_SHIFT + 16);
    const d = f16ToF32(load<u16>(y));
    const dmin = f16ToF32(load<u16>(y, 2));
    packPair(y, x, 0, d, dmin, f32x4.extract_lane(is0, 0), f32x4.extract_lane(sh0, 0), f32x4.extract_lane(is0, 1), f32x4.extract_lane(sh0, 1));
    packPair(y, x, 1, d, dmin, f32x4.extract_lane(is0, 2), f32x4.extract_lane(sh0, 2), f32x4.extract_lane(is0, 3), f32x4.extract_lane(sh0, 3));
    packPair(y, x, 2, d, dmin, f32x4.extract_lane(is1, 0), f32x4.extract_lane(sh1, 0), f32x4.extract_lane(is1, 1), f32x4.extract_lane(sh1, 1));
    packPair(y, x, 3, d, dmin, f32x4.extract_lane(is1, 2), f32x4.extract_lane(sh1, 2), f32x4.extract_lane(is1, 3), f32x4.extract_lane(sh1, 3));
  }
}

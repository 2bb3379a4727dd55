// Q2_K rows (ggml type 10, the 2-bit k-quant of llama.cpp's Q2_K files): blocks of 256 two-bit codes in 16
// groups of 16, each group with a 4-bit scale and a 4-bit min, and f16 d and dmin per block.
// decode_q2_k: rows of ids -> f32 (SIMD); dot_q2_k: exact dot from the packed row; encode_q2_k: f32 -> blocks,
// byte-identical to ggml's quantize_row_q2_K_ref (make_qkx2_quants four groups at a time, kquant-search.ts).
// Keys: D dim, N ids, B = 256 elements per block (QK_K), 84 bytes per block; g group 0..15, h half, k 0..3, c 0..1.
//   block: [ scales[16] (bytes 0-15) | qs[64] (16-79) | d f16 (80-81) | dmin f16 (82-83) ]
//   scales[g]: low nibble scale s_g, high nibble min m_g
//   element e = 128h + 32k + 16c + l is in group g = 8h + 2k + c (groups are runs of 16 in element order):
//     code q = (qs[32h + 16c + l] >> 2k) & 3      qs byte: [ k=3 | k=2 | k=1 | k=0 ] (bits 7-6 ... 1-0)
//   value (d * s_g) * q - dmin * m_g, in that order of f32 operations, as dequantize_row_q2_K.
// see: ggml-quants.c quantize_row_q2_K_ref, make_qkx2_quants, dequantize_row_q2_K; ggml-common.h block_q2_K.
import { f16ToF32, f32ToF16 } from "../half";
import { hsum, madd } from "../madd";
import { clamp03, maxAbove0, nearestInt4, q2kSearch4 } from "./kquant-search";
import { MASK_00FF, MASK_03, MASK_0F, vconst } from "../vconst";
import { UNPACKED, laneSplat, scaleLanesHi, scaleLanesLo, scaledDotLane, unpackBlock, unpackChunk } from "../idot";
import { decodeRows } from "./block-rows";
import { idotRowBlocks, idotRows } from "./idot-rows";
import { blockValue, blockValues4, lanePairs } from "../kquants";

const QK: i32 = 256;
const BLOCK_BYTES: usize = 84;

// The 16 codes (bytes 0..3) of group g: bits 2k, 2k+1 of the 16 qs bytes of (h, c). The 16-bit shift moves
// bits across bytes only into bits the mask clears.
// @ts-ignore: decorator
@inline function groupCodes(src: usize, g: i32): v128 {
  const bytes = v128.load(src + 16 + (<usize>(g >> 3) << 5) + (<usize>(g & 1) << 4));
  return v128.and(i16x8.shr_u(bytes, ((g >> 1) & 3) << 1), i8x16.splat(3));
}

// Quarter j (values 4j..4j+3) of a group: (float)code, then dl * q - ml.
// @ts-ignore: decorator
@inline function quarter(codes: v128, j: i32, dl: v128, ml: v128): v128 {
  const w = j < 2 ? i16x8.extend_low_i8x16_u(codes) : i16x8.extend_high_i8x16_u(codes);
  const q = (j & 1) == 0 ? i32x4.extend_low_i16x8_u(w) : i32x4.extend_high_i16x8_u(w);
  return f32x4.sub(f32x4.mul(dl, f32x4.convert_i32x4_s(q)), ml);
}

// One block (256 f32 at dst).
// @ts-ignore: decorator
@inline function decodeBlock(src: usize, dst: usize): void {
  const d = f16ToF32(load<u16>(src, 80));
  const dmin = f16ToF32(load<u16>(src, 82));
  for (let g = 0; g < 16; g++) {
    const sc = <u32>load<u8>(src + g);
    const dl = f32x4.splat(d * <f32>(sc & 15));
    const ml = f32x4.splat(dmin * <f32>(sc >> 4));
    const codes = groupCodes(src, g);
    const out = dst + (<usize>g << 6);
    v128.store(out, quarter(codes, 0, dl, ml));
    v128.store(out, quarter(codes, 1, dl, ml), 16);
    v128.store(out, quarter(codes, 2, dl, ml), 32);
    v128.store(out, quarter(codes, 3, dl, ml), 48);
  }
}

// decodeBlock as the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class Q2KBlock {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    decodeBlock(src, dst);
  }
}

export function decode_q2_k(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<Q2KBlock>(table, rowBytes, ids, n, dim, out, QK, BLOCK_BYTES);
}

// Exact-mode dot of one row (dim a multiple of 256) with f32 x, straight from the packed bytes: each value is
// formed as the decoder forms it (dl * q - ml), then multiplied by x and summed.
export function dot_q2_k(row: usize, x: usize, dim: i32): f32 {
  let acc = f32x4.splat(0);
  for (let b = 0; b < dim; b += QK) {
    const d = f16ToF32(load<u16>(row, 80));
    const dmin = f16ToF32(load<u16>(row, 82));
    for (let g = 0; g < 16; g++) {
      const sc = <u32>load<u8>(row + g);
      const dl = f32x4.splat(d * <f32>(sc & 15));
      const ml = f32x4.splat(dmin * <f32>(sc >> 4));
      const codes = groupCodes(row, g);
      const xg = x + (<usize>g << 6);
      const s01 = madd(quarter(codes, 0, dl, ml), v128.load(xg), f32x4.mul(quarter(codes, 1, dl, ml), v128.load(xg, 16)));
      const s23 = madd(quarter(codes, 2, dl, ml), v128.load(xg, 32), f32x4.mul(quarter(codes, 3, dl, ml), v128.load(xg, 48)));
      acc = f32x4.add(acc, f32x4.add(s01, s23));
    }
    row += BLOCK_BYTES;
    x += <usize>QK << 2;
  }
  return hsum(acc);
}

// ---- mode "ggml": integer dots with Q8_K activations (activations.ts), as ggml_vec_dot_q2_K_q8_K ----
// Per block: sum_g s_g * (sum over group g of q * x_code) and sum_g m_g * bsums[g] (the record's sum of
// group g's 16 activation codes), exact in i32; then d_x * d times the first plus -(d_x * dmin) times the
// second, in f32 as ggml does. Each 16 qs bytes of (h, c) hold the codes of four groups (k = 0..3): loaded once.

// The codes (0..3) of run k from the 16 qs bytes q of (h, c); m3: 0x03 bytes (idot.ts vconst(MASK_03), loaded
// outside the loops: V8 13+ rebuilds a constant vector at each use in a loop).
// @ts-ignore: decorator
@inline function runCodes(q: v128, k: i32, m3: v128): v128 {
  return v128.and(k == 0 ? q : i16x8.shr_u(q, k << 1), m3);
}

// Groups 8h + c, + 2, + 4, + 6 (k = 0..3) of one (h, c): each group's scale times its codes . x codes. sLo, sHi:
// the scales of groups 8h .. 8h + 3 and 8h + 4 .. 8h + 7 by lane (idot.ts scaleLanesLo / Hi), each splat by one
// pshufd of a constant lane (c is written out by the caller).
// @ts-ignore: decorator
@inline function quadDot(blk: usize, sLo: v128, sHi: v128, x: usize, x8: usize, h: i32, c: i32, m3: v128, m00ff: v128): v128 {
  const q = v128.load(blk + 16 + (<usize>h << 5) + (<usize>c << 4));
  const g = (h << 3) + c;
  const s0 = scaledDotLane(runCodes(q, 0, m3), x + (<usize>g << 5), x8 + (<usize>g << 4), laneSplat(sLo, c), m00ff);
  const s1 = scaledDotLane(runCodes(q, 1, m3), x + (<usize>(g + 2) << 5), x8 + (<usize>(g + 2) << 4), laneSplat(sLo, c + 2), m00ff);
  const s2 = scaledDotLane(runCodes(q, 2, m3), x + (<usize>(g + 4) << 5), x8 + (<usize>(g + 4) << 4), laneSplat(sHi, c), m00ff);
  const s3 = scaledDotLane(runCodes(q, 3, m3), x + (<usize>(g + 6) << 5), x8 + (<usize>(g + 6) << 4), laneSplat(sHi, c + 2), m00ff);
  return i32x4.add(i32x4.add(s0, s1), i32x4.add(s2, s3));
}

// The block's 16 minimum codes as two i16x8 (groups 0..7, 8..15).
// @ts-ignore: decorator
@inline function minsLow(blk: usize): v128 {
  return i16x8.extend_low_i8x16_u(i8x16.shr_u(v128.load(blk), 4));
}
// @ts-ignore: decorator
@inline function minsHigh(blk: usize): v128 {
  return i16x8.extend_high_i8x16_u(i8x16.shr_u(v128.load(blk), 4));
}

// One block's two integer sums (kquants.ts lanePairs): sum_g sc_g * isum_g and sum_g m_g * bsum_g.
function idotBlock(w: usize, x: usize, x8: usize, xs: usize): v128 {
  // a half per step, its two (h, c) written out (the whole block in one step: V8 11 hoists its loads and spills)
  const m3 = vconst(MASK_03);
  const m00ff = vconst(MASK_00FF);
  const sc = v128.and(v128.load(w), vconst(MASK_0F)); // the 16 scale codes (low nibbles)
  const s0 = i16x8.extend_low_i8x16_u(sc); // groups 0..7
  const s1 = i16x8.extend_high_i8x16_u(sc); // groups 8..15
  let lo = scaleLanesLo(s0);
  let hi = scaleLanesHi(s0);
  let s = i32x4.splat(0);
  for (let h = 0; h < 2; h++) {
    s = i32x4.add(s, i32x4.add(quadDot(w, lo, hi, x, x8, h, 0, m3, m00ff), quadDot(w, lo, hi, x, x8, h, 1, m3, m00ff)));
    lo = scaleLanesLo(s1);
    hi = scaleLanesHi(s1);
  }
  const m = i32x4.add(i32x4.dot_i16x8_s(minsLow(w), v128.load(xs)), i32x4.dot_i16x8_s(minsHigh(w), v128.load(xs, 16)));
  return lanePairs(s, m);
}

// One row of nb blocks unpacked into dst (idot.ts layout): codes with their groups' scales, bsum weights the
// minimum codes, dA = d, dB = -dmin.
function unpackRow(w: usize, nb: i32, dst: usize): void {
  const m3 = vconst(MASK_03);
  for (let b = 0; b < nb; b++) {
    for (let h = 0; h < 2; h++) {
      for (let c = 0; c < 2; c++) {
        const q = v128.load(w + 16 + (<usize>h << 5) + (<usize>c << 4));
        const g = (h << 3) + c;
        unpackChunk(dst, g, runCodes(q, 0, m3), <i32>load<u8>(w + g) & 15);
        unpackChunk(dst, g + 2, runCodes(q, 1, m3), <i32>load<u8>(w + g + 2) & 15);
        unpackChunk(dst, g + 4, runCodes(q, 2, m3), <i32>load<u8>(w + g + 4) & 15);
        unpackChunk(dst, g + 6, runCodes(q, 3, m3), <i32>load<u8>(w + g + 6) & 15);
      }
    }
    unpackBlock(dst, minsLow(w), minsHigh(w), f16ToF32(load<u16>(w, 80)), -f16ToF32(load<u16>(w, 82)));
    w += BLOCK_BYTES;
    dst += UNPACKED;
  }
}

// The kernels as idot-rows.ts's kernel type: one vector, the packed row block by block (idotRowBlocks over
// idotBlock and kquants.ts blockValue / blockValues4, d at byte 80); more, the row unpacked once (unpackRow).
// @ts-ignore: decorator
@final class Q2KDot {
  // @ts-ignore: decorator
  @inline row(w: usize, act: usize, dim: i32, nb: i32): f32 { return idotRowBlocks<Q2KDot>(w, act, dim, nb, BLOCK_BYTES); }
  // @ts-ignore: decorator
  @inline unpack(w: usize, nb: i32, dst: usize): void { unpackRow(w, nb, dst); }
  // @ts-ignore: decorator
  @inline block(blk: usize, x: usize, x8: usize, bsums: usize, m0f: v128, m30: v128, m01: v128, m02: v128, m00ff: v128): v128 { return idotBlock(blk, x, x8, bsums); }
  // @ts-ignore: decorator
  @inline value(sums: v128, blk: usize, dx: f32): f32 { return blockValue(sums, blk + 80, dx); }
  // @ts-ignore: decorator
  @inline values4(s0: v128, s1: v128, s2: v128, s3: v128, blk: usize, dx: v128): v128 { return blockValues4(s0, s1, s2, s3, blk + 80, BLOCK_BYTES, dx); }
}

export function idot_q2_k(rows: usize, rowBytes: usize, nrows: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, scratch: usize): void {
  idotRows<Q2KDot>(rows, rowBytes, nrows, act, actStride, nx, dim, out, stride, scratch, BLOCK_BYTES, false, false, false);
}

// ---- encode: ggml's reference quantizer, operation for operation in f32 ----

// nearest_int((x + dm) / d) clamped to 0..3 for the 16 values at x, as 16 bytes.
// @ts-ignore: decorator
@inline function finalCodes(x: usize, d: f32, dm: f32): v128 {
  const dv = f32x4.splat(d);
  const mv = f32x4.splat(dm);
  const c0 = clamp03(nearestInt4(f32x4.div(f32x4.add(v128.load(x), mv), dv)));
  const c1 = clamp03(nearestInt4(f32x4.div(f32x4.add(v128.load(x, 16), mv), dv)));
  const c2 = clamp03(nearestInt4(f32x4.div(f32x4.add(v128.load(x, 32), mv), dv)));
  const c3 = clamp03(nearestInt4(f32x4.div(f32x4.add(v128.load(x, 48), mv), dv)));
  return i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3));
}

// The u32 of 16 two-bit codes (value i at bits 2i) as 16 bytes: byte i takes its bits from byte i / 4.
// @ts-ignore: decorator
@inline function unpackCodes(packed: u32): v128 {
  const spread = i8x16.swizzle(i32x4.splat(packed), i8x16(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
  const bit0 = i8x16.ne(v128.and(spread, i8x16(1, 4, 16, 64, 1, 4, 16, 64, 1, 4, 16, 64, 1, 4, 16, 64)), i8x16.splat(0));
  const bit1 = i8x16.ne(v128.and(spread, i8x16(2, 8, 32, -128, 2, 8, 32, -128, 2, 8, 32, -128, 2, 8, 32, -128)), i8x16.splat(0));
  // the compares give -1 for a set bit
  return i8x16.sub(i8x16.splat(0), i8x16.add(bit0, i8x16.add(bit1, bit1)));
}

// Encode n f32 values (whole blocks of 256), as quantize_row_q2_K_ref.
export function encode_q2_k(src: usize, n: usize, dst: usize): void {
  const zero = i32x4.splat(0);
  for (let b: usize = 0; b < n; b += <usize>QK) {
    const x = src + (b << 2);
    const y = dst + (b / <usize>QK) * BLOCK_BYTES;
    // the sixteen groups' scales; their mins wait in the codes' bytes (y + 16 ..) until the block's are known
    const s0 = q2kSearch4(x, y + 16, 0);
    const s1 = q2kSearch4(x + 256, y + 32, 0);
    const s2 = q2kSearch4(x + 512, y + 48, 0);
    const s3 = q2kSearch4(x + 768, y + 64, 0);
    const m0 = v128.load(y, 16);
    const m1 = v128.load(y, 32);
    const m2 = v128.load(y, 48);
    const m3 = v128.load(y, 64);
    const maxScale = maxAbove0(s0, s1, s2, s3);
    const maxMin = maxAbove0(m0, m1, m2, m3);
    // scales[g] = nearest_int(15 / max_scale * scale) | nearest_int(15 / max_min * min) << 4, kept to 8 bits
    let l0 = zero;
    let l1 = zero;
    let l2 = zero;
    let l3 = zero;
    let dh: u32 = 0;
    let dminh: u32 = 0;
    if (maxScale > 0) {
      const iscale = f32x4.splat(<f32>15 / maxScale);
      l0 = nearestInt4(f32x4.mul(iscale, s0));
      l1 = nearestInt4(f32x4.mul(iscale, s1));
      l2 = nearestInt4(f32x4.mul(iscale, s2));
      l3 = nearestInt4(f32x4.mul(iscale, s3));
      dh = f32ToF16(maxScale / <f32>15);
    }
    if (maxMin > 0) {
      const iscale = f32x4.splat(<f32>15 / maxMin);
      l0 = v128.or(l0, i32x4.shl(nearestInt4(f32x4.mul(iscale, m0)), 4));
      l1 = v128.or(l1, i32x4.shl(nearestInt4(f32x4.mul(iscale, m1)), 4));
      l2 = v128.or(l2, i32x4.shl(nearestInt4(f32x4.mul(iscale, m2)), 4));
      l3 = v128.or(l3, i32x4.shl(nearestInt4(f32x4.mul(iscale, m3)), 4));
      dminh = f32ToF16(maxMin / <f32>15);
    }
    const byte = i32x4.splat(255);
    const scales = i8x16.narrow_i16x8_u(
      i16x8.narrow_i32x4_u(v128.and(l0, byte), v128.and(l1, byte)),
      i16x8.narrow_i32x4_u(v128.and(l2, byte), v128.and(l3, byte)),
    );
    const d = f16ToF32(dh);
    const dmin = f16ToF32(dminh);
    // codes: per (h, c) the 16 qs bytes gather groups 8h + 2k + c, k = 0..3, at bits 2k
    let searched = -1; // the four groups whose search codes sit in y[0..15]
    for (let h = 0; h < 2; h++) {
      for (let c = 0; c < 2; c++) {
        let qs = zero;
        for (let k = 0; k < 4; k++) {
          const g = 8 * h + 2 * k + c;
          const sc = <u32>i8x16.extract_lane_u(i8x16.swizzle(scales, i8x16.splat(<i8>g)), 0);
          const dg = d * <f32>(sc & 15);
          let codes: v128;
          if (dg == 0) {
            // `if (!d) continue;`: the group keeps make_qkx2_quants's codes (rare: a tiny scale next to a
            // large one). Search its four groups again, codes into the scales' bytes (written last).
            if ((g >> 2) != searched) {
              q2kSearch4(x + (<usize>(g >> 2) << 8), 0, y);
              searched = g >> 2;
            }
            codes = unpackCodes(load<u32>(y + (<usize>(g & 3) << 2)));
          } else {
            codes = finalCodes(x + (<usize>g << 6), dg, dmin * <f32>(sc >> 4));
          }
          qs = v128.or(qs, i8x16.shl(codes, k << 1));
        }
        v128.store(y + 16 + (<usize>h << 5) + (<usize>c << 4), qs);
      }
    }
    v128.store(y, scales);
    store<u16>(y, <u16>dh, 80);
    store<u16>(y, <u16>dminh, 82);
  }
}

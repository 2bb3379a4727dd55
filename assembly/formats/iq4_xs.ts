// IQ4_XS rows (ggml type 23, the 4.25-bit non-linear quant of llama.cpp's IQ4_XS files): blocks of 256 four-bit
// indices into 16 fixed levels (kvalues_iq4nl), in 8 sub-blocks of 32 with a six-bit scale each, and an f16
// scale d per block.
// decode_iq4_xs: rows of ids -> f32 (SIMD); dot_iq4_xs: exact dot from the packed row; encode_iq4_xs: f32 ->
// blocks, byte-identical to ggml's quantize_iq4_xs without an importance matrix (quantize_row_iq4_nl_impl with
// super-block 256, blocks of 32, ntry 7, weights x^2), the scale search (IQ4_NL's) four sub-blocks at a time.
// Keys: D dim, N ids, B = 256 elements per block (QK_K), 136 bytes per block; ib sub-block 0..7, j 0..15.
//   block: [ d f16 (bytes 0-1) | scales_h u16 (2-3) | scales_l[4] (4-7) | qs[128] (8-135) ]
//   sub-block ib: ls = nibble ib % 2 of scales_l[ib / 2] (low first) | ((scales_h >> 2 ib) & 3) << 4
//     qs[16 ib + j] = [ high nibble: element 32 ib + 16 + j | low nibble: element 32 ib + j ]
//   value (d * (ls - 32)) * KVALUES[nibble], as dequantize_row_iq4_xs.
// see: ggml-quants.c quantize_iq4_xs, quantize_row_iq4_nl_impl, best_index_int8, dequantize_row_iq4_xs;
// ggml-common.h block_iq4_xs, kvalues_iq4nl.
import { f16ToF32, f32ToF16 } from "../half";
import { scaleCodes16 } from "../codes";
import { hsum, madd } from "../madd";
import { mulCodes16 } from "./q8_0";
import { laneOf, nearestInt } from "./kquant-search";
import { iq4nlCodes16, iq4nlSearch4, levels } from "./iq4_nl";
import { UNPACKED, foldValue, foldValues4, laneSplat, scaleLanesHi, scaleLanesLo, signedDot16, unpackBlock, unpackChunkWide } from "../idot";
import { I16_32, IQ4XS_HIGH, MASK_0F, MASK_30, MASK_IQ4_LEVELS, vconst } from "../vconst";
import { lut16 } from "../fast/swizzle";
import { decodeRows } from "./block-rows";
import { idotRowBlocks, idotRows } from "./idot-rows";

const QK: i32 = 256;
const BLOCK_BYTES: usize = 136;

// The six-bit scale of sub-block ib, minus 32.
// @ts-ignore: decorator
@inline function scaleOf(src: usize, ib: i32): i32 {
  const low = (<i32>load<u8>(src + 4 + (ib >> 1)) >> ((ib & 1) << 2)) & 15;
  return (low | (((<i32>load<u16>(src, 2) >> (ib << 1)) & 3) << 4)) - 32;
}

// One block (256 f32 at dst).
// @ts-ignore: decorator
@inline function decodeBlock(src: usize, dst: usize): void {
  const d = f16ToF32(load<u16>(src));
  for (let ib = 0; ib < 8; ib++) {
    const dl = f32x4.splat(d * <f32>scaleOf(src, ib));
    const q = v128.load(src + 8 + (<usize>ib << 4));
    const out = dst + (<usize>ib << 7);
    scaleCodes16(out, i8x16.swizzle(levels(), v128.and(q, i8x16.splat(15))), dl);
    scaleCodes16(out + 64, i8x16.swizzle(levels(), i8x16.shr_u(q, 4)), dl);
  }
}

// decodeBlock as the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class IQ4XSBlock {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    decodeBlock(src, dst);
  }
}

export function decode_iq4_xs(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<IQ4XSBlock>(table, rowBytes, ids, n, dim, out, QK, BLOCK_BYTES);
}

// Exact-mode dot of one row (dim a multiple of 256) with f32 x, straight from the packed bytes: per sub-block
// of 32, (d * (ls - 32)) times the sum of levels x values.
export function dot_iq4_xs(row: usize, x: usize, dim: i32): f32 {
  let acc = f32x4.splat(0);
  for (let b = 0; b < dim; b += QK) {
    const d = f16ToF32(load<u16>(row));
    for (let ib = 0; ib < 8; ib++) {
      const q = v128.load(row + 8 + (<usize>ib << 4));
      const xb = x + (<usize>ib << 7);
      const sum = f32x4.add(
        mulCodes16(i8x16.swizzle(levels(), v128.and(q, i8x16.splat(15))), xb),
        mulCodes16(i8x16.swizzle(levels(), i8x16.shr_u(q, 4)), xb + 64),
      );
      acc = madd(sum, f32x4.splat(d * <f32>scaleOf(row, ib)), acc);
    }
    row += BLOCK_BYTES;
    x += <usize>QK << 2;
  }
  return hsum(acc);
}

// ---- mode "ggml": integer dots with Q8_K activations (activations.ts), as ggml_vec_dot_iq4_xs_q8_K ----
// Per block: sum_ib (ls_ib - 32) * sum over sub-block ib of level * x_code, exact in i32, then one f32 multiply
// by d * d_x. The levels (-127..113) are signed, which relaxed_dot cannot take (one operand must be 7-bit
// unsigned): one vector, the relaxed build moves their signs onto the activation codes (levelPairs), the
// baseline splits them into even and odd i16 lanes against the record's i16 codes (idot.ts signedDot16);
// batches unpack rows in idot.ts's wide layout (i16 products). No offset term (the bsum weights are zero).

// 16 levels v . the record's 16 activation codes, as i16 pair sums, relaxed build: relaxed_dot takes |v| (7-bit)
// and the activation codes with v's signs (|x_code| <= 127: negating one stays in range).
// @ts-ignore: decorator
@inline function levelPairs(v: v128, x8: usize): v128 {
  const neg = i8x16.lt_s(v, i32x4.splat(0));
  return i16x8.relaxed_dot_i8x16_i7x16_s(i8x16.sub(v128.xor(v128.load(x8), neg), neg), i8x16.abs(v));
}

// Sub-block ib's scale times its 32 levels . x codes, in four i32 lanes; sv: the scale in every i32 lane (idot.ts
// scaleLanesLo / Hi, laneSplat). Relaxed build: each half's i16 pair sums (up to 2 * 127 * 127: two would
// overflow i16) widened and scaled by one i32x4.dot_i16x8_s. kv: the levels, m0f: 0x0f bytes, both loaded once
// per block (vconst.ts); lut16: a bare pshufb in the relaxed build (indices < 16).
// @ts-ignore: decorator
@inline function subBlockDot(blk: usize, x: usize, x8: usize, ib: i32, sv: v128, kv: v128, m0f: v128): v128 {
  const q = v128.load(blk + 8 + (<usize>ib << 4));
  const lo = lut16(kv, v128.and(q, m0f));
  const hi = lut16(kv, v128.and(i16x8.shr_u(q, 4), m0f));
  if (ASC_FEATURE_RELAXED_SIMD) {
    const x8b = x8 + (<usize>ib << 5);
    return i32x4.add(i32x4.dot_i16x8_s(levelPairs(lo, x8b), sv), i32x4.dot_i16x8_s(levelPairs(hi, x8b + 16), sv));
  }
  const xb = x + (<usize>ib << 6);
  return i32x4.mul(i32x4.add(signedDot16(lo, xb), signedDot16(hi, xb + 32)), sv);
}

// The eight sub-block scales ls - 32 (scaleOf) as i16 lanes: the low nibbles of scales_l (bytes 4..7, two per
// byte) interleaved back into order, and bits 2j, 2j + 1 of scales_h (the u16 at 2) brought to bits 4, 5 of lane
// j by a multiply (lane j times 2^(14 - 2j) puts them at bits 14, 15; a shift by 10 and a mask finish).
// @ts-ignore: decorator
@inline function blockScales8(blk: usize, m0f: v128): v128 {
  const l = v128.load32_zero(blk + 4);
  const nib = i8x16.shuffle(v128.and(l, m0f), v128.and(i16x8.shr_u(l, 4), m0f), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const high = v128.and(i16x8.shr_u(i16x8.mul(i16x8.splat(load<u16>(blk, 2)), vconst(IQ4XS_HIGH)), 10), vconst(MASK_30));
  return i16x8.sub(v128.or(i16x8.extend_low_i8x16_u(nib), high), vconst(I16_32));
}

// One block's integer sum, in four i32 lanes: sum over sub-blocks of scale * levels . x codes. A half block per
// step, its four sub-blocks written out so that each scale is a pshufd of a constant lane (laneSplat).
function idotBlock(w: usize, x: usize, x8: usize): v128 {
  let s = i32x4.splat(0);
  const kv = vconst(MASK_IQ4_LEVELS);
  const m0f = vconst(MASK_0F);
  const sc = blockScales8(w, m0f);
  let sv = scaleLanesLo(sc);
  for (let h = 0; h < 2; h++) {
    const ib = h << 2;
    s = i32x4.add(s, i32x4.add(subBlockDot(w, x, x8, ib, laneSplat(sv, 0), kv, m0f), subBlockDot(w, x, x8, ib + 1, laneSplat(sv, 1), kv, m0f)));
    s = i32x4.add(s, i32x4.add(subBlockDot(w, x, x8, ib + 2, laneSplat(sv, 2), kv, m0f), subBlockDot(w, x, x8, ib + 3, laneSplat(sv, 3), kv, m0f)));
    sv = scaleLanesHi(sc);
  }
  return s;
}

// One row of nb blocks unpacked into dst (idot.ts wide layout): levels times their sub-block's scale, bsum
// weights zero, dA = d.
function unpackRow(w: usize, nb: i32, dst: usize): void {
  for (let b = 0; b < nb; b++) {
    for (let ib = 0; ib < 8; ib++) {
      const q = v128.load(w + 8 + (<usize>ib << 4));
      const ls = scaleOf(w, ib);
      unpackChunkWide(dst, 2 * ib, i8x16.swizzle(levels(), v128.and(q, i8x16.splat(15))), ls);
      unpackChunkWide(dst, 2 * ib + 1, i8x16.swizzle(levels(), i8x16.shr_u(q, 4)), ls);
    }
    const zero = i16x8.splat(0);
    unpackBlock(dst, zero, zero, f16ToF32(load<u16>(w)), 0);
    w += BLOCK_BYTES;
    dst += UNPACKED;
  }
}

// The kernels as idot-rows.ts's kernel type: one vector, the packed row block by block (idotRowBlocks over
// idotBlock and idot.ts foldValue / foldValues4, d at byte 0; no bsums); more, the row unpacked once (unpackRow).
// @ts-ignore: decorator
@final class IQ4XSDot {
  // @ts-ignore: decorator
  @inline row(w: usize, act: usize, dim: i32, nb: i32): f32 { return idotRowBlocks<IQ4XSDot>(w, act, dim, nb, BLOCK_BYTES); }
  // @ts-ignore: decorator
  @inline unpack(w: usize, nb: i32, dst: usize): void { unpackRow(w, nb, dst); }
  // @ts-ignore: decorator
  @inline block(blk: usize, x: usize, x8: usize, bsums: usize, m0f: v128, m30: v128, m01: v128, m02: v128, m00ff: v128): v128 { return idotBlock(blk, x, x8); }
  // @ts-ignore: decorator
  @inline value(sums: v128, blk: usize, dx: f32): f32 { return foldValue(sums, blk, dx); }
  // @ts-ignore: decorator
  @inline values4(s0: v128, s1: v128, s2: v128, s3: v128, blk: usize, dx: v128): v128 { return foldValues4(s0, s1, s2, s3, blk, BLOCK_BYTES, dx); }
}

export function idot_iq4_xs(rows: usize, rowBytes: usize, nrows: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, scratch: usize): void {
  idotRows<IQ4XSDot>(rows, rowBytes, nrows, act, actStride, nx, dim, out, stride, scratch, BLOCK_BYTES, true, true, false);
}

// ---- encode: ggml's reference quantizer, operation for operation in f32: the sub-blocks' scales come from
// IQ4_NL's search (quantize_row_iq4_nl_impl's loop over blocks of 32), four sub-blocks at a time.

// Encode n f32 values (whole blocks of 256), as quantize_iq4_xs with no importance matrix.
export function encode_iq4_xs(src: usize, n: usize, dst: usize): void {
  for (let b: usize = 0; b < n; b += <usize>QK) {
    const x = src + (b << 2);
    const y = dst + (b / <usize>QK) * BLOCK_BYTES;
    // the eight sub-blocks' scales, four per search (one inlined copy of it, looped twice)
    let s0 = f32x4.splat(0);
    let s1 = s0;
    for (let h: usize = 0; h < 2; h++) {
      const s = iq4nlSearch4(x + (h << 9), 128);
      if (h == 0) s0 = s;
      else s1 = s;
    }
    // the scale of largest |scale|, the first of equals
    let amax: f32 = 0;
    let maxScale: f32 = 0;
    for (let ib = 0; ib < 8; ib++) {
      const s = laneOf(ib < 4 ? s0 : s1, ib & 3);
      if (abs<f32>(s) > amax) {
        amax = abs<f32>(s);
        maxScale = s;
      }
    }
    const d: f32 = -maxScale / <f32>32;
    store<u16>(y, <u16>f32ToF16(d));
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    let scalesH: u32 = 0;
    let scalesL: u32 = 0;
    for (let ib = 0; ib < 8; ib++) {
      let l = nearestInt(id * laneOf(ib < 4 ? s0 : s1, ib & 3));
      l = l < -32 ? -32 : l > 31 ? 31 : l;
      const dl = d * <f32>l;
      const idl = f32x4.splat(dl != 0 ? <f32>1 / dl : 0);
      const xb = x + (<usize>ib << 7);
      const lo = iq4nlCodes16(xb, idl);
      const hi = iq4nlCodes16(xb + 64, idl);
      v128.store(y + 8 + (<usize>ib << 4), v128.or(lo, i8x16.shl(hi, 4)));
      const ls = <u32>(l + 32);
      scalesL |= (ls & 15) << (<u32>ib << 2);
      scalesH |= (ls >> 4) << (<u32>ib << 1);
    }
    store<u16>(y, <u16>scalesH, 2);
    store<u32>(y, scalesL, 4);
  }
}

// Q3_K rows (ggml type 11, the 3-bit k-quant of llama.cpp's Q3_K files): blocks of 256 three-bit codes in 16
// groups of 16, a six-bit scale per group and an f16 scale d per block.
// decode_q3_k: rows of ids -> f32 (SIMD); dot_q3_k: exact dot from the packed row; encode_q3_k: f32 -> blocks,
// byte-identical to ggml's quantize_row_q3_K_ref (make_q3_quants four groups at a time, one per lane).
// Keys: D dim, N ids, B = 256 elements per block (QK_K), 110 bytes per block; g group 0..15, h half, k 0..3, c 0..1.
//   block: [ hmask[32] (bytes 0-31) | qs[64] (32-95) | scales[12] (96-107) | d f16 (108-109, LAST) ]
//   element e = 128h + 32k + 16c + l is in group g = 8h + 2k + c (groups are runs of 16 in element order):
//     low bits  (qs[32h + 16c + l] >> 2k) & 3          qs byte: [ k=3 | k=2 | k=1 | k=0 ]
//     high bit  (hmask[16c + l] >> (4h + k)) & 1       hmask bit 4h + k of byte 16c + l (element e: bit e / 32)
//     q = low - 4 when the high bit is clear, else low  (-4..3)
//   six-bit scale s_g: scales[g] low nibble (g < 8) or scales[g - 8] high nibble, | bits 2(g / 4), +1 of
//   scales[8 + g % 4] as bits 4-5; value (d * (s_g - 32)) * q, as dequantize_row_q3_K.
// see: ggml-quants.c quantize_row_q3_K_ref, make_q3_quants, dequantize_row_q3_K; ggml-common.h block_q3_K.
import { f16ToF32, f32ToF16 } from "../half";
import { scaleCodes16 } from "../codes";
import { hsum, madd } from "../madd";
import { mulCodes16 } from "./q8_0";
import { GROUP_MAX_EPS, clamp3, laneGather, nearestInt, nearestInt4, nearestInt4K } from "./kquant-search";
import { UNPACKED, foldValue, foldValues4, laneSplat, scaleLanesHi, scaleLanesLo, scaledDotLane, unpackBlock, unpackChunk } from "../idot";
import { decodeRows } from "./block-rows";
import { idotRowBlocks, idotRows } from "./idot-rows";
import { KQ_BIAS, KQ_MAGIC, KQ_MANT, MASK_00FF, MASK_03, MASK_04, vconst } from "../vconst";

const QK: i32 = 256;
const BLOCK_BYTES: usize = 110;

// The six-bit scale of group g.
// @ts-ignore: decorator
@inline function scaleOf(src: usize, g: i32): i32 {
  const low = g < 8 ? <i32>load<u8>(src + 96 + g) & 15 : <i32>load<u8>(src + 88 + g) >> 4;
  return low | (((<i32>load<u8>(src + 104 + (g & 3)) >> ((g >> 2) << 1)) & 3) << 4);
}

// The 16 codes (-4..3, as signed bytes) of group g. The 16-bit shifts move bits across bytes only into bits
// the masks clear.
// @ts-ignore: decorator
@inline function groupCodes(src: usize, g: i32): v128 {
  const c = <usize>(g & 1) << 4;
  const k = (g >> 1) & 3;
  const low = v128.and(i16x8.shr_u(v128.load(src + 32 + (<usize>(g >> 3) << 5) + c), k << 1), i8x16.splat(3));
  const high = v128.and(i16x8.shr_u(v128.load(src + c), ((g >> 3) << 2) + k), i8x16.splat(1));
  return i8x16.sub(v128.or(low, i8x16.shl(high, 2)), i8x16.splat(4));
}

// The block's 16 scales minus 32, as signed bytes (group g in byte g). Bytes 0..7 give the low nibbles (g < 8)
// and the high nibbles (g >= 8); bytes 8..11 give bits 4-5, byte 8 + g % 4 shifted by 2 (g / 4): as i32 lanes
// holding bytes 8..11 each, lane q shifted by 2q then masked (the bits a shift moves across bytes land where the
// mask clears). Reads the 12 scale bytes only.
// @ts-ignore: decorator
@inline function blockScales(src: usize): v128 {
  const lowBytes = v128.load64_zero(src + 96);
  const nibbles = i8x16.shuffle(lowBytes, lowBytes, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
  const low = v128.bitselect(
    v128.and(nibbles, i8x16.splat(15)),
    i8x16.shr_u(nibbles, 4),
    i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0),
  );
  const hb = v128.load32_splat(src + 104);
  const shifted = v128.shuffle<i32>(
    v128.shuffle<i32>(hb, i32x4.shr_u(hb, 2), 0, 5, 0, 5),
    v128.shuffle<i32>(i32x4.shr_u(hb, 4), i32x4.shr_u(hb, 6), 2, 7, 2, 7),
    0, 1, 6, 7,
  );
  return i8x16.sub(v128.or(low, i8x16.shl(v128.and(shifted, i8x16.splat(3)), 4)), i8x16.splat(32));
}

// Scales 4q..4q+3 of blockScales as f32.
// @ts-ignore: decorator
@inline function fourScales(scales: v128, q: i32): v128 {
  const w = q < 2 ? i16x8.extend_low_i8x16_s(scales) : i16x8.extend_high_i8x16_s(scales);
  return f32x4.convert_i32x4_s((q & 1) == 0 ? i32x4.extend_low_i16x8_s(w) : i32x4.extend_high_i16x8_s(w));
}

// One block (256 f32 at dst).
// @ts-ignore: decorator
@inline function decodeBlock(src: usize, dst: usize): void {
  const d = f32x4.splat(f16ToF32(load<u16>(src, 108)));
  const scales = blockScales(src);
  for (let q = 0; q < 4; q++) {
    // d * (s - 32) of groups 4q..4q+3, as dequantize_row_q3_K forms it
    const dl = f32x4.mul(d, fourScales(scales, q));
    const g = q << 2;
    const out = dst + (<usize>g << 6);
    scaleCodes16(out, groupCodes(src, g), v128.shuffle<f32>(dl, dl, 0, 0, 0, 0));
    scaleCodes16(out + 64, groupCodes(src, g + 1), v128.shuffle<f32>(dl, dl, 1, 1, 1, 1));
    scaleCodes16(out + 128, groupCodes(src, g + 2), v128.shuffle<f32>(dl, dl, 2, 2, 2, 2));
    scaleCodes16(out + 192, groupCodes(src, g + 3), v128.shuffle<f32>(dl, dl, 3, 3, 3, 3));
  }
}

// decodeBlock as the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class Q3KBlock {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    decodeBlock(src, dst);
  }
}

export function decode_q3_k(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<Q3KBlock>(table, rowBytes, ids, n, dim, out, QK, BLOCK_BYTES);
}

// Exact-mode dot of one row (dim a multiple of 256) with f32 x, straight from the packed bytes: per group of
// 16, (d * (s - 32)) times the sum of codes x values.
export function dot_q3_k(row: usize, x: usize, dim: i32): f32 {
  let acc = f32x4.splat(0);
  for (let b = 0; b < dim; b += QK) {
    const d = f32x4.splat(f16ToF32(load<u16>(row, 108)));
    const scales = blockScales(row);
    for (let q = 0; q < 4; q++) {
      const dl = f32x4.mul(d, fourScales(scales, q));
      const g = q << 2;
      const xg = x + (<usize>g << 6);
      acc = madd(mulCodes16(groupCodes(row, g), xg), v128.shuffle<f32>(dl, dl, 0, 0, 0, 0), acc);
      acc = madd(mulCodes16(groupCodes(row, g + 1), xg + 64), v128.shuffle<f32>(dl, dl, 1, 1, 1, 1), acc);
      acc = madd(mulCodes16(groupCodes(row, g + 2), xg + 128), v128.shuffle<f32>(dl, dl, 2, 2, 2, 2), acc);
      acc = madd(mulCodes16(groupCodes(row, g + 3), xg + 192), v128.shuffle<f32>(dl, dl, 3, 3, 3, 3), acc);
    }
    row += BLOCK_BYTES;
    x += <usize>QK << 2;
  }
  return hsum(acc);
}

// ---- mode "ggml": integer dots with Q8_K activations (activations.ts), as ggml_vec_dot_q3_K_q8_K ----
// Per block: sum_g (s_g - 32) * sum over group g of q * x_code, exact in i32, then one f32 multiply by
// d_x * d. The codes stay unsigned (u = low | high << 2, 0..7; q = u - 4): the 4 goes into
// 4 * sum_g (s_g - 32) * bsums[g] from the record, as Q6_K's 32. The 16 qs bytes and 16 hmask bytes of
// (h, c) hold the codes of four groups (k = 0..3): loaded once.

// The codes u (0..7) of run k from the qs bytes q of (h, c) and the hmask bytes m of c shifted right by 4h: the
// high bit is bit k of m, moved to bit 2 (a 16-bit shift moves bits across bytes only where the mask clears them).
// m3, m4: 3 and 4 in every byte (vconst.ts: V8 13+ rebuilds a constant vector at each use in a loop).
// @ts-ignore: decorator
@inline function runCodes(q: v128, m: v128, k: i32, m3: v128, m4: v128): v128 {
  const low = v128.and(k == 0 ? q : i16x8.shr_u(q, k << 1), m3);
  const high = k < 2 ? i16x8.shl(m, 2 - k) : k == 2 ? m : i16x8.shr_u(m, k - 2);
  return v128.or(low, v128.and(high, m4));
}

// Groups 8h + c, + 2, + 4, + 6 (k = 0..3) of one (h, c): each group's scale times its codes . x codes. sLo, sHi:
// the scales of groups 8h .. 8h + 3 and 8h + 4 .. 8h + 7 by lane (scaleLanesLo / Hi of half h's).
// @ts-ignore: decorator
@inline function quadDot(blk: usize, sLo: v128, sHi: v128, x: usize, x8: usize, h: i32, c: i32, m3: v128, m4: v128, m00ff: v128): v128 {
  const q = v128.load(blk + 32 + (<usize>h << 5) + (<usize>c << 4));
  const m = i16x8.shr_u(v128.load(blk + (<usize>c << 4)), h << 2);
  const g = (h << 3) + c;
  const s0 = scaledDotLane(runCodes(q, m, 0, m3, m4), x + (<usize>g << 5), x8 + (<usize>g << 4), laneSplat(sLo, c), m00ff);
  const s1 = scaledDotLane(runCodes(q, m, 1, m3, m4), x + (<usize>(g + 2) << 5), x8 + (<usize>(g + 2) << 4), laneSplat(sLo, c + 2), m00ff);
  const s2 = scaledDotLane(runCodes(q, m, 2, m3, m4), x + (<usize>(g + 4) << 5), x8 + (<usize>(g + 4) << 4), laneSplat(sHi, c), m00ff);
  const s3 = scaledDotLane(runCodes(q, m, 3, m3, m4), x + (<usize>(g + 6) << 5), x8 + (<usize>(g + 6) << 4), laneSplat(sHi, c + 2), m00ff);
  return i32x4.add(i32x4.add(s0, s1), i32x4.add(s2, s3));
}

// One block's integer sum, in four i32 lanes: sum_g (s_g - 32) * sum (u - 4) * x_code. A half per step, its two
// (h, c) written out so that every scale is a pshufd of a constant lane (the whole block in one step: V8 11
// hoists its loads and spills, 1.5x the time on Node 20).
function idotBlock(w: usize, x: usize, x8: usize, xs: usize): v128 {
  const m3 = vconst(MASK_03);
  const m4 = vconst(MASK_04);
  const m00ff = vconst(MASK_00FF);
  const sc = blockScales(w);
  const s0 = i16x8.extend_low_i8x16_s(sc); // groups 0..7
  const s1 = i16x8.extend_high_i8x16_s(sc); // groups 8..15
  // half h's scales by lane: groups 8h .. 8h + 3, 8h + 4 .. 8h + 7
  let lo = scaleLanesLo(s0);
  let hi = scaleLanesHi(s0);
  let s = i32x4.splat(0);
  for (let h = 0; h < 2; h++) {
    s = i32x4.add(s, i32x4.add(quadDot(w, lo, hi, x, x8, h, 0, m3, m4, m00ff), quadDot(w, lo, hi, x, x8, h, 1, m3, m4, m00ff)));
    lo = scaleLanesLo(s1);
    hi = scaleLanesHi(s1);
  }
  // the codes' offset: 4 * sum_g (s_g - 32) * bsums[g]
  const off = i32x4.add(i32x4.dot_i16x8_s(v128.load(xs), s0), i32x4.dot_i16x8_s(v128.load(xs, 16), s1));
  return i32x4.sub(s, i32x4.shl(off, 2));
}

// One row of nb blocks unpacked into dst (idot.ts layout): codes 0..7 with their group scales, bsum weights
// -4 * scales (the codes' offset), dA = d.
function unpackRow(w: usize, nb: i32, dst: usize): void {
  const m3 = vconst(MASK_03);
  const m4 = vconst(MASK_04);
  for (let b = 0; b < nb; b++) {
    for (let h = 0; h < 2; h++) {
      for (let c = 0; c < 2; c++) {
        const q = v128.load(w + 32 + (<usize>h << 5) + (<usize>c << 4));
        const m = i16x8.shr_u(v128.load(w + (<usize>c << 4)), h << 2);
        const g = (h << 3) + c;
        unpackChunk(dst, g, runCodes(q, m, 0, m3, m4), scaleOf(w, g) - 32);
        unpackChunk(dst, g + 2, runCodes(q, m, 1, m3, m4), scaleOf(w, g + 2) - 32);
        unpackChunk(dst, g + 4, runCodes(q, m, 2, m3, m4), scaleOf(w, g + 4) - 32);
        unpackChunk(dst, g + 6, runCodes(q, m, 3, m3, m4), scaleOf(w, g + 6) - 32);
      }
    }
    const sc = blockScales(w);
    const m4 = i16x8.splat(-4);
    unpackBlock(dst, i16x8.mul(i16x8.extend_low_i8x16_s(sc), m4), i16x8.mul(i16x8.extend_high_i8x16_s(sc), m4), f16ToF32(load<u16>(w, 108)), 0);
    w += BLOCK_BYTES;
    dst += UNPACKED;
  }
}

// The kernels as idot-rows.ts's kernel type: one vector, the packed row block by block (idotRowBlocks over
// idotBlock and idot.ts foldValue / foldValues4); more, the row unpacked once (unpackRow).
// @ts-ignore: decorator
@final class Q3KDot {
  // @ts-ignore: decorator
  @inline row(w: usize, act: usize, dim: i32, nb: i32): f32 { return idotRowBlocks<Q3KDot>(w, act, dim, nb, BLOCK_BYTES); }
  // @ts-ignore: decorator
  @inline unpack(w: usize, nb: i32, dst: usize): void { unpackRow(w, nb, dst); }
  // @ts-ignore: decorator
  @inline block(blk: usize, x: usize, x8: usize, bsums: usize, m0f: v128, m30: v128, m01: v128, m02: v128, m00ff: v128): v128 { return idotBlock(blk, x, x8, bsums); }
  // @ts-ignore: decorator
  @inline value(sums: v128, blk: usize, dx: f32): f32 { return foldValue(sums, blk + 108, dx); }
  // @ts-ignore: decorator
  @inline values4(s0: v128, s1: v128, s2: v128, s3: v128, blk: usize, dx: v128): v128 { return foldValues4(s0, s1, s2, s3, blk + 108, BLOCK_BYTES, dx); }
}

export function idot_q3_k(rows: usize, rowBytes: usize, nrows: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, scratch: usize): void {
  idotRows<Q3KDot>(rows, rowBytes, nrows, act, actStride, nx, dim, out, stride, scratch, BLOCK_BYTES, true, false, false);
}

// ---- encode: ggml's reference quantizer, operation for operation in f32 ----

// Codes of four lanes (i32, -4..3) <-> the 4 bytes at p.
// @ts-ignore: decorator
@inline function loadCodes4(p: usize): v128 {
  return i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(p)));
}
// @ts-ignore: decorator
@inline function storeCodes4(p: usize, l: v128): void {
  const n = i16x8.narrow_i32x4_s(l, l);
  v128.store32_lane(p, i8x16.narrow_i16x8_s(n, n), 0);
}

// make_q3_quants(16, 4, x, L, do_rmse true) for the four groups of 16 at x (64 bytes apart), one group per
// lane. Returns the four scales; the codes L (+4, or 0 for a group below GROUP_MAX_EPS) go to the 64 bytes at
// `codes`, value i of group j at codes + 4i + j. The refinement passes run lane by lane as in ggml (each lane
// walks its values in order; an update is a select); a lane whose pass changed nothing would change nothing in
// the next one either, so the passes stop when no lane changed.
function q3kSearch4(x: usize, codes: usize): v128 {
  const zero = f32x4.splat(0);
  const magic = vconst(KQ_MAGIC);
  const mant = vconst(KQ_MANT);
  const bias = vconst(KQ_BIAS);
  // the value of largest |x| (`if (ax > amax)`: the first of equals, NaN never)
  let amax = zero;
  let max = zero;
  for (let i = 0; i < 16; i++) {
    const xi = laneGather(x, i, 64);
    const ax = f32x4.abs(xi);
    const gt = f32x4.gt(ax, amax);
    amax = v128.bitselect(ax, amax, gt);
    max = v128.bitselect(xi, max, gt);
  }
  const quiet = f32x4.lt(amax, f32x4.splat(GROUP_MAX_EPS));
  const iscale = f32x4.div(f32x4.splat(-4), max);
  let sumlx = zero;
  let suml2 = zero;
  for (let i = 0; i < 16; i++) {
    const xi = laneGather(x, i, 64);
    const l = clamp3(nearestInt4K(f32x4.mul(iscale, xi), magic, mant, bias));
    storeCodes4(codes + (<usize>i << 2), l);
    const lf = f32x4.convert_i32x4_s(l);
    const w = f32x4.mul(xi, xi);
    sumlx = f32x4.add(sumlx, f32x4.mul(f32x4.mul(w, xi), lf));
    suml2 = f32x4.add(suml2, f32x4.mul(f32x4.mul(w, lf), lf));
  }
  for (let pass = 0; pass < 5; pass++) {
    let changed = i32x4.splat(0);
    for (let i = 0; i < 16; i++) {
      const xi = laneGather(x, i, 64);
      const at = codes + (<usize>i << 2);
      const l = loadCodes4(at);
      const lf = f32x4.convert_i32x4_s(l);
      const w = f32x4.mul(xi, xi);
      const wx = f32x4.mul(w, xi);
      // the sums without value i, its best code for them, and the sums with that code
      let slx = f32x4.sub(sumlx, f32x4.mul(wx, lf));
      let sl2 = f32x4.sub(suml2, f32x4.mul(f32x4.mul(w, lf), lf));
      const positive = f32x4.gt(slx, zero);
      const next = clamp3(nearestInt4K(f32x4.div(f32x4.mul(xi, sl2), slx), magic, mant, bias));
      const nf = f32x4.convert_i32x4_s(next);
      slx = f32x4.add(slx, f32x4.mul(wx, nf));
      sl2 = f32x4.add(sl2, f32x4.mul(f32x4.mul(w, nf), nf));
      const gain = f32x4.gt(f32x4.mul(f32x4.mul(slx, slx), suml2), f32x4.mul(f32x4.mul(sumlx, sumlx), sl2));
      const take = v128.and(v128.and(positive, i32x4.ne(next, l)), v128.and(f32x4.gt(sl2, zero), gain));
      storeCodes4(at, v128.bitselect(next, l, take));
      sumlx = v128.bitselect(slx, sumlx, take);
      suml2 = v128.bitselect(sl2, suml2, take);
      changed = v128.or(changed, take);
    }
    if (!v128.any_true(changed)) break;
  }
  // L += nmax, except for the groups that returned early with codes 0
  const keep = i8x16.swizzle(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(quiet, quiet), i16x8.splat(0)), i8x16(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3));
  for (let q = 0; q < 4; q++) {
    const p = codes + (<usize>q << 4);
    v128.store(p, v128.andnot(i8x16.add(v128.load(p), i8x16.splat(4)), keep));
  }
  const scale = v128.and(f32x4.div(sumlx, suml2), f32x4.gt(suml2, zero));
  return v128.andnot(scale, quiet);
}

// Group j's 16 codes from q3kSearch4's layout (value i at codes + 4i + j), in value order.
// @ts-ignore: decorator
@inline function searchedCodes(codes: usize, j: i32): v128 {
  // indices >= 16 (0x80 + j) give zero bytes
  const lane = i8x16.splat(<i8>j);
  const a = i8x16.swizzle(v128.load(codes), i8x16.add(i8x16(0, 4, 8, 12, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128), lane));
  const b = i8x16.swizzle(v128.load(codes, 16), i8x16.add(i8x16(-128, -128, -128, -128, 0, 4, 8, 12, -128, -128, -128, -128, -128, -128, -128, -128), lane));
  const c = i8x16.swizzle(v128.load(codes, 32), i8x16.add(i8x16(-128, -128, -128, -128, -128, -128, -128, -128, 0, 4, 8, 12, -128, -128, -128, -128), lane));
  const d = i8x16.swizzle(v128.load(codes, 48), i8x16.add(i8x16(-128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, 0, 4, 8, 12), lane));
  return v128.or(v128.or(a, b), v128.or(c, d));
}

// nearest_int(x / d) clamped to -4..3, + 4, for the 16 values at x, as 16 bytes.
// @ts-ignore: decorator
@inline function finalCodes(x: usize, d: f32): v128 {
  const dv = f32x4.splat(d);
  const c0 = clamp3(nearestInt4(f32x4.div(v128.load(x), dv)));
  const c1 = clamp3(nearestInt4(f32x4.div(v128.load(x, 16), dv)));
  const c2 = clamp3(nearestInt4(f32x4.div(v128.load(x, 32), dv)));
  const c3 = clamp3(nearestInt4(f32x4.div(v128.load(x, 48), dv)));
  return i8x16.add(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3)), i8x16.splat(4));
}

// Encode n f32 values (whole blocks of 256), as quantize_row_q3_K_ref. The block's qs bytes are the searches'
// scratch until the codes are packed last.
export function encode_q3_k(src: usize, n: usize, dst: usize): void {
  const zero = i32x4.splat(0);
  for (let b: usize = 0; b < n; b += <usize>QK) {
    const x = src + (b << 2);
    const y = dst + (b / <usize>QK) * BLOCK_BYTES;
    const scratch = y + 32;
    const s0 = q3kSearch4(x, scratch);
    const s1 = q3kSearch4(x + 256, scratch);
    const s2 = q3kSearch4(x + 512, scratch);
    const s3 = q3kSearch4(x + 768, scratch);
    v128.store(scratch, s0);
    v128.store(scratch, s1, 16);
    v128.store(scratch, s2, 32);
    v128.store(scratch, s3, 48);
    // the scale of largest |scale|, the first of equals
    let amax: f32 = 0;
    let maxScale: f32 = 0;
    for (let j = 0; j < 16; j++) {
      const s = load<f32>(scratch + (<usize>j << 2));
      if (abs<f32>(s) > amax) {
        amax = abs<f32>(s);
        maxScale = s;
      }
    }
    memory.fill(y + 96, 0, 12);
    let dh: u32 = 0;
    if (maxScale != 0) {
      const iscale: f32 = <f32>-32 / maxScale;
      for (let j = 0; j < 16; j++) {
        // int8_t l = nearest_int(...): the int wraps to 8 bits before the clamp
        let l = <i32><i8>nearestInt(iscale * load<f32>(scratch + (<usize>j << 2)));
        l = (l < -32 ? -32 : l > 31 ? 31 : l) + 32;
        const at = y + 96 + (j & 7);
        store<u8>(at, load<u8>(at) | <u8>((l & 15) << ((j >> 3) << 2)));
        const hiAt = y + 104 + (j & 3);
        store<u8>(hiAt, load<u8>(hiAt) | <u8>((l >> 4) << ((j >> 2) << 1)));
      }
      dh = f32ToF16(<f32>1 / iscale);
    }
    store<u16>(y, <u16>dh, 108);
    const d = f16ToF32(dh);
    // codes: the qs bytes of (h, c) gather groups 8h + 2k + c at bits 2k, the hmask bytes 16c .. their high bits
    // at bit 4h + k; all kept in registers while a search may need the scratch again
    let q00 = zero;
    let q01 = zero;
    let q10 = zero;
    let q11 = zero;
    let hm0 = zero;
    let hm1 = zero;
    let searched = -1; // the four groups whose search codes sit in the scratch
    for (let h = 0; h < 2; h++) {
      for (let c = 0; c < 2; c++) {
        let qs = zero;
        let hm = zero;
        for (let k = 0; k < 4; k++) {
          const g = 8 * h + 2 * k + c;
          const dg = d * <f32>(scaleOf(y, g) - 32);
          let codes: v128;
          if (dg == 0) {
            // `if (!d) continue;`: the group keeps make_q3_quants's codes (rare: a tiny scale next to a large one)
            if ((g >> 2) != searched) {
              q3kSearch4(x + (<usize>(g >> 2) << 8), scratch);
              searched = g >> 2;
            }
            codes = searchedCodes(scratch, g & 3);
          } else {
            codes = finalCodes(x + (<usize>g << 6), dg);
          }
          qs = v128.or(qs, i8x16.shl(v128.and(codes, i8x16.splat(3)), k << 1));
          hm = v128.or(hm, i8x16.shl(v128.and(i8x16.shr_u(codes, 2), i8x16.splat(1)), (h << 2) + k));
        }
        if (h == 0) {
          if (c == 0) q00 = qs;
          else q01 = qs;
        } else {
          if (c == 0) q10 = qs;
          else q11 = qs;
        }
        if (c == 0) hm0 = v128.or(hm0, hm);
        else hm1 = v128.or(hm1, hm);
      }
    }
    v128.store(y, hm0);
    v128.store(y, hm1, 16);
    v128.store(y, q00, 32);
    v128.store(y, q01, 48);
    v128.store(y, q10, 64);
    v128.store(y, q11, 80);
  }
}

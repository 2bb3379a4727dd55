// IQ4_NL rows (ggml type 20): blocks of 32 four-bit indices into a fixed table of 16 non-linear int8 levels,
// one f16 scale per block. decode_iq4_nl: ids -> f32 rows (d * level, as dequantize_row_iq4_nl); dot_iq4_nl:
// exact dot from the packed row; encode_iq4_nl: f32 -> blocks, byte-identical to ggml's quantize_iq4_nl
// (what ggml_quantize_chunk and llama-quantize run): a search over 16 trial scales per block.
// The levels and the scale search (quantize_row_iq4_nl_impl's loop over blocks of 32) live here and serve
// IQ4_XS too, whose sub-blocks of 32 ggml quantizes with the same code.
// Keys: D dim, N ids, B = 32 elements per block; a row is ceil(D / 32) blocks of 18 bytes.
//   block (18 bytes): [ d f16 | qs[0] | qs[1] | ... | qs[15] ]
//                       0-1     2       3             17
//   qs[j] = index of element j in the low nibble, of element j + 16 in the high nibble
//   levels (kvalues_iq4nl): -127 -104 -83 -65 -49 -35 -22 -10 1 13 25 38 53 69 89 113
// see: ggml-common.h block_iq4_nl, kvalues_iq4nl; ggml-quants.c quantize_iq4_nl, quantize_row_iq4_nl_impl,
// best_index_int8, dequantize_row_iq4_nl.
import { f16ToF32, f32ToF16 } from "../half";
import { hsum } from "../madd";
import { lut16 } from "../fast/swizzle";
import { bytesDot, rowScales } from "./q8_0";
import { VEC_Q8_0, actD256 } from "../activations";
import { idotUnpacked32, unpackedCodes, unpackedD } from "../idot32";
import { GROUP_MAX_EPS, laneGather, laneOf } from "./kquant-search";
import { decodeRows } from "./block-rows";
import { decodeLevels, dotLevels } from "./nibble-levels";
import { IQ4_15, IQ4_255, IQ4_256, IQ4_BASE, IQ4_FIRST, IQ4_M256, IQ4_SECOND, KQ_31, MASK_0F, MASK_EVEN_HI, MASK_FF00, MASK_IQ4_LEVELS, vconst } from "../vconst";

// ggml's kvalues_iq4nl, as 16 signed bytes (a swizzle table).
// @ts-ignore: decorator
@inline export function levels(): v128 {
  return i8x16(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
}

// The block as block-rows.ts and nibble-levels.ts take it.
// @ts-ignore: decorator
@final class IQ4_NLBlock {
  // @ts-ignore: decorator
  @inline scale(blk: usize): f32 {
    return f16ToF32(load<u16>(blk));
  }
  // @ts-ignore: decorator
  @inline levels(): v128 {
    return levels();
  }
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    decodeLevels<IQ4_NLBlock>(src, dst, 2);
  }
}

export function decode_iq4_nl(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<IQ4_NLBlock>(table, rowBytes, ids, n, dim, out, 32, 18);
}

// Exact dot of one IQ4_NL row with one f32 vector of `dim` values (whole blocks): per block, d * sum(level_j x_j).
export function dot_iq4_nl(row: usize, x: usize, dim: i32): f32 {
  return dotLevels<IQ4_NLBlock>(row, x, dim, 2, 18);
}

// ---- encode: ggml's quantize_row_iq4_nl_impl, operation for operation in f32 (no importance weights: the
// weights are x^2; ntry 7), blocks of 32 four at a time, one per lane.

// best_index_int8(16, kvalues_iq4nl, v) on four lanes, NaN aside. ggml's bisection ends on the level pair
// around v and takes the upper one when v - lower < upper - v fails; both differences are exact near a
// midpoint (the levels are integers and the midpoints lie where v's ulp is coarser than theirs), and each side
// of the test is monotonic in v, so the test is v >= (lower + upper) / 2 exactly, and the index is the number
// of midpoints at or below v (checked against ggml's bisection for all 2^32 bit patterns but NaN). The
// midpoints are halves of integers, so v >= m exactly when floor(2v) >= 2m: with u = floor(2v) + 256 clamped to
// 0..511, the count is RUN_BASE[u >> 5] plus the midpoints inside that run of 32 (at most two, at offsets
// RUN_FIRST and RUN_SECOND; 32: none) that u & 31 reaches.
//   2m + 256: 25 69 108 142 172 199 224 247 270 294 319 347 378 414 458
// The constants of levelIndex4K, bestIndex4 and levelOf come from vconst.ts (IQ4_*, KQ_31, MASK_IQ4_LEVELS),
// loaded by their callers once per search or call; the three tables are read by lut16 (in-range indices).

// best_index_int8(16, kvalues_iq4nl, v) on four lanes, NaN aside (the method above), its constants given
// (vconst: IQ4_255 .. IQ4_SECOND).
// @ts-ignore: decorator
@inline function levelIndex4K(v: v128, c255: v128, cm256: v128, c256: v128, c31: v128, base: v128, first: v128, second: v128): v128 {
  const t = i32x4.max_s(i32x4.min_s(i32x4.trunc_sat_f32x4_s(f32x4.floor(f32x4.add(v, v))), c255), cm256);
  const u = i32x4.add(t, c256);
  const run = i32x4.shr_u(u, 5); // in each lane's low byte, zeros above: the lookups read one table byte
  const r = v128.and(u, c31);
  const b = v128.and(lut16(base, run), c255);
  const f = v128.and(lut16(first, run), c255);
  const s2 = v128.and(lut16(second, run), c255);
  return i32x4.sub(i32x4.sub(b, i32x4.ge_s(r, f)), i32x4.ge_s(r, s2));
}

// best_index_int8 with NaN: it fails every comparison in ggml and ends on index 15. Its constants are read at
// the call (the code pass runs it once per 4 values; the search loop, which runs it 16 times as often, hoists them).
// @ts-ignore: decorator
@inline function bestIndex4(v: v128): v128 {
  const l = levelIndex4K(v, vconst(IQ4_255), vconst(IQ4_M256), vconst(IQ4_256), vconst(KQ_31), vconst(IQ4_BASE), vconst(IQ4_FIRST), vconst(IQ4_SECOND));
  return v128.bitselect(vconst(IQ4_15), l, f32x4.ne(v, v));
}

// The level of index l (i32 lanes 0..15) as f32: the lookup reads byte l into each lane's low byte (lv:
// vconst(MASK_IQ4_LEVELS)).
// @ts-ignore: decorator
@inline function levelOf(l: v128, lv: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.shr_s(i32x4.shl(lut16(lv, l), 24), 24));
}

/**
 * The scales of four blocks of 32 at x, x + stride, x + 2 stride, x + 3 stride, one per lane (inlined: a
 * constant stride makes the gathers cheaper, IQ4_XS's search measured 142 -> 165 MB/s of CPU time):
 * quantize_row_iq4_nl_impl's loop over blocks with weights x^2 and ntry 7. The first trial (id = 1 / (max / 127))
 * sets d and best; the fifteen others (id = (itry - 127) / max) replace them where sumqx^2 > best * sumq2, a
 * select; blocks whose largest |x| is below GROUP_MAX_EPS get 0. IQ4_NL keeps these scales, IQ4_XS quantizes
 * them to six bits under a block scale.
 */
// @ts-ignore: decorator
@inline export function iq4nlSearch4(x: usize, stride: usize): v128 {
  const zero = f32x4.splat(0);
  const c255 = vconst(IQ4_255);
  const cm256 = vconst(IQ4_M256);
  const c256 = vconst(IQ4_256);
  const c31 = vconst(KQ_31);
  const base = vconst(IQ4_BASE);
  const first = vconst(IQ4_FIRST);
  const second = vconst(IQ4_SECOND);
  const lv = vconst(MASK_IQ4_LEVELS);
  // the value of largest |x| (`if (ax > amax)`: the first of equals, NaN never)
  let amax = zero;
  let max = zero;
  for (let j = 0; j < 32; j++) {
    const xj = laneGather(x, j, stride);
    const ax = f32x4.abs(xj);
    const gt = f32x4.gt(ax, amax);
    amax = v128.bitselect(ax, amax, gt);
    max = v128.bitselect(xj, max, gt);
  }
  const quiet = f32x4.lt(amax, f32x4.splat(GROUP_MAX_EPS));
  let d = zero;
  let best = zero;
  for (let itry = -8; itry <= 7; itry++) {
    const id = itry < -7
      ? f32x4.div(f32x4.splat(1), f32x4.div(f32x4.neg(max), f32x4.splat(-127)))
      : f32x4.div(f32x4.splat(<f32>(itry - 127)), max);
    let sumqx = zero;
    let sumq2 = zero;
    for (let j = 0; j < 32; j++) {
      const xj = laneGather(x, j, stride);
      // levelIndex4 without the NaN case will do: a NaN id * x comes from a NaN value (its lane's sums are NaN
      // whatever the level) or from 0 * inf (an inf value, whose sums are inf or NaN for any positive level:
      // both 15 and the 8 that a NaN reads here are positive)
      const q = levelOf(levelIndex4K(f32x4.mul(id, xj), c255, cm256, c256, c31, base, first, second), lv);
      const wq = f32x4.mul(f32x4.mul(xj, xj), q);
      sumqx = f32x4.add(sumqx, f32x4.mul(wq, xj));
      sumq2 = f32x4.add(sumq2, f32x4.mul(wq, q));
    }
    const trial = f32x4.div(sumqx, sumq2);
    if (itry < -7) {
      d = v128.and(trial, f32x4.gt(sumq2, zero));
      best = f32x4.mul(d, sumqx);
    } else {
      const better = v128.and(f32x4.gt(sumq2, zero), f32x4.gt(f32x4.mul(sumqx, sumqx), f32x4.mul(best, sumq2)));
      d = v128.bitselect(trial, d, better);
      best = v128.bitselect(f32x4.mul(trial, sumqx), best, better);
    }
  }
  return v128.andnot(d, quiet);
}

/** best_index_int8(id * x) for 16 values at x, as 16 bytes. */
// @ts-ignore: decorator
@inline export function iq4nlCodes16(x: usize, id: v128): v128 {
  const c0 = bestIndex4(f32x4.mul(id, v128.load(x)));
  const c1 = bestIndex4(f32x4.mul(id, v128.load(x, 16)));
  const c2 = bestIndex4(f32x4.mul(id, v128.load(x, 32)));
  const c3 = bestIndex4(f32x4.mul(id, v128.load(x, 48)));
  return i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3));
}

// `count` blocks of 32 at x, `stride` bytes apart (0: one block in every lane), into blocks of 18 bytes at y:
// their scales, then the codes once more from each final scale (id = d ? 1 / d : 0, NaN being true in C), as
// ggml does for ntry > 0 with one block per super-block.
function encodeBlocks(x: usize, y: usize, stride: usize, count: i32): void {
  const scale = iq4nlSearch4(x, stride);
  const id = v128.and(f32x4.div(f32x4.splat(1), scale), f32x4.ne(scale, f32x4.splat(0)));
  for (let k = 0; k < count; k++) {
    const xb = x + <usize>k * stride;
    const yb = y + <usize>k * 18;
    const idk = f32x4.splat(laneOf(id, k));
    store<u16>(yb, <u16>f32ToF16(laneOf(scale, k)));
    v128.store(yb, v128.or(iq4nlCodes16(xb, idk), i8x16.shl(iq4nlCodes16(xb + 64, idk), 4)), 2);
  }
}

// Encode n f32 values (whole blocks of 32): four blocks per search, then the last ones alone.
export function encode_iq4_nl(src: usize, n: usize, dst: usize): void {
  const blocks = <i32>(n >> 5);
  let b = 0;
  for (; b + 4 <= blocks; b += 4) encodeBlocks(src + (<usize>b << 7), dst + <usize>b * 18, 128, 4);
  for (; b < blocks; b++) encodeBlocks(src + (<usize>b << 7), dst + <usize>b * 18, 0, 1);
}

// ---- mode "ggml": integer dots with Q8_0 activations (activations.ts), as ggml_vec_dot_iq4_nl_q8_0 ----
// Per block: sum level_j * x_code_j exact in i32, then one f32 multiply by d_w * d_x. The levels are signed
// (-127..113), which i16x8.relaxed_dot_i8x16_i7x16_s cannot take exactly, so both builds look them up as bytes
// (lut16) and pair them with the record's even and odd i16 codes as 256 * level (q8_0.ts bytesDot); the 256
// goes into d_x / 256. A row streams front to back, one block per step (see q8_0.ts idotRow).

// @ts-ignore: decorator
@inline function idotRowIq4Nl(w: usize, ws: usize, x: usize, nb: i32): f32 {
  // the levels and masks loaded once (vconst.ts: V8 13+ rebuilds a constant vector at each use in a loop)
  const kv = vconst(MASK_IQ4_LEVELS);
  const m0f = vconst(MASK_0F);
  const mff00 = vconst(MASK_FF00);
  const mev = vconst(MASK_EVEN_HI);
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const q = v128.load(w, 2);
    const s = bytesDot(lut16(kv, v128.and(q, m0f)), lut16(kv, v128.and(i16x8.shr_u(q, 4), m0f)), x, mff00, mev);
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), v128.load32_splat(ws)));
    w += 18;
    ws += 4;
    x += 64;
  }
  return hsum(acc);
}

// A row unpacked for a batch (idot32.ts): d, and the levels as signed bytes.
function unpackIq4Nl(w: usize, nb: i32, u: usize): void {
  const kv = levels();
  for (let b = 0; b < nb; b++) {
    store<f32>(unpackedD(u, b), f16ToF32(load<u16>(w)));
    const q = v128.load(w, 2);
    const c = unpackedCodes(u, nb, b);
    v128.store(c, lut16(kv, v128.and(q, i8x16.splat(15))));
    v128.store(c, lut16(kv, i8x16.shr_u(q, 4)), 16);
    w += 18;
  }
}

// R rows (rowBytes apart) . B activation records (actStride apart): out[b * S + r], f32. scratch: a row's
// block scales (4 * blocks bytes), or for two or more records the row unpacked (idot32.ts unpackedBytes).
export function idot_iq4_nl(rows: usize, rowBytes: usize, nrows: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, scratch: usize): void {
  const nb = <i32>(rowBytes / 18);
  const dOff = actD256(VEC_Q8_0, dim);
  for (let r = 0; r < nrows; r++) {
    const w = rows + <usize>r * rowBytes;
    if (nx >= 2) {
      unpackIq4Nl(w, nb, scratch);
      for (let b = 0; b < nx; b++) {
        const v = idotUnpacked32(scratch, nb, act + <usize>b * actStride, dim, VEC_Q8_0, false, -1, false);
        store<f32>(out + ((<usize>b * <usize>stride + <usize>r) << 2), v);
      }
      continue;
    }
    for (let b = 0; b < nx; b++) {
      const a = act + <usize>b * actStride;
      rowScales(w, 18, nb, a + dOff, scratch);
      store<f32>(out + ((<usize>b * <usize>stride + <usize>r) << 2), idotRowIq4Nl(w, scratch, a, nb));
    }
  }
}

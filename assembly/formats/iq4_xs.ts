// IQ4_XS rows (ggml type 23, the 4.25-bit non-linear quant of llama.cpp's IQ4_XS files): blocks of 256 four-bit
// indices into 16 fixed levels (kvalues_iq4nl), in 8 sub-blocks of 32 with a six-bit scale each, and an f16
// scale d per block.
// decode_iq4_xs: rows of ids -> f32 (SIMD); dot_iq4_xs: exact dot from the packed row; encode_iq4_xs: f32 ->
// blocks, byte-identical to ggml's quantize_iq4_xs without an importance matrix (quantize_row_iq4_nl_impl with
// super-block 256, blocks of 32, ntry 7, weights x^2), the scale search four sub-blocks at a time.
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
import { GROUP_MAX_EPS, laneGather, nearestInt } from "./kquant-search";

const QK: i32 = 256;
const BLOCK_BYTES: usize = 136;

// ggml's kvalues_iq4nl, as 16 signed bytes (a swizzle table).
// @ts-ignore: decorator
@inline function levels(): v128 {
  return i8x16(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
}

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

// ggml's kvalues_iq4nl, for the scalar tail.
const KVALUES = memory.data<i8>([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]);

// The first `count` values of a block, one at a time (a row's padded tail block; the same f32 operations).
function decodePartial(src: usize, dst: usize, count: i32): void {
  const d = f16ToF32(load<u16>(src));
  for (let e = 0; e < count; e++) {
    const q = <i32>load<u8>(src + 8 + ((e >> 5) << 4) + (e & 15));
    const nibble = (e & 16) != 0 ? q >> 4 : q & 15;
    store<f32>(dst + (<usize>e << 2), (d * <f32>scaleOf(src, e >> 5)) * <f32>load<i8>(KVALUES + nibble));
  }
}

export function decode_iq4_xs(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  const full = dim / QK;
  const rest = dim % QK;
  let dst = out;
  for (let r = 0; r < n; r++) {
    let src = table + <usize>load<u32>(ids + (<usize>r << 2)) * rowBytes;
    for (let b = 0; b < full; b++) {
      decodeBlock(src, dst);
      src += BLOCK_BYTES;
      dst += <usize>QK << 2;
    }
    if (rest > 0) {
      decodePartial(src, dst, rest);
      dst += <usize>rest << 2;
    }
  }
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

// ---- encode: ggml's reference quantizer, operation for operation in f32 ----

// best_index_int8(16, kvalues_iq4nl, v) on four lanes, NaN aside. ggml's bisection ends on the level pair
// around v and takes the upper one when v - lower < upper - v fails; both differences are exact near a
// midpoint (the levels are integers and the midpoints lie where v's ulp is coarser than theirs), and each side
// of the test is monotonic in v, so the test is v >= (lower + upper) / 2 exactly, and the index is the number
// of midpoints at or below v. The midpoints are halves of integers, so v >= m exactly when floor(2v) >= 2m:
// with u = floor(2v) + 256 clamped to 0..511, the count is RUN_BASE[u >> 5] plus the midpoints inside that run
// of 32 (at most two, at offsets RUN_FIRST and RUN_SECOND; 32: none) that u & 31 reaches.
//   2m + 256: 25 69 108 142 172 199 224 247 270 294 319 347 378 414 458
// @ts-ignore: decorator
@inline function levelIndex4(v: v128): v128 {
  const t = i32x4.max_s(i32x4.min_s(i32x4.trunc_sat_f32x4_s(f32x4.floor(f32x4.add(v, v))), i32x4.splat(255)), i32x4.splat(-256));
  const u = i32x4.add(t, i32x4.splat(256));
  const run = i32x4.shr_u(u, 5); // in each lane's low byte, zeros above: the swizzles read one table byte
  const r = v128.and(u, i32x4.splat(31));
  const byte = i32x4.splat(255);
  const base = v128.and(i8x16.swizzle(i8x16(0, 1, 1, 2, 3, 4, 5, 6, 8, 9, 11, 12, 13, 14, 14, 15), run), byte);
  const first = v128.and(i8x16.swizzle(i8x16(25, 32, 5, 12, 14, 12, 7, 0, 14, 6, 27, 26, 30, 32, 10, 32), run), byte);
  const second = v128.and(i8x16.swizzle(i8x16(32, 32, 32, 32, 32, 32, 32, 23, 32, 31, 32, 32, 32, 32, 32, 32), run), byte);
  return i32x4.sub(i32x4.sub(base, i32x4.ge_s(r, first)), i32x4.ge_s(r, second));
}

// best_index_int8 with NaN: it fails every comparison in ggml and ends on index 15.
// @ts-ignore: decorator
@inline function bestIndex4(v: v128): v128 {
  return v128.bitselect(i32x4.splat(15), levelIndex4(v), f32x4.ne(v, v));
}

// The level of index l (i32 lanes 0..15) as f32: the swizzle reads byte l into each lane's low byte.
// @ts-ignore: decorator
@inline function levelOf(l: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.shr_s(i32x4.shl(i8x16.swizzle(levels(), l), 24), 24));
}

// The scales of the four sub-blocks of 32 at x (128 bytes apart), one per lane: quantize_row_iq4_nl_impl's
// first loop with weights x^2 and ntry 7. The first trial (id = 1 / (max / 127)) sets d and best; the fifteen
// others (id = (itry - 127) / max) replace them where sumqx^2 > best * sumq2, a select.
function iq4xsSearch4(x: usize): v128 {
  const zero = f32x4.splat(0);
  // the value of largest |x| (`if (ax > amax)`: the first of equals, NaN never)
  let amax = zero;
  let max = zero;
  for (let j = 0; j < 32; j++) {
    const xj = laneGather(x, j, 128);
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
      const xj = laneGather(x, j, 128);
      // (a NaN value makes this lane's sums NaN whatever its level: levelIndex4 without the NaN case will do)
      const q = levelOf(levelIndex4(f32x4.mul(id, xj)));
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

// Lane `lane` (0..3, not a constant) of four f32.
// @ts-ignore: decorator
@inline function laneOf(v: v128, lane: i32): f32 {
  const at = i8x16.splat(<i8>(lane << 2));
  return f32x4.extract_lane(i8x16.swizzle(v, i8x16.add(at, i8x16(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3))), 0);
}

// best_index_int8(idl * x) for 16 values at x, as 16 bytes.
// @ts-ignore: decorator
@inline function finalCodes(x: usize, idl: v128): v128 {
  const c0 = bestIndex4(f32x4.mul(idl, v128.load(x)));
  const c1 = bestIndex4(f32x4.mul(idl, v128.load(x, 16)));
  const c2 = bestIndex4(f32x4.mul(idl, v128.load(x, 32)));
  const c3 = bestIndex4(f32x4.mul(idl, v128.load(x, 48)));
  return i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3));
}

// Encode n f32 values (whole blocks of 256), as quantize_iq4_xs with no importance matrix.
export function encode_iq4_xs(src: usize, n: usize, dst: usize): void {
  for (let b: usize = 0; b < n; b += <usize>QK) {
    const x = src + (b << 2);
    const y = dst + (b / <usize>QK) * BLOCK_BYTES;
    const s0 = iq4xsSearch4(x);
    const s1 = iq4xsSearch4(x + 512);
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
      const lo = finalCodes(xb, idl);
      const hi = finalCodes(xb + 64, idl);
      v128.store(y + 8 + (<usize>ib << 4), v128.or(lo, i8x16.shl(hi, 4)));
      const ls = <u32>(l + 32);
      scalesL |= (ls & 15) << (<u32>ib << 2);
      scalesH |= (ls >> 4) << (<u32>ib << 1);
    }
    store<u16>(y, <u16>scalesH, 2);
    store<u32>(y, scalesL, 4);
  }
}

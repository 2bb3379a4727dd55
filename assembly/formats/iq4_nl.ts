// IQ4_NL rows (ggml type 20): blocks of 32 four-bit indices into a fixed table of 16 non-linear int8 levels,
// one f16 scale per block. decode_iq4_nl: ids -> f32 rows (d * level, as dequantize_row_iq4_nl); dot_iq4_nl:
// exact dot from the packed row; encode_iq4_nl: f32 -> blocks, byte-identical to ggml's quantize_iq4_nl
// (what ggml_quantize_chunk and llama-quantize run): a search over 16 trial scales per block.
// Keys: D dim, N ids, B = 32 elements per block; a row is ceil(D / 32) blocks of 18 bytes.
//   block (18 bytes): [ d f16 | qs[0] | qs[1] | ... | qs[15] ]
//                       0-1     2       3             17
//   qs[j] = index of element j in the low nibble, of element j + 16 in the high nibble
//   levels (kvalues_iq4nl): -127 -104 -83 -65 -49 -35 -22 -10 1 13 25 38 53 69 89 113
// see: ggml-common.h block_iq4_nl, kvalues_iq4nl; ggml-quants.c quantize_iq4_nl, quantize_row_iq4_nl_impl,
// best_index_int8, dequantize_row_iq4_nl.
import { f16ToF32, f32ToF16 } from "../half";
import { scaleCodes16 } from "../codes";
import { hsum } from "../madd";
import { lut16 } from "../fast/swizzle";
import { largestMagnitude } from "./q4_0";
import { mulCodes16 } from "./q8_0";

// kvalues_iq4nl, 16 bytes (read-only: the decoders' lookup table and their scalar tails' levels)
const LEVELS = memory.data<i8>([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113], 16);

// @ts-ignore: decorator
@inline function levels(): v128 {
  return v128.load(LEVELS);
}

export function decode_iq4_nl(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  const full = dim >> 5;
  const tail = dim & 31; // a padded last block: only its first `tail` elements are written
  const kv = levels();
  let dst = out;
  for (let r = 0; r < n; r++) {
    let src = table + <usize>load<u32>(ids + (<usize>r << 2)) * rowBytes;
    for (let b = 0; b < full; b++) {
      const d = f32x4.splat(f16ToF32(load<u16>(src)));
      const qs = v128.load(src, 2);
      scaleCodes16(dst, lut16(kv, v128.and(qs, i8x16.splat(15))), d);
      scaleCodes16(dst + 64, lut16(kv, i8x16.shr_u(qs, 4)), d);
      src += 18;
      dst += 128;
    }
    if (tail) {
      const d = f16ToF32(load<u16>(src));
      for (let j = 0; j < tail; j++) {
        const q = j < 16 ? load<u8>(src + 2 + j) & 15 : load<u8>(src + 2 + j - 16) >> 4;
        store<f32>(dst, d * <f32>load<i8>(LEVELS + q));
        dst += 4;
      }
    }
  }
}

// Exact dot of one IQ4_NL row with one f32 vector of `dim` values (whole blocks), straight from the packed bytes:
// per block, d * sum(level_j x_j). Used by the projection for small batches.
export function dot_iq4_nl(row: usize, x: usize, dim: i32): f32 {
  const blocks = dim >> 5; // whole blocks: the caller guarantees it
  let acc = f32x4.splat(0);
  const kv = levels();
  for (let b = 0; b < blocks; b++) {
    const qs = v128.load(row, 2);
    const lo = mulCodes16(lut16(kv, v128.and(qs, i8x16.splat(15))), x);
    const hi = mulCodes16(lut16(kv, i8x16.shr_u(qs, 4)), x + 64);
    acc = f32x4.add(acc, f32x4.mul(f32x4.add(lo, hi), f32x4.splat(f16ToF32(load<u16>(row)))));
    row += 18;
    x += 128;
  }
  return hsum(acc);
}

// ---- encode: ggml's quantize_row_iq4_nl_impl for one block per super block, no importance weights (the
// weights are x^2), ntry 7; four blocks at a time, one per lane, each lane doing the scalar code's f32
// operations in its order.

// ggml's GROUP_MAX_EPS: blocks whose largest |x| is below it get scale 0.
const GROUP_MAX_EPS: f32 = 1e-15;

// best_index_int8(16, kvalues_iq4nl, x) on four lanes: the number of midpoints between neighbouring levels
// that x reaches. ggml compares x - lo < hi - x in f32 and takes hi on ties; for every f32 x but NaN this
// is x >= (lo + hi) / 2 (checked over all 2^32 bit patterns). NaN fails every test of ggml's binary search,
// which then ends on the last level. (Counting in i16 lanes, eight at a time, measured no faster: x86 has
// no i16 >= and no cheap saturating float-to-int conversion.)
// @ts-ignore: decorator
@inline function bestIndex4(x: v128): v128 {
  let l = i32x4.splat(0);
  // a true compare is -1: subtracting it counts
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(-115.5)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(-93.5)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(-74.0)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(-57.0)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(-42.0)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(-28.5)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(-16.0)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(-4.5)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(7.0)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(19.0)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(31.5)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(45.5)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(61.0)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(79.0)));
  l = i32x4.sub(l, f32x4.ge(x, f32x4.splat(101.0)));
  return v128.bitselect(i32x4.splat(15), l, f32x4.ne(x, x));
}

// The level (f32) of the index nearest to id * x, four lanes: the table byte lands in each lane's low byte
// (the other three bytes look up entry 0) and is sign-extended from there.
// @ts-ignore: decorator
@inline function level4(kv: v128, id: v128, x: v128): v128 {
  const l = bestIndex4(f32x4.mul(id, x));
  return f32x4.convert_i32x4_s(i32x4.shr_s(i32x4.shl(lut16(kv, l), 24), 24));
}

// 4 x 4 transposes: rows r0..r3 (four values of one block each) -> column k (value k of the four blocks).
// @ts-ignore: decorator
@inline function column0(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return v128.shuffle<f32>(v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), 0, 1, 4, 5);
}
// @ts-ignore: decorator
@inline function column1(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return v128.shuffle<f32>(v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), 2, 3, 6, 7);
}
// @ts-ignore: decorator
@inline function column2(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return v128.shuffle<f32>(v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), v128.shuffle<f32>(r2, r3, 2, 6, 3, 7), 0, 1, 4, 5);
}
// @ts-ignore: decorator
@inline function column3(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return v128.shuffle<f32>(v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), v128.shuffle<f32>(r2, r3, 2, 6, 3, 7), 2, 3, 6, 7);
}

// The scale quantize_row_iq4_nl_impl settles on for each of four blocks (values at p0..p3, one block per
// lane): d = max / 127 first, then 15 trial inverse scales (itry - 127) / max, keeping the best
// sumqx^2 / sumq2; 0 for blocks whose largest |x| is below GROUP_MAX_EPS. Each lane sums its block in
// element order, with w = x * x: sumqx += w*q*x, sumq2 += w*q*q, as the C loop does.
function scales4(p0: usize, p1: usize, p2: usize, p3: usize): v128 {
  // the value of largest |x| (`if (ax > amax)`, the first of equals, NaN never: Q4_0's test)
  let max = f32x4.splat(largestMagnitude(p0));
  max = f32x4.replace_lane(max, 1, largestMagnitude(p1));
  max = f32x4.replace_lane(max, 2, largestMagnitude(p2));
  max = f32x4.replace_lane(max, 3, largestMagnitude(p3));
  const quiet = f32x4.lt(f32x4.abs(max), f32x4.splat(GROUP_MAX_EPS));
  const kv = levels();
  let d = f32x4.splat(0);
  let best = f32x4.splat(0);
  // pass -8 is the first estimate, id = 1 / (-max / -127); passes -7..7 are ggml's itry
  for (let itry = -8; itry <= 7; itry++) {
    const id = itry == -8
      ? f32x4.div(f32x4.splat(1), f32x4.div(f32x4.neg(max), f32x4.splat(-127)))
      : f32x4.div(f32x4.splat(<f32>(itry - 127)), max);
    let sumqx = f32x4.splat(0);
    let sumq2 = f32x4.splat(0);
    for (let j: usize = 0; j < 128; j += 16) {
      // values j/4 .. j/4 + 3 of the four blocks, then one element of all four per column
      const r0 = v128.load(p0 + j);
      const r1 = v128.load(p1 + j);
      const r2 = v128.load(p2 + j);
      const r3 = v128.load(p3 + j);
      // (four copies of the column step, not a loop over columns: measured 85 against 59 MB/s)
      const x0 = column0(r0, r1, r2, r3);
      const x1 = column1(r0, r1, r2, r3);
      const x2 = column2(r0, r1, r2, r3);
      const x3 = column3(r0, r1, r2, r3);
      const q0 = level4(kv, id, x0);
      const q1 = level4(kv, id, x1);
      const q2 = level4(kv, id, x2);
      const q3 = level4(kv, id, x3);
      // sumqx += w*q*x; sumq2 += w*q*q with w = x*x, element after element, in C's order of operations
      const wq0 = f32x4.mul(f32x4.mul(x0, x0), q0);
      sumqx = f32x4.add(sumqx, f32x4.mul(wq0, x0));
      sumq2 = f32x4.add(sumq2, f32x4.mul(wq0, q0));
      const wq1 = f32x4.mul(f32x4.mul(x1, x1), q1);
      sumqx = f32x4.add(sumqx, f32x4.mul(wq1, x1));
      sumq2 = f32x4.add(sumq2, f32x4.mul(wq1, q1));
      const wq2 = f32x4.mul(f32x4.mul(x2, x2), q2);
      sumqx = f32x4.add(sumqx, f32x4.mul(wq2, x2));
      sumq2 = f32x4.add(sumq2, f32x4.mul(wq2, q2));
      const wq3 = f32x4.mul(f32x4.mul(x3, x3), q3);
      sumqx = f32x4.add(sumqx, f32x4.mul(wq3, x3));
      sumq2 = f32x4.add(sumq2, f32x4.mul(wq3, q3));
    }
    const positive = f32x4.gt(sumq2, f32x4.splat(0));
    const s = f32x4.div(sumqx, sumq2);
    if (itry == -8) {
      // d = sumq2 > 0 ? sumqx / sumq2 : 0; best = d * sumqx
      d = v128.and(s, positive);
      best = f32x4.mul(d, sumqx);
    } else {
      // if (sumq2 > 0 && sumqx * sumqx > best * sumq2) { d = sumqx / sumq2; best = d * sumqx; }
      const better = v128.and(positive, f32x4.gt(f32x4.mul(sumqx, sumqx), f32x4.mul(best, sumq2)));
      d = v128.bitselect(s, d, better);
      best = v128.bitselect(f32x4.mul(s, sumqx), best, better);
    }
  }
  return v128.andnot(d, quiet);
}

// Encode n f32 values (whole blocks), four blocks per pass (a last group of fewer repeats its first block in
// the spare lanes and stores only its own): the scales, then the indices once more from each final scale
// (id = scale ? 1 / scale : 0, NaN being true in C), as ggml does for ntry > 0.
export function encode_iq4_nl(src: usize, n: usize, dst: usize): void {
  const blocks = <i32>(n >> 5);
  for (let g = 0; g < blocks; g += 4) {
    const count = min(4, blocks - g);
    const p0 = src + (<usize>g << 7);
    const p1 = count > 1 ? p0 + 128 : p0;
    const p2 = count > 2 ? p0 + 256 : p0;
    const p3 = count > 3 ? p0 + 384 : p0;
    const out = dst + <usize>g * 18;
    const scale = scales4(p0, p1, p2, p3);
    const id = v128.and(f32x4.div(f32x4.splat(1), scale), f32x4.ne(scale, f32x4.splat(0)));
    for (let j: usize = 0; j < 64; j += 16) {
      // elements j/4 .. j/4 + 3 (r) and 16 further on (h) of the four blocks, one element per column
      const r0 = v128.load(p0 + j);
      const r1 = v128.load(p1 + j);
      const r2 = v128.load(p2 + j);
      const r3 = v128.load(p3 + j);
      const h0 = v128.load(p0 + j, 64);
      const h1 = v128.load(p1 + j, 64);
      const h2 = v128.load(p2 + j, 64);
      const h3 = v128.load(p3 + j, 64);
      for (let k = 0; k < 4; k++) {
        const r = k == 0 ? column0(r0, r1, r2, r3) : k == 1 ? column1(r0, r1, r2, r3) : k == 2 ? column2(r0, r1, r2, r3) : column3(r0, r1, r2, r3);
        const h = k == 0 ? column0(h0, h1, h2, h3) : k == 1 ? column1(h0, h1, h2, h3) : k == 2 ? column2(h0, h1, h2, h3) : column3(h0, h1, h2, h3);
        // qs byte j/4 + k of each block (lane b for block b): index of element j/4 + k | index of 16 further << 4
        const e = v128.or(bestIndex4(f32x4.mul(id, r)), i32x4.shl(bestIndex4(f32x4.mul(id, h)), 4));
        const qs = out + 2 + (j >> 2) + <usize>k;
        store<u8>(qs, <u8>i32x4.extract_lane(e, 0));
        if (count > 1) store<u8>(qs + 18, <u8>i32x4.extract_lane(e, 1));
        if (count > 2) store<u8>(qs + 36, <u8>i32x4.extract_lane(e, 2));
        if (count > 3) store<u8>(qs + 54, <u8>i32x4.extract_lane(e, 3));
      }
    }
    store<u16>(out, <u16>f32ToF16(f32x4.extract_lane(scale, 0)));
    if (count > 1) store<u16>(out + 18, <u16>f32ToF16(f32x4.extract_lane(scale, 1)));
    if (count > 2) store<u16>(out + 36, <u16>f32ToF16(f32x4.extract_lane(scale, 2)));
    if (count > 3) store<u16>(out + 54, <u16>f32ToF16(f32x4.extract_lane(scale, 3)));
  }
}

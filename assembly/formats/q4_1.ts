// Q4_1 rows: blocks of 32 unsigned 4-bit codes with an f16 scale d and an f16 minimum m. decode: ids -> f32
// rows (q * d + m, two f32 operations, as dequantize_row_q4_1); encode: f32 -> blocks, byte-identical to
// quantize_row_q4_1_ref. Keys: V vocab, D dim, N ids, B = 32; a row is ceil(D / 32) blocks of 20 bytes.
//   block (20 bytes): [ d f16 | m f16 | qs[0] | ... | qs[15] ]
//                       0-1     2-3     4             19
//   qs[j] = element j in the low nibble, element j + 16 in the high nibble
import { f16ToF32, f32ToF16, f16x4At } from "../half";
import { packNibbles, blockDotQ, rowMask } from "./q4_0";
import { dotCodes16 } from "../kquants";
import { rowScales } from "./q8_0";
import { VEC_Q8_1, actCodes8, actD, actD256, actS } from "../activations";
import { hsum } from "../madd";
import { vconst, MASK_0F } from "../vconst";
import { decodeRows } from "./block-rows";
import { idotUnpacked32, unpackedCodes, unpackedD, unpackedM } from "../idot32";

// One whole block: the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class Q4_1Block {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    const d = f32x4.splat(f16ToF32(load<u16>(src)));
    const m = f32x4.splat(f16ToF32(load<u16>(src, 2)));
    const qs = v128.load(src, 4);
    widenUnsigned16(dst, v128.and(qs, i8x16.splat(15)), d, m);
    widenUnsigned16(dst + 64, i8x16.shr_u(qs, 4), d, m);
  }
}

export function decode_q4_1(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<Q4_1Block>(table, rowBytes, ids, n, dim, out, 32, 20);
}

// 16 unsigned codes (bytes, Q4_1's 0..15 or Q5_1's 0..31) -> 16 values q * d + m (rounded after the
// product, then after the sum: no fma)
// @ts-ignore: decorator
@inline export function widenUnsigned16(dst: usize, q: v128, d: v128, m: v128): void {
  const lo = i16x8.extend_low_i8x16_u(q);
  const hi = i16x8.extend_high_i8x16_u(q);
  v128.store(dst, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(lo)), d), m));
  v128.store(dst, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(lo)), d), m), 16);
  v128.store(dst, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(hi)), d), m), 32);
  v128.store(dst, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(hi)), d), m), 48);
}

// Encode n f32 values (whole blocks): min, max of the block (`v < min`, `v > max` in order, so NaN is never
// picked and the first of two signed zeros stays), d = (max - min) / 15, q = min(15, (int8_t)((x - min) * (1/d) + 0.5)).
// see: ggml-quants.c quantize_row_q4_1_ref
export function encode_q4_1(src: usize, n: usize, dst: usize): void {
  for (let b: usize = 0; b < n; b += 32) {
    const extremes = blockMinMax(src);
    const min = f32x4.extract_lane(extremes, 0);
    const max = f32x4.extract_lane(extremes, 1);
    const d: f32 = (max - min) / 15.0;
    const id: f32 = d != 0 ? <f32>1.0 / d : 0;
    store<u16>(dst, <u16>f32ToF16(d));
    store<u16>(dst, <u16>f32ToF16(min), 2);
    packNibbles(src, dst + 4, f32x4.splat(min), f32x4.splat(id), f32x4.splat(0.5));
    src += 128;
    dst += 20;
  }
}

// The minimum and the maximum of the 32 values at src, as C's `if (v < min) min = v` (from FLT_MAX) and
// `if (v > max) max = v` (from -FLT_MAX) find them, in lanes 0 and 1 (Q4_1 and Q5_1). pmin/pmax
// (`b < a ? b : a`) are those tests lane by lane, NaN skipped alike; only which of +0 and -0 comes first can
// differ between lanes, so a zero extreme replays the C loop in order.
// @ts-ignore: decorator
@inline export function blockMinMax(src: usize): v128 {
  let lo = f32x4.splat(f32.MAX_VALUE);
  let hi = f32x4.splat(-f32.MAX_VALUE);
  for (let k = 0; k < 8; k++) {
    const v = v128.load(src + (<usize>k << 4));
    lo = f32x4.pmin(lo, v);
    hi = f32x4.pmax(hi, v);
  }
  lo = f32x4.pmin(lo, v128.shuffle<f32>(lo, lo, 2, 3, 0, 1));
  lo = f32x4.pmin(lo, v128.shuffle<f32>(lo, lo, 1, 0, 3, 2));
  hi = f32x4.pmax(hi, v128.shuffle<f32>(hi, hi, 2, 3, 0, 1));
  hi = f32x4.pmax(hi, v128.shuffle<f32>(hi, hi, 1, 0, 3, 2));
  let min = f32x4.extract_lane(lo, 0);
  let max = f32x4.extract_lane(hi, 0);
  if (min == 0 || max == 0) {
    min = f32.MAX_VALUE;
    max = -f32.MAX_VALUE;
    for (let j = 0; j < 32; j++) {
      const v = load<f32>(src + (<usize>j << 2));
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return f32x4.replace_lane(f32x4.splat(min), 1, max);
}

// Exact dot of one Q4_1 row with one f32 vector of `dim` values (whole blocks), straight from the packed bytes:
// each value decoded in registers as decode does (q * d + m; dotCodes16's q * d - (-m) is the same sum), times
// x, summed: the dot over the decoded row up to the order of its sums, infinite activations included (d *
// sum(q x) + m * sum(x) gave NaN where a value times inf is +-inf). Used by the projection for small batches.
export function dot_q4_1(row: usize, x: usize, dim: i32): f32 {
  const blocks = dim >> 5; // whole blocks: the caller guarantees it
  let acc = f32x4.splat(0);
  // the mask from memory, once (V8 13 rebuilds a constant vector at each use in a loop). The high nibbles by a
  // 16-bit shift and the mask (x86 has no byte shift). That once made Bun 1.4x slower: the cause was
  // dotCodes16's extend_high (kquants.ts), since replaced; now 2-3% faster than a byte shift on Bun and Node 24
  const m0f = vconst(MASK_0F);
  for (let b = 0; b < blocks; b++) {
    const q = v128.load(row, 4);
    const d = f32x4.splat(f16ToF32(load<u16>(row)));
    const negM = f32x4.splat(-f16ToF32(load<u16>(row, 2)));
    // low nibbles are elements 0..15, high nibbles 16..31
    acc = dotCodes16(v128.and(q, m0f), d, negM, x, acc);
    acc = dotCodes16(v128.and(i16x8.shr_u(q, 4), m0f), d, negM, x + 64, acc);
    row += 20;
    x += 128;
  }
  return hsum(acc);
}

// ---- mode "ggml": integer dots with Q8_1 activations (activations.ts), as ggml_vec_dot_q4_1_q8_1 ----
// Per block: d_w * d_x * sum q * x_code (the unsigned codes, exact in i32; q4_0.ts blockDotQ reads the same
// nibbles), and the minimum's term m_w * s_x with the record's s = f16(d * sum x_code): ggml adds those apart
// (summs) and the two sums at the end. A row streams front to back, one block per step (see q8_0.ts idotRow).

/**
 * rowScales (d_w * d_x per block into ws), and the row's minimum term: the sum over blocks of m_w (the f16 at
 * byte 2 of each block) times the record's s (xs), four blocks at a time. Q5_1 shares it.
 */
// @ts-ignore: decorator
@inline export function rowScalesMin(w: usize, blockBytes: usize, nb: i32, xd: usize, xs: usize, ws: usize): f32 {
  rowScales(w, blockBytes, nb, xd, ws);
  let m = w + 2;
  let acc = f32x4.splat(0);
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    acc = f32x4.add(acc, f32x4.mul(f16x4At(m, m + blockBytes, m + 2 * blockBytes, m + 3 * blockBytes), v128.load(xs)));
    m += blockBytes << 2;
    xs += 16;
  }
  let sum = hsum(acc);
  for (; b < nb; b++) {
    sum += f16ToF32(load<u16>(m)) * load<f32>(xs);
    m += blockBytes;
    xs += 4;
  }
  return sum;
}

// One row of nb blocks (d_w * d_x already in ws) . one activation record's codes (x: i16, x8: i8).
// @ts-ignore: decorator
@inline function idotRowQ4_1(w: usize, ws: usize, x: usize, x8: usize, nb: i32): f32 {
  const m = rowMask();
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(blockDotQ(w + 2, x, x8, m)), v128.load32_splat(ws)));
    w += 20;
    ws += 4;
    x += 64;
    x8 += 32;
  }
  return hsum(acc);
}

// A row unpacked for a batch (idot32.ts): d, m, and the codes 0..15.
function unpackQ4_1(w: usize, nb: i32, u: usize): void {
  for (let b = 0; b < nb; b++) {
    store<f32>(unpackedD(u, b), f16ToF32(load<u16>(w)));
    store<f32>(unpackedM(u, nb, b), f16ToF32(load<u16>(w, 2)));
    const q = v128.load(w, 4);
    const c = unpackedCodes(u, nb, b);
    v128.store(c, v128.and(q, i8x16.splat(15)));
    v128.store(c, i8x16.shr_u(q, 4), 16);
    w += 20;
  }
}

// R rows (rowBytes apart) . B activation records (actStride apart): out[b * S + r], f32. scratch: a row's
// block scales (4 * blocks bytes), or for two or more records the row unpacked (idot32.ts unpackedBytes).
export function idot_q4_1(rows: usize, rowBytes: usize, nrows: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, scratch: usize): void {
  const nb = <i32>(rowBytes / 20);
  // baseline: sums times 256 and d / 256; relaxed: plain sums and d
  const dOff = ASC_FEATURE_RELAXED_SIMD ? actD(VEC_Q8_1, dim) : actD256(VEC_Q8_1, dim);
  const c8 = actCodes8(VEC_Q8_1, dim);
  const sOff = actS(VEC_Q8_1, dim);
  for (let r = 0; r < nrows; r++) {
    const w = rows + <usize>r * rowBytes;
    if (nx >= 2) {
      unpackQ4_1(w, nb, scratch);
      for (let b = 0; b < nx; b++) {
        const v = idotUnpacked32(scratch, nb, act + <usize>b * actStride, dim, VEC_Q8_1, true, -1, true);
        store<f32>(out + ((<usize>b * <usize>stride + <usize>r) << 2), v);
      }
      continue;
    }
    for (let b = 0; b < nx; b++) {
      const a = act + <usize>b * actStride;
      const mins = rowScalesMin(w, 20, nb, a + dOff, a + sOff, scratch);
      store<f32>(out + ((<usize>b * <usize>stride + <usize>r) << 2), idotRowQ4_1(w, scratch, a, a + c8, nb) + mins);
    }
  }
}

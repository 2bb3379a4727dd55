// Q5_1 rows (ggml type 7): blocks of 32 unsigned five-bit codes with an f16 scale d and an f16 minimum m.
// decode_q5_1: ids -> f32 rows (q * d + m, two f32 operations, as dequantize_row_q5_1); dot_q5_1: exact dot
// from the packed row; encode_q5_1: f32 -> blocks, byte-identical to quantize_row_q5_1_ref.
// Keys: D dim, N ids, B = 32 elements per block; a row is ceil(D / 32) blocks of 24 bytes.
//   block (24 bytes): [ d f16 | m f16 | qh u32 | qs[0] | ... | qs[15] ]
//                       0-1     2-3     4-7     8             23
//   element j < 16:  low nibble of qs[j]  | (bit j of qh) << 4
//   element j + 16:  high nibble of qs[j] | (bit j + 16 of qh) << 4
// see: ggml-common.h block_q5_1; ggml-quants.c quantize_row_q5_1_ref, dequantize_row_q5_1.
import { f16ToF32, f32ToF16 } from "../half";
import { hsum } from "../madd";
import { codeX4 } from "./q4_0";
import { blockMinMax, widenUnsigned16, rowScalesMin } from "./q4_1";
import { dotCodes16 } from "../kquants";
import { codes5, codes5At, idotRow5, packFifths } from "./q5_0";
import { VEC_Q8_1, actCodes8, actD, actD256, actS } from "../activations";
import { lowBytes } from "./q8_0";
import { MASK_0F, MASK_10, MASK_BITS, MASK_SPREAD_HI, MASK_SPREAD_LO, vconst } from "../vconst";
import { decodeRows } from "./block-rows";
import { idotUnpacked32, unpackedCodes, unpackedD, unpackedM } from "../idot32";

// One whole block: the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class Q5_1Block {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    const d = f32x4.splat(f16ToF32(load<u16>(src)));
    const m = f32x4.splat(f16ToF32(load<u16>(src, 2)));
    const qh = load<u32>(src, 4);
    const qs = v128.load(src, 8);
    widenUnsigned16(dst, codes5At(qs, qh, false), d, m);
    widenUnsigned16(dst + 64, codes5At(qs, qh, true), d, m);
  }
}

export function decode_q5_1(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<Q5_1Block>(table, rowBytes, ids, n, dim, out, 32, 24);
}

// Exact dot of one Q5_1 row with one f32 vector of `dim` values (whole blocks), straight from the packed bytes:
// each value decoded in registers as decode does (q * d + m), times x, summed, as dot_q4_1.
export function dot_q5_1(row: usize, x: usize, dim: i32): f32 {
  const blocks = dim >> 5; // whole blocks: the caller guarantees it
  let acc = f32x4.splat(0);
  // the masks loaded once (vconst.ts: V8 13+ rebuilds a constant vector at each use in a loop)
  const m0f = vconst(MASK_0F);
  const m10 = vconst(MASK_10);
  const bits = vconst(MASK_BITS);
  const spLo = vconst(MASK_SPREAD_LO);
  const spHi = vconst(MASK_SPREAD_HI);
  for (let b = 0; b < blocks; b++) {
    const qh = load<u32>(row, 4);
    const qs = v128.load(row, 8);
    const d = f32x4.splat(f16ToF32(load<u16>(row)));
    const negM = f32x4.splat(-f16ToF32(load<u16>(row, 2)));
    acc = dotCodes16(codes5(qs, qh, false, spLo, m0f, m10, bits), d, negM, x, acc);
    acc = dotCodes16(codes5(qs, qh, true, spHi, m0f, m10, bits), d, negM, x + 64, acc);
    row += 24;
    x += 128;
  }
  return hsum(acc);
}

// Encode n f32 values (whole blocks): min, max of the block (`v < min`, `v > max` in order), d = (max - min) / 31,
// q = (uint8_t)((x - min) * (1/d) + 0.5): no clamp, the low byte of x86's conversion (codeX4 with top 127).
// see: ggml-quants.c quantize_row_q5_1_ref
export function encode_q5_1(src: usize, n: usize, dst: usize): void {
  const half = f32x4.splat(0.5);
  for (let b: usize = 0; b < n; b += 32) {
    const extremes = blockMinMax(src);
    const min = f32x4.extract_lane(extremes, 0);
    const max = f32x4.extract_lane(extremes, 1);
    const d: f32 = (max - min) / 31.0;
    const id = f32x4.splat(d != 0 ? <f32>1.0 / d : 0);
    const sub = f32x4.splat(min);
    store<u16>(dst, <u16>f32ToF16(d));
    store<u16>(dst, <u16>f32ToF16(min), 2);
    const lo = lowBytes(
      codeX4(v128.load(src), sub, id, half, 127),
      codeX4(v128.load(src, 16), sub, id, half, 127),
      codeX4(v128.load(src, 32), sub, id, half, 127),
      codeX4(v128.load(src, 48), sub, id, half, 127),
    );
    const hi = lowBytes(
      codeX4(v128.load(src, 64), sub, id, half, 127),
      codeX4(v128.load(src, 80), sub, id, half, 127),
      codeX4(v128.load(src, 96), sub, id, half, 127),
      codeX4(v128.load(src, 112), sub, id, half, 127),
    );
    packFifths(lo, hi, dst + 4, dst + 8);
    src += 128;
    dst += 24;
  }
}

// ---- mode "ggml": integer dots with Q8_1 activations (activations.ts), as ggml_vec_dot_q5_1_q8_1 ----
// Per block: d_w * d_x * sum q * x_code (the unsigned 5-bit codes unpacked to bytes; one vector: q5_0.ts idotRow5), and
// the minimum's term m_w * s_x (q4_1.ts rowScalesMin), added apart as ggml adds them.


// A row unpacked for a batch (idot32.ts): d, m, and the codes 0..31.
function unpackQ5_1(w: usize, nb: i32, u: usize): void {
  for (let b = 0; b < nb; b++) {
    store<f32>(unpackedD(u, b), f16ToF32(load<u16>(w)));
    store<f32>(unpackedM(u, nb, b), f16ToF32(load<u16>(w, 2)));
    const qh = load<u32>(w, 4);
    const q = v128.load(w, 8);
    const c = unpackedCodes(u, nb, b);
    v128.store(c, codes5At(q, qh, false));
    v128.store(c, codes5At(q, qh, true), 16);
    w += 24;
  }
}

// R rows (rowBytes apart) . B activation records (actStride apart): out[b * S + r], f32. scratch: a row's
// block scales (4 * blocks bytes), or for two or more records the row unpacked (idot32.ts unpackedBytes).
export function idot_q5_1(rows: usize, rowBytes: usize, nrows: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, scratch: usize): void {
  const nb = <i32>(rowBytes / 24);
  // baseline: sums times 256 and d / 256; relaxed: plain sums and d
  const dOff = ASC_FEATURE_RELAXED_SIMD ? actD(VEC_Q8_1, dim) : actD256(VEC_Q8_1, dim);
  const c8 = actCodes8(VEC_Q8_1, dim);
  const sOff = actS(VEC_Q8_1, dim);
  for (let r = 0; r < nrows; r++) {
    const w = rows + <usize>r * rowBytes;
    if (nx >= 2) {
      unpackQ5_1(w, nb, scratch);
      for (let b = 0; b < nx; b++) {
        const v = idotUnpacked32(scratch, nb, act + <usize>b * actStride, dim, VEC_Q8_1, true, -1, true);
        store<f32>(out + ((<usize>b * <usize>stride + <usize>r) << 2), v);
      }
      continue;
    }
    for (let b = 0; b < nx; b++) {
      const a = act + <usize>b * actStride;
      const mins = rowScalesMin(w, 24, nb, a + dOff, a + sOff, scratch);
      store<f32>(out + ((<usize>b * <usize>stride + <usize>r) << 2), idotRow5(w, scratch, a, a + c8, 0, -1, nb, 24, 4, 8) + mins);
    }
  }
}

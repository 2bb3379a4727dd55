// Q2_0 rows (ggml type 42, ternary Bonsai): blocks of 64 two-bit codes q and an f16 scale d, value (q - 1) * d.
// decode_q2_0: rows of ids -> f32 (SIMD, 64 values per block); encode_q2_0: f32 -> blocks, as ggml's
// quantize_row_q2_0_ref. Keys: D dim, N ids, B = 64 elements per block, 18 bytes per block.
//   block: [ d f16 (bytes 0-1) | qs[16] (bytes 2-17) ]
//   qs[b] = q(4b) | q(4b+1) << 2 | q(4b+2) << 4 | q(4b+3) << 6     element 0 = low 2 bits of qs[0]
//   code q: 0 -> -d, 1 -> 0, 2 -> +d, 3 -> +2d (ggml never writes 3 for finite inputs)
// see: FORMATS.md (Q2_0); ggml-quants.c quantize_row_q2_0_ref / dequantize_row_q2_0.
import { f16ToF32, f32ToF16 } from "../half";
import { mulCodes16 } from "./q8_0";
import { blockCodes, codeScratch } from "../codes";
import { hsum } from "../madd";
import { CODES, VALUES, fieldsDot16, unpack64 } from "../ternary";
import { decodeRows } from "./block-rows";
import { vconst, MASK_01, MASK_03 } from "../vconst";

const QK: i32 = 64;
const BLOCK_BYTES: usize = 18;

// One whole block (the row walker's block type, block-rows.ts): the 64 codes of qs, as PQ2_0's half blocks.
// @ts-ignore: decorator
@final class Q2_0Block {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    unpack64(v128.load(src, 2), f32x4.splat(f16ToF32(load<u16>(src))), dst, 0, VALUES);
  }
}

export function decode_q2_0(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<Q2_0Block>(table, rowBytes, ids, n, dim, out, QK, BLOCK_BYTES);
}

// Encode n f32 values (whole blocks) as quantize_row_q2_0_ref does, for any input: d = max|x| by
// `if (a > amax) amax = a` (a NaN never enters: pmax keeps its first operand unless the second is larger),
// id = d > 0 ? 1/d : 0, q = clamp((int)roundf(x * id) + 1, 0, 3), all in f32. A product that is not finite
// (a NaN x; inf * 0; x * inf when 1/d overflowed for a block of subnormals) converts to INT_MIN on x86, which
// clamps to code 0.
export function encode_q2_0(src: usize, n: usize, dst: usize): void {
  for (let i: usize = 0; i < n; i += <usize>QK) {
    const x = src + (i << 2);
    let m = f32x4.splat(0);
    for (let j: usize = 0; j < <usize>QK; j += 4) m = f32x4.pmax(m, f32x4.abs(v128.load(x + (j << 2))));
    const d = max<f32>(max<f32>(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max<f32>(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    blockCodes(x, QK, d > 0 ? <f32>1.0 / d : 0, -1);
    store<u16>(dst, <u16>f32ToF16(d));
    // 4 codes per byte, first in the low bits: pairs in u16 lanes (e0 | e1 << 2), then pairs of pairs in
    // u32 lanes, whose low bytes are the 16 packed bytes
    const mask = i16x8.splat(15);
    let y0 = v128.and(v128.or(v128.load(codeScratch()), i16x8.shr_u(v128.load(codeScratch()), 6)), mask);
    let y1 = v128.and(v128.or(v128.load(codeScratch(), 16), i16x8.shr_u(v128.load(codeScratch(), 16), 6)), mask);
    let y2 = v128.and(v128.or(v128.load(codeScratch(), 32), i16x8.shr_u(v128.load(codeScratch(), 32), 6)), mask);
    let y3 = v128.and(v128.or(v128.load(codeScratch(), 48), i16x8.shr_u(v128.load(codeScratch(), 48), 6)), mask);
    y0 = v128.or(y0, i32x4.shr_u(y0, 12));
    y1 = v128.or(y1, i32x4.shr_u(y1, 12));
    y2 = v128.or(y2, i32x4.shr_u(y2, 12));
    y3 = v128.or(y3, i32x4.shr_u(y3, 12));
    const a = i8x16.shuffle(y0, y1, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
    const b = i8x16.shuffle(y2, y3, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
    v128.store(dst, i8x16.shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), 2);
    dst += BLOCK_BYTES;
  }
}

// Exact dot of one Q2_0 row with one f32 vector of `dim` values (whole blocks), straight from the packed bytes:
// per block, d * sum((q_j - 1) x_j) (the same value as summing ((q_j - 1) d) x_j, a few roundings apart),
// the codes put back in element order by unpack64's shuffles (ternary.ts; written out here to keep this order of
// sums). Used by the projection for small batches.
export function dot_q2_0(row: usize, x: usize, dim: i32): f32 {
  const blocks = dim >> 6; // whole blocks: the caller guarantees it
  if (ASC_FEATURE_RELAXED_SIMD) return dotFields(row, x, blocks);
  let acc = f32x4.splat(0);
  // masks from memory, once (V8 13 rebuilds a constant vector at each use in a loop), as unpack64
  const three = vconst(MASK_03);
  const one = vconst(MASK_01);
  for (let b = 0; b < blocks; b++) {
    const qs = v128.load(row, 2);
    const f0 = v128.and(qs, three);
    // 16-bit shifts, then the mask (bits from the lane's other byte land above bit 1): x86 has no byte shift,
    // so V8 makes i8x16.shr_u a shift and a mask anyway, and JavaScriptCore more
    const f1 = v128.and(i16x8.shr_u(qs, 2), three);
    const f2 = v128.and(i16x8.shr_u(qs, 4), three);
    const f3 = v128.and(i16x8.shr_u(qs, 6), three);
    const lo01 = i8x16.shuffle(f0, f1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const lo23 = i8x16.shuffle(f2, f3, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const hi01 = i8x16.shuffle(f0, f1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const hi23 = i8x16.shuffle(f2, f3, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const e0 = i8x16.shuffle(lo01, lo23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    const e1 = i8x16.shuffle(lo01, lo23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
    const e2 = i8x16.shuffle(hi01, hi23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    const e3 = i8x16.shuffle(hi01, hi23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
    const s01 = f32x4.add(mulCodes16(i8x16.sub(e0, one), x), mulCodes16(i8x16.sub(e1, one), x + 64));
    const s23 = f32x4.add(mulCodes16(i8x16.sub(e2, one), x + 128), mulCodes16(i8x16.sub(e3, one), x + 192));
    acc = f32x4.add(acc, f32x4.mul(f32x4.add(s01, s23), f32x4.splat(f16ToF32(load<u16>(row)))));
    row += BLOCK_BYTES;
    x += 256;
  }
  return hsum(acc);
}

// dot_q2_0 in the relaxed build: the same sums without shuffles (ternary.ts fieldsDot16), bit for bit.
// @ts-ignore: decorator
@inline function dotFields(row: usize, x: usize, blocks: i32): f32 {
  let acc = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const qs = v128.load(row, 2);
    const s01 = f32x4.add(fieldsDot16(qs, 0, x), fieldsDot16(qs, 1, x + 64));
    const s23 = f32x4.add(fieldsDot16(qs, 2, x + 128), fieldsDot16(qs, 3, x + 192));
    acc = f32x4.add(acc, f32x4.mul(f32x4.add(s01, s23), f32x4.splat(f16ToF32(load<u16>(row)))));
    row += BLOCK_BYTES;
    x += 256;
  }
  return hsum(acc);
}

// Fast mode: the 64 codes of one block as bytes, element order (0..3; the weight is d * (q - 1)).
// @ts-ignore: decorator
@inline export function codes_q2_0(blk: usize, dst: usize): void {
  unpack64(v128.load(blk, 2), f32x4.splat(0), dst, 0, CODES);
}

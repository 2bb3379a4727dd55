// PQ2_0 rows (GGUF type 142, PrismML's Ternary Bonsai 2): blocks of 128 two-bit codes q and an f16 scale d,
// value (q - 1) * d: Q2_0's codec (type 42) at group 128.
// decode_pq2_0: rows of ids -> f32 (SIMD); encode_pq2_0: f32 -> blocks, as the fork's quantize_row_pq2_0_ref;
// dot_pq2_0: exact dot of one packed row with f32 values; codes_pq2_0: a block's 128 codes (fast mode).
// Keys: D dim, N ids, B = 128 elements per block, 34 bytes per block; b byte, l field (2 bits) of a byte.
//
//   offset:  0      1      2       3       4              33
//          +------+------+-------+-------+-- ... ------+--------+
//          |   d (f16)   | qs[0] | qs[1] |             | qs[31] |
//          +------+------+-------+-------+-- ... ------+--------+
//   qs[b]:  bits 7 6 | 5 4 | 3 2 | 1 0
//               q(4b+3) q(4b+2) q(4b+1) q(4b)          element 0 = the low 2 bits of qs[0]
//   code q: 0 -> -d, 1 -> 0, 2 -> +d, 3 -> +2d (never written for finite input)
// see: docs/BONSAI2.md §2 (layout, decode, reference quantizer), §6 (subnormal block maxima on x86).
import { f16ToF32, f32ToF16 } from "../half";
import { hsum } from "../madd";
import { CODES, DOT, VALUES, ternaryCodes16, unpack64 } from "../ternary";
import { decodeRows } from "./block-rows";

const QK: i32 = 128;
const BLOCK_BYTES: usize = 34;

// One whole block: the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class PQ2_0Block {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    const d = f32x4.splat(f16ToF32(load<u16>(src)));
    unpack64(v128.load(src, 2), d, dst, 0, VALUES);
    unpack64(v128.load(src, 18), d, dst + 256, 0, VALUES);
  }
}

export function decode_pq2_0(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<PQ2_0Block>(table, rowBytes, ids, n, dim, out, QK, BLOCK_BYTES);
}

// The 128 codes of one block as bytes 0..3 at dst (element order), for fast mode's tiling.
// @ts-ignore: decorator
@inline export function codes_pq2_0(blk: usize, dst: usize): void {
  unpack64(v128.load(blk, 2), f32x4.splat(0), dst, 0, CODES);
  unpack64(v128.load(blk, 18), f32x4.splat(0), dst + 64, 0, CODES);
}

// 16 codes (bytes, element order) -> 4 packed bytes, the low byte of each i32 lane: q0 | q1 << 2 | q2 << 4 | q3 << 6
// (pairs in u16 lanes first, then pairs of pairs in u32 lanes).
// @ts-ignore: decorator
@inline function pack4(c: v128): v128 {
  const pairs = v128.and(v128.or(c, i16x8.shr_u(c, 6)), i16x8.splat(15));
  return v128.or(pairs, i32x4.shr_u(pairs, 12));
}

// 64 codes at x (four vectors of 16 from ternaryCodes16) -> their 16 packed bytes.
// @ts-ignore: decorator
@inline function pack64(c0: v128, c1: v128, c2: v128, c3: v128): v128 {
  const a = i8x16.shuffle(pack4(c0), pack4(c1), 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
  const b = i8x16.shuffle(pack4(c2), pack4(c3), 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
  return i8x16.shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}

// Encode n f32 values (whole blocks) as quantize_row_pq2_0_ref does, for any input:
//   amax by `if (a > amax) amax = a` (a NaN never enters: pmax keeps its first operand unless the second is
//   larger), d = amax, id = d > 0 ? 1/d : 0, q = clamp((int)roundf(x * id) + 1, 0, 3), all in f32.
// A product that is not finite (a NaN x; inf * 0; x * inf when 1/d overflowed for a block of subnormals)
// converts to INT_MIN on x86, which clamps to code 0: the `bad` code.
export function encode_pq2_0(src: usize, n: usize, dst: usize): void {
  const bad = i32x4.splat(0);
  for (let i: usize = 0; i < n; i += <usize>QK) {
    const x = src + (i << 2);
    let m = f32x4.splat(0);
    for (let j: usize = 0; j < <usize>QK; j += 4) m = f32x4.pmax(m, f32x4.abs(v128.load(x + (j << 2))));
    const d = max<f32>(max<f32>(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max<f32>(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    const id = f32x4.splat(d > 0 ? <f32>1.0 / d : 0);
    store<u16>(dst, <u16>f32ToF16(d));
    const c0 = ternaryCodes16(x, id, bad);
    const c1 = ternaryCodes16(x + 64, id, bad);
    const c2 = ternaryCodes16(x + 128, id, bad);
    const c3 = ternaryCodes16(x + 192, id, bad);
    v128.store(dst, pack64(c0, c1, c2, c3), 2);
    const c4 = ternaryCodes16(x + 256, id, bad);
    const c5 = ternaryCodes16(x + 320, id, bad);
    const c6 = ternaryCodes16(x + 384, id, bad);
    const c7 = ternaryCodes16(x + 448, id, bad);
    v128.store(dst, pack64(c4, c5, c6, c7), 18);
    dst += BLOCK_BYTES;
  }
}

// Exact dot of one PQ2_0 row with dim f32 values at x (dim a multiple of 128), straight from the packed bytes:
// per block, d * sum((q_j - 1) x_j) in f32 lanes (the value of summing ((q_j - 1) d) x_j, a rounding or two apart).
export function dot_pq2_0(row: usize, x: usize, dim: i32): f32 {
  let acc = f32x4.splat(0);
  for (let j = 0; j < dim; j += QK) {
    const unused = f32x4.splat(0);
    const sum = f32x4.add(unpack64(v128.load(row, 2), unused, 0, x, DOT), unpack64(v128.load(row, 18), unused, 0, x + 256, DOT));
    acc = f32x4.add(acc, f32x4.mul(sum, f32x4.splat(f16ToF32(load<u16>(row)))));
    row += BLOCK_BYTES;
    x += <usize>QK << 2;
  }
  return hsum(acc);
}

// PTQ1_0 rows (GGUF type 143, PrismML's Ternary Bonsai 2): blocks of 128 ternary values packed as base-3 digits,
// five (or four) to a byte, then an f16 scale d; value (t - 1) * d for digit t. TQ1_0's packing at group 128.
// decode_ptq1_0: rows of ids -> f32 (SIMD); encode_ptq1_0: f32 -> blocks, as the fork's quantize_row_ptq1_0_ref;
// dot_ptq1_0: exact dot of one packed row with f32 values; codes_ptq1_0: a block's 128 digits (fast mode).
// Keys: D dim, N ids, B = 128 elements per block, 28 bytes per block; n digit (0 = most significant), m byte.
//
//   offset: 0 ............ 15 | 16 ........... 23 | 24      25 | 26     27
//          +------------------+-------------------+------------+-----------+
//          |    qs[0..15]     |    qs[16..23]     | qh[0] qh[1]|  d (f16)  |
//          | 5 digits a byte  | 5 digits a byte   | 4 digits   |   LAST    |
//          | elements 0..79   | elements 80..119  | 120..127   |           |
//          +------------------+-------------------+------------+-----------+
//   element 16n + m       (n < 5, m < 16) = digit n of qs[m]
//   element 80 + 8n + m   (n < 5, m < 8)  = digit n of qs[16 + m]
//   element 120 + 2n + h  (n < 4, h < 2)  = digit n of qh[h]
//   digit n of byte b: t = (((b * 3^n) mod 256) * 3) >> 8, in {0, 1, 2}; value (t - 1) * d
//   a byte holding digits t0..t4 is ceil((t0*81 + t1*27 + t2*9 + t3*3 + t4) * 256 / 243); qh's fifth digit is 0
// see: docs/BONSAI2.md §3 (layout, stage rule, decode, reference quantizer), §6 (subnormal block maxima on x86).
import { f16ToF32, f32ToF16 } from "../half";
import { absMax, expand16, hasNaN, inverse } from "../codes";
import { mulCodes16 } from "./q8_0";
import { hsum } from "../madd";
import { leadingDigit, packScalar, packTrits, ternaryCodes16, times3, tritsScalar } from "../ternary";
import { decodeRows } from "./block-rows";

const QK: i32 = 128;
const BLOCK_BYTES: usize = 28;

// What unpack does with each vector of 16 digits (a constant at every call site, so the branches fold away).
const CODES: i32 = 0; // store the digits as bytes at dst
const VALUES: i32 = 1; // store (t - 1) * d as f32 at dst
const DOT: i32 = 2; // add sum (t - 1) * x to the returned lanes

// @ts-ignore: decorator
@inline function emit(t: v128, k: i32, d: v128, dst: usize, x: usize, mode: i32, acc: v128): v128 {
  if (mode == CODES) v128.store(dst + (<usize>k << 4), t);
  else if (mode == VALUES) expand16(t, d, dst + (<usize>k << 6));
  else acc = f32x4.add(acc, mulCodes16(i8x16.sub(t, i8x16.splat(1)), x + (<usize>k << 6)));
  return acc;
}

// u16 lanes w times k, mod 256 (the C uint8 product b * 3^n).
// @ts-ignore: decorator
@inline function times(w: v128, k: i16): v128 {
  return v128.and(i16x8.mul(w, i16x8.splat(k)), i16x8.splat(255));
}

// The block's 128 digits, 16 at a time in element order (vector k = elements 16k .. 16k + 15), handed to emit.
// @ts-ignore: decorator
@inline function unpack(src: usize, d: v128, dst: usize, x: usize, mode: i32): v128 {
  let acc = f32x4.splat(0);
  // qs[0..15]: digit n of the 16 bytes is elements 16n .. 16n + 15
  let a = v128.load(src);
  acc = emit(leadingDigit(a), 0, d, dst, x, mode, acc);
  a = times3(a);
  acc = emit(leadingDigit(a), 1, d, dst, x, mode, acc);
  a = times3(a);
  acc = emit(leadingDigit(a), 2, d, dst, x, mode, acc);
  a = times3(a);
  acc = emit(leadingDigit(a), 3, d, dst, x, mode, acc);
  a = times3(a);
  acc = emit(leadingDigit(a), 4, d, dst, x, mode, acc);
  // qs[16..23] widened to u16 (8 bytes read: the block ends at byte 27), digits n in pairs per vector
  const b = i16x8.extend_low_i8x16_u(v128.load64_zero(src + 16));
  acc = emit(leadingDigit(i8x16.narrow_i16x8_u(b, times(b, 3))), 5, d, dst, x, mode, acc);
  acc = emit(leadingDigit(i8x16.narrow_i16x8_u(times(b, 9), times(b, 27))), 6, d, dst, x, mode, acc);
  // the last vector: qs[16..23] * 81 (elements 112..119), then qh: lane 2n + h = qh[h] * 3^n (120 + 2n + h)
  const h = <u32>load<u16>(src, 24);
  const qh = v128.and(i16x8.mul(i32x4.splat((h & 255) | ((h >> 8) << 16)), i16x8(1, 1, 3, 3, 9, 9, 27, 27)), i16x8.splat(255));
  acc = emit(leadingDigit(i8x16.narrow_i16x8_u(times(b, 81), qh)), 7, d, dst, x, mode, acc);
  return acc;
}

// One whole block: the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class PTQ1_0Block {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    unpack(src, f32x4.splat(f16ToF32(load<u16>(src, 26))), dst, 0, VALUES);
  }
}

export function decode_ptq1_0(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<PTQ1_0Block>(table, rowBytes, ids, n, dim, out, QK, BLOCK_BYTES);
}

// The 128 digits of one block as bytes 0..2 at dst (element order), for fast mode's tiling.
// @ts-ignore: decorator
@inline export function codes_ptq1_0(blk: usize, dst: usize): void {
  unpack(blk, f32x4.splat(0), dst, 0, CODES);
}

// Exact dot of one PTQ1_0 row with dim f32 values at x (dim a multiple of 128), straight from the packed bytes:
// per block, d * sum((t_j - 1) x_j) in f32 lanes (the value of summing ((t_j - 1) d) x_j, a rounding or two apart).
export function dot_ptq1_0(row: usize, x: usize, dim: i32): f32 {
  let acc = f32x4.splat(0);
  for (let j = 0; j < dim; j += QK) {
    const sum = unpack(row, f32x4.splat(0), 0, x, DOT);
    acc = f32x4.add(acc, f32x4.mul(sum, f32x4.splat(f16ToF32(load<u16>(row, 26)))));
    row += BLOCK_BYTES;
    x += <usize>QK << 2;
  }
  return hsum(acc);
}

// ---- encode

// One block holding a NaN, element by element as the C loop runs: MAX(amax, fabsf(x)) lets a NaN reset the
// running maximum, so x * id can leave [-1, 1] and the uint8 sums wrap; every step is reproduced.
function encodeBlockScalar(x: usize, dst: usize): void {
  const d = absMax(x, QK);
  const id = inverse(d);
  for (let m = 0; m < 16; m++) store<u8>(dst + m, packScalar(tritsScalar(x, m, 16, 5, id)));
  for (let m = 0; m < 8; m++) store<u8>(dst + 16 + m, packScalar(tritsScalar(x, 80 + m, 8, 5, id)));
  for (let h = 0; h < 2; h++) store<u8>(dst + 24 + h, packScalar((tritsScalar(x, 120 + h, 2, 4, id) * 3) & 255));
  store<u16>(dst, <u16>f32ToF16(d), 26);
}

// Lanes 8..15 of c moved to lanes 0..7.
// @ts-ignore: decorator
@inline function high8(c: v128): v128 {
  return i8x16.shuffle(c, c, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
}

// Encode n f32 values (whole blocks) as quantize_row_ptq1_0_ref does: d = max|x|, digit = lroundf(x * (1/d)) + 1,
// in f32; NaN-free blocks in SIMD (their maximum is the plain one), the others element by element. A product
// that is not finite (x * inf when 1/d overflowed for a block of subnormals, inf * 0) is LONG_MIN on x86-64,
// whose low 32 bits + 1 give digit 1: the `bad` digit.
export function encode_ptq1_0(src: usize, n: usize, dst: usize): void {
  const bad = i32x4.splat(1);
  for (let i: usize = 0; i < n; i += <usize>QK) {
    const x = src + (i << 2);
    if (hasNaN(x, QK)) {
      encodeBlockScalar(x, dst);
      dst += BLOCK_BYTES;
      continue;
    }
    let m = f32x4.splat(0);
    for (let j: usize = 0; j < <usize>QK; j += 4) m = f32x4.max(m, f32x4.abs(v128.load(x + (j << 2))));
    const d = max<f32>(max<f32>(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max<f32>(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    const id = f32x4.splat(inverse(d));
    const c0 = ternaryCodes16(x, id, bad);
    const c1 = ternaryCodes16(x + 64, id, bad);
    const c2 = ternaryCodes16(x + 128, id, bad);
    const c3 = ternaryCodes16(x + 192, id, bad);
    const c4 = ternaryCodes16(x + 256, id, bad);
    const c5 = ternaryCodes16(x + 320, id, bad);
    const c6 = ternaryCodes16(x + 384, id, bad);
    const c7 = ternaryCodes16(x + 448, id, bad);
    // qs[m], m < 16: elements m, m + 16, ..., m + 64 (first most significant); sums stay <= 242, no wrap
    let v = i8x16.add(times3(c0), c1);
    v = i8x16.add(times3(v), c2);
    v = i8x16.add(times3(v), c3);
    v = i8x16.add(times3(v), c4);
    v128.store(dst, packTrits(v));
    // qs[16 + m], m < 8: elements 80 + m, 88 + m, ..., 112 + m, in lanes 0..7
    let w = i8x16.add(times3(c5), high8(c5));
    w = i8x16.add(times3(w), c6);
    w = i8x16.add(times3(w), high8(c6));
    w = i8x16.add(times3(w), c7);
    store<u64>(dst + 16, i64x2.extract_lane(packTrits(w), 0));
    // qh[h]: elements 120 + h, 122 + h, 124 + h, 126 + h (c7 lanes 8 + h, 10 + h, ...), then a zero fifth digit
    let q = i8x16.shuffle(c7, c7, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9);
    q = i8x16.add(times3(q), i8x16.shuffle(c7, c7, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11));
    q = i8x16.add(times3(q), i8x16.shuffle(c7, c7, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13));
    q = i8x16.add(times3(q), i8x16.shuffle(c7, c7, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15));
    store<u16>(dst + 24, <u16>i16x8.extract_lane_u(packTrits(times3(q)), 0));
    store<u16>(dst, <u16>f32ToF16(d), 26);
    dst += BLOCK_BYTES;
  }
}

// TQ1_0 rows (ggml type 34): blocks of 256 ternary values packed five (or four) base-3 digits per byte,
// then an f16 scale d; value (t - 1) * d for digit t. decode_tq1_0: rows of ids -> f32 (SIMD);
// encode_tq1_0: f32 -> blocks, as ggml's quantize_row_tq1_0_ref.
// Keys: D dim, N ids, B = 256 elements per block (QK_K), 54 bytes per block; n digit, m byte.
//   block: [ qs[48] (bytes 0-47) | qh[4] (bytes 48-51) | d f16 (bytes 52-53, LAST) ]
//   byte b holds digits t0..t4 as b = ceil((t0*81 + t1*27 + t2*9 + t3*3 + t4) * 256 / 243); digit n of b is
//   ((b * 3^n mod 256) * 3) >> 8.   qs[m], m < 32: element n*32 + m;  qs[32 + m], m < 16: 160 + n*16 + m;
//   qh[j], j < 4: digits n = 0..3 are elements 240 + n*4 + j (digit 4 is a zero pad).
// see: FORMATS.md (TQ1_0); ggml-quants.c quantize_row_tq1_0_ref / dequantize_row_tq1_0.
import { f16ToF32, f32ToF16 } from "../half";
import { absMax, absMaxNoNaN, blockCodes, codeScratch, expand16, hasNaN, inverse } from "../codes";
import { leadingDigit, packScalar, packTrits, times3, tritsScalar } from "../ternary";
import { decodeRows } from "./block-rows";

const QK: i32 = 256;
const BLOCK_BYTES: usize = 54;

// @ts-ignore: decorator
@inline function decodeBlock(src: usize, dst: usize): void {
  const d = f32x4.splat(f16ToF32(load<u16>(src, 52)));
  // qs[0..31]: digit n of 32 bytes is elements n*32 .. n*32+31
  let a = v128.load(src);
  let b = v128.load(src, 16);
  let c = v128.load(src, 32);
  for (let n = 0; n < 5; n++) {
    expand16(leadingDigit(a), d, dst + <usize>(n * 128));
    expand16(leadingDigit(b), d, dst + <usize>(n * 128 + 64));
    // qs[32..47]: digit n of 16 bytes is elements 160 + n*16 ..
    expand16(leadingDigit(c), d, dst + <usize>(640 + n * 64));
    a = times3(a);
    b = times3(b);
    c = times3(c);
  }
  // qh: lane 4n + j of h = qh[j] * 3^n, so h's leading digits are elements 240 .. 255 in order
  const p0 = i32x4.splat(load<u32>(src, 48));
  const p1 = times3(p0);
  const p2 = times3(p1);
  const p3 = times3(p2);
  const p01 = i8x16.shuffle(p0, p1, 0, 1, 2, 3, 20, 21, 22, 23, 0, 1, 2, 3, 20, 21, 22, 23);
  const p23 = i8x16.shuffle(p2, p3, 0, 1, 2, 3, 20, 21, 22, 23, 0, 1, 2, 3, 20, 21, 22, 23);
  const h = i8x16.shuffle(p01, p23, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  expand16(leadingDigit(h), d, dst + 960);
}

// decodeBlock as the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class TQ1_0Block {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    decodeBlock(src, dst);
  }
}

export function decode_tq1_0(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<TQ1_0Block>(table, rowBytes, ids, n, dim, out, QK, BLOCK_BYTES);
}

// 16 five-trit sums t0*81 + t1*27 + t2*9 + t3*3 + t4, trit k of lane m at codeScratch() + at + m + k * step.
// @ts-ignore: decorator
@inline function trits5(at: usize, step: usize): v128 {
  let v = v128.load(codeScratch() + at);
  for (let k: usize = 1; k < 5; k++) v = i8x16.add(times3(v), v128.load(codeScratch() + at + k * step));
  return v;
}

// One block, any input, element by element as ggml's loop runs (NaN-holding blocks come here).
function encodeBlockScalar(x: usize, dst: usize): void {
  const d = absMax(x, QK);
  const id = inverse(d);
  for (let m = 0; m < 32; m++) store<u8>(dst + m, packScalar(tritsScalar(x, m, 32, 5, id)));
  for (let m = 0; m < 16; m++) store<u8>(dst + 32 + m, packScalar(tritsScalar(x, 160 + m, 16, 5, id)));
  for (let j = 0; j < 4; j++) store<u8>(dst + 48 + j, packScalar((tritsScalar(x, 240 + j, 4, 4, id) * 3) & 255));
  store<u16>(dst, <u16>f32ToF16(d), 52);
}

// Encode n f32 values (whole blocks) as ggml does: d = max|x|, trit = round(x * (1/d)) + 1, all in f32;
// five trits per byte (first most significant), the qh bytes hold four and a zero (the extra * 3).
// A subnormal block makes the C conversion INT_MIN; its low byte + 1 is trit 1.
export function encode_tq1_0(src: usize, n: usize, dst: usize): void {
  for (let i: usize = 0; i < n; i += <usize>QK) {
    const x = src + (i << 2);
    if (hasNaN(x, QK)) {
      encodeBlockScalar(x, dst);
      dst += BLOCK_BYTES;
      continue;
    }
    const d = absMaxNoNaN(x, QK);
    blockCodes(x, QK, inverse(d), 0);
    v128.store(dst, packTrits(trits5(0, 32)));
    v128.store(dst, packTrits(trits5(16, 32)), 16);
    v128.store(dst, packTrits(trits5(160, 16)), 32);
    // qh[j]: trits of elements 240 + j + 4k, k = 0..3, i.e. byte j of each u32 lane k of the last 16 codes
    const h = v128.load(codeScratch() + 240);
    let v = i8x16.add(times3(h), i8x16.shuffle(h, h, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    v = i8x16.add(times3(v), i8x16.shuffle(h, h, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    v = i8x16.add(times3(v), i8x16.shuffle(h, h, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    store<u32>(dst, i32x4.extract_lane(packTrits(times3(v)), 0), 48);
    store<u16>(dst, <u16>f32ToF16(d), 52);
    dst += BLOCK_BYTES;
  }
}

// Fast mode: the 256 codes of one block as bytes, element order (0..2; the weight is d * (q - 1)).
// Base-3 digit n of byte b is ((b * 3^n) & 255) * 3 >> 8: qs[0..31] hold elements 32n + m (n < 5),
// qs[32..47] elements 160 + 16n + m (n < 5), qh[0..3] elements 240 + 4n + m (n < 4).
// @ts-ignore: decorator
@inline export function codes_tq1_0(blk: usize, dst: usize): void {
  for (let e = 0; e < 256; e++) {
    let b: u32;
    let n: i32;
    if (e < 160) {
      b = load<u8>(blk + (e & 31));
      n = e >> 5;
    } else if (e < 240) {
      b = load<u8>(blk + 32 + ((e - 160) & 15));
      n = (e - 160) >> 4;
    } else {
      b = load<u8>(blk + 48 + ((e - 240) & 3));
      n = (e - 240) >> 2;
    }
    const pow3: u32 = n == 0 ? 1 : n == 1 ? 3 : n == 2 ? 9 : n == 3 ? 27 : 81;
    store<u8>(dst + e, <u8>((((b * pow3) & 255) * 3) >> 8));
  }
}

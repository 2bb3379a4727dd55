// TQ2_0 rows (ggml type 35): blocks of 256 ternary values as 2-bit codes q, then an f16 scale d; value (q - 1) * d.
// decode_tq2_0: rows of ids -> f32 (SIMD); encode_tq2_0: f32 -> blocks, as ggml's quantize_row_tq2_0_ref.
// Keys: D dim, N ids, B = 256 elements per block (QK_K), 66 bytes per block; c chunk, l field, m byte.
//   block: [ qs[64] (bytes 0-63) | d f16 (bytes 64-65, LAST) ]
//   qs[32c + m] = q(128c + m) | q(128c + 32 + m) << 2 | q(128c + 64 + m) << 4 | q(128c + 96 + m) << 6
//   element 0 = low 2 bits of qs[0]; element 1 = low 2 bits of qs[1]
// see: FORMATS.md (TQ2_0); ggml-quants.c quantize_row_tq2_0_ref / dequantize_row_tq2_0.
import { f16ToF32, f32ToF16 } from "../half";
import { absMax, absMaxNoNaN, blockCodes, codeScratch, expand16, hasNaN, inverse, lroundLowX86 } from "../codes";
import { decodeRows } from "./block-rows";

const QK: i32 = 256;
const BLOCK_BYTES: usize = 66;

// 32 bytes of qs -> the 128 elements they hold: field l of 32 consecutive bytes is 32 consecutive elements.
// @ts-ignore: decorator
@inline function decodeChunk(src: usize, d: v128, dst: usize): void {
  const three = i8x16.splat(3);
  const a = v128.load(src);
  const b = v128.load(src, 16);
  expand16(v128.and(a, three), d, dst);
  expand16(v128.and(b, three), d, dst + 64);
  expand16(v128.and(i8x16.shr_u(a, 2), three), d, dst + 128);
  expand16(v128.and(i8x16.shr_u(b, 2), three), d, dst + 192);
  expand16(v128.and(i8x16.shr_u(a, 4), three), d, dst + 256);
  expand16(v128.and(i8x16.shr_u(b, 4), three), d, dst + 320);
  expand16(i8x16.shr_u(a, 6), d, dst + 384);
  expand16(i8x16.shr_u(b, 6), d, dst + 448);
}

// @ts-ignore: decorator
@inline function decodeBlock(src: usize, dst: usize): void {
  const d = f32x4.splat(f16ToF32(load<u16>(src, 64)));
  decodeChunk(src, d, dst);
  decodeChunk(src + 32, d, dst + 512);
}

// decodeBlock as the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class TQ2_0Block {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    decodeBlock(src, dst);
  }
}

export function decode_tq2_0(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<TQ2_0Block>(table, rowBytes, ids, n, dim, out, QK, BLOCK_BYTES);
}

// One block, any input, element by element as ggml's loop runs (NaN-holding blocks come here).
function encodeBlockScalar(x: usize, dst: usize): void {
  const d = absMax(x, QK);
  const id = inverse(d);
  for (let c = 0; c < 2; c++) {
    for (let m = 0; m < 32; m++) {
      let byte: i32 = 0;
      for (let l = 0; l < 4; l++) {
        const xi = lroundLowX86(load<f32>(x + (<usize>(128 * c + 32 * l + m) << 2)) * id) + 1;
        byte += (xi & 3) << (2 * l);
      }
      store<u8>(dst + 32 * c + m, <u8>byte);
    }
  }
  store<u16>(dst, <u16>f32ToF16(d), 64);
}

// Encode n f32 values (whole blocks) as ggml does: d = max|x|, code = (lroundf(x * (1/d)) + 1) & 3, in f32.
// A subnormal block makes 1/d inf and the C conversion INT_MIN: stored as (INT_MIN + 1) & 3 = 1.
export function encode_tq2_0(src: usize, n: usize, dst: usize): void {
  for (let i: usize = 0; i < n; i += <usize>QK) {
    const x = src + (i << 2);
    if (hasNaN(x, QK)) {
      encodeBlockScalar(x, dst);
      dst += BLOCK_BYTES;
      continue;
    }
    const d = absMaxNoNaN(x, QK);
    blockCodes(x, QK, inverse(d), 0);
    // byte 32c + m holds the codes of elements 128c + m + 32l in bits 2l
    for (let c: usize = 0; c < 256; c += 128) {
      for (let h: usize = 0; h < 32; h += 16) {
        const e = codeScratch() + c + h;
        const lo = v128.or(v128.load(e), i8x16.shl(v128.load(e, 32), 2));
        const hi = v128.or(i8x16.shl(v128.load(e, 64), 4), i8x16.shl(v128.load(e, 96), 6));
        v128.store(dst + (c >> 2) + h, v128.or(lo, hi));
      }
    }
    store<u16>(dst, <u16>f32ToF16(d), 64);
    dst += BLOCK_BYTES;
  }
}

// Fast mode: the 256 codes of one block as bytes, element order (0..2; the weight is d * (q - 1)).
// @ts-ignore: decorator
@inline export function codes_tq2_0(blk: usize, dst: usize): void {
  for (let c = 0; c < 2; c++) {
    for (let m = 0; m < 32; m++) {
      // byte m of chunk c holds elements 128c + m + 32j in bits 2j..2j+1
      const b = <u32>load<u8>(blk + (c << 5) + m);
      const o = dst + (c << 7) + m;
      store<u8>(o, b & 3);
      store<u8>(o + 32, (b >> 2) & 3);
      store<u8>(o + 64, (b >> 4) & 3);
      store<u8>(o + 96, b >> 6);
    }
  }
}

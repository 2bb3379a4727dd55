// f16 rows: element j is the IEEE binary16 at byte 2j. Decoded exactly to f32.
// Keys: D dim, N ids; a row is D * 2 bytes.
//   row: [ h0 (2 bytes) | h1 | ... | h(D-1) ]     h = sign(1) exponent(5) mantissa(10), bit 15 first
import { f16ToF32, f16x4ToF32x4, f32ToF16 } from "../half";

export function decode_f16(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  let dst = out;
  for (let r = 0; r < n; r++) {
    let src = table + <usize>load<u32>(ids + (<usize>r << 2)) * rowBytes;
    let j = 0;
    // 8 halves per step: one 16-byte load, two 4-lane conversions
    for (; j + 8 <= dim; j += 8) {
      const h = v128.load(src);
      v128.store(dst, f16x4ToF32x4(i32x4.extend_low_i16x8_u(h)));
      v128.store(dst, f16x4ToF32x4(i32x4.extend_high_i16x8_u(h)), 16);
      src += 16;
      dst += 32;
    }
    for (; j < dim; j++) {
      store<f32>(dst, f16ToF32(load<u16>(src)));
      src += 2;
      dst += 4;
    }
  }
}

// Encode n f32 values to f16 (round to nearest even).
export function encode_f16(src: usize, n: usize, dst: usize): void {
  for (let i: usize = 0; i < n; i++) {
    store<u16>(dst + (i << 1), <u16>f32ToF16(load<f32>(src + (i << 2))));
  }
}

// Exact dot of one f16 row with one f32 vector of D values, converting in registers (no decoded copy).
// Used by the projection for small batches.
// f16 -> f32 for a dot product: exact for every finite half (scaling the shifted bits by 2^112 covers
// normals and subnormals); inf stays inf and NaN stays NaN (its quiet bit is not forced, as a product with
// it is NaN either way). Three operations fewer than f16x4ToF32x4.
// @ts-ignore: decorator
@inline function halvesToF32(h: v128): v128 {
  const em = v128.and(h, i32x4.splat(0x7fff));
  const finite = f32x4.mul(i32x4.shl(em, 13), f32x4.splat(reinterpret<f32>(0x77800000)));
  const special = v128.and(i32x4.gt_s(em, i32x4.splat(0x7bff)), i32x4.splat(0x7f800000));
  return v128.or(v128.or(finite, special), i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

export function dot_f16(row: usize, x: usize, dim: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= dim; j += 8) {
    const h = v128.load(row);
    a0 = f32x4.add(a0, f32x4.mul(halvesToF32(i32x4.extend_low_i16x8_u(h)), v128.load(x)));
    a1 = f32x4.add(a1, f32x4.mul(halvesToF32(i32x4.extend_high_i16x8_u(h)), v128.load(x, 16)));
    row += 16;
    x += 32;
  }
  const s = f32x4.add(a0, a1);
  let sum = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
  for (; j < dim; j++) {
    sum += f16ToF32(load<u16>(row)) * load<f32>(x);
    row += 2;
    x += 4;
  }
  return sum;
}

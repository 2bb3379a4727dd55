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

// bf16 rows: element j is the high 16 bits of an f32, at byte 2j. Decoding is a shift.
// Keys: D dim, N ids; a row is D * 2 bytes.
//   row: [ b0 (2 bytes) | b1 | ... ]     b = sign(1) exponent(8) mantissa(7) = f32 bits 31..16
import { bf16ToF32, f32ToBf16 } from "../half";

export function decode_bf16(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  let dst = out;
  for (let r = 0; r < n; r++) {
    let src = table + <usize>load<u32>(ids + (<usize>r << 2)) * rowBytes;
    let j = 0;
    for (; j + 8 <= dim; j += 8) {
      const h = v128.load(src);
      // widening a u16 to the high half of a u32 lane is the whole conversion
      v128.store(dst, i32x4.shl(i32x4.extend_low_i16x8_u(h), 16));
      v128.store(dst, i32x4.shl(i32x4.extend_high_i16x8_u(h), 16), 16);
      src += 16;
      dst += 32;
    }
    for (; j < dim; j++) {
      store<f32>(dst, bf16ToF32(load<u16>(src)));
      src += 2;
      dst += 4;
    }
  }
}

// Encode n f32 values to bf16 (round to nearest even, NaN stays quiet).
export function encode_bf16(src: usize, n: usize, dst: usize): void {
  for (let i: usize = 0; i < n; i++) {
    store<u16>(dst + (i << 1), <u16>f32ToBf16(load<f32>(src + (i << 2))));
  }
}

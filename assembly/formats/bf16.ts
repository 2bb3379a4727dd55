// bf16 rows: element j is the high 16 bits of an f32, at byte 2j. Decoding is a shift.
// Keys: D dim, N ids; a row is D * 2 bytes.
//   row: [ b0 (2 bytes) | b1 | ... ]     b = sign(1) exponent(8) mantissa(7) = f32 bits 31..16
import { bf16ToF32, f32ToBf16, wordsHighHi, wordsHighLo } from "../half";
import { hsum, madd } from "../madd";

export function decode_bf16(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  let dst = out;
  for (let r = 0; r < n; r++) {
    let src = table + <usize>load<u32>(ids + (<usize>r << 2)) * rowBytes;
    let j = 0;
    for (; j + 8 <= dim; j += 8) {
      const h = v128.load(src);
      // a u16 in the high half of a u32 lane is the whole conversion
      v128.store(dst, wordsHighLo(h));
      v128.store(dst, wordsHighHi(h), 16);
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

// Exact dot of one bf16 row with one f32 vector of D values, widening in registers (no decoded copy).
// Used by the projection for small batches.
export function dot_bf16(row: usize, x: usize, dim: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let j = 0;
  for (; j + 16 <= dim; j += 16) {
    const h = v128.load(row);
    const g = v128.load(row, 16);
    a0 = madd(wordsHighLo(h), v128.load(x), a0);
    a1 = madd(wordsHighHi(h), v128.load(x, 16), a1);
    a2 = madd(wordsHighLo(g), v128.load(x, 32), a2);
    a3 = madd(wordsHighHi(g), v128.load(x, 48), a3);
    row += 32;
    x += 64;
  }
  const s = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let sum = hsum(s);
  for (; j < dim; j++) {
    sum += bf16ToF32(load<u16>(row)) * load<f32>(x);
    row += 2;
    x += 4;
  }
  return sum;
}
export { dot4_bf16 } from "./half-rows";

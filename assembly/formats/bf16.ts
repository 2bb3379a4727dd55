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

// dot_bf16 for four rows (rowStride bytes apart) at once: each chunk of x feeds four rows, and four rows stream
// from memory together (faster for long rows, as in project.ts). Results to out[0..3].
export function dot4_bf16(row: usize, rowStride: usize, x: usize, dim: i32, out: usize): void {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0);
  let b1 = f32x4.splat(0);
  let b2 = f32x4.splat(0);
  let b3 = f32x4.splat(0);
  const r1 = row + rowStride;
  const r2 = r1 + rowStride;
  const r3 = r2 + rowStride;
  let o: usize = 0;
  let p = x;
  let j = 0;
  for (; j + 8 <= dim; j += 8) {
    const x0 = v128.load(p);
    const x1 = v128.load(p, 16);
    const h0 = v128.load(row + o);
    a0 = madd(wordsHighLo(h0), x0, a0);
    b0 = madd(wordsHighHi(h0), x1, b0);
    const h1 = v128.load(r1 + o);
    a1 = madd(wordsHighLo(h1), x0, a1);
    b1 = madd(wordsHighHi(h1), x1, b1);
    const h2 = v128.load(r2 + o);
    a2 = madd(wordsHighLo(h2), x0, a2);
    b2 = madd(wordsHighHi(h2), x1, b2);
    const h3 = v128.load(r3 + o);
    a3 = madd(wordsHighLo(h3), x0, a3);
    b3 = madd(wordsHighHi(h3), x1, b3);
    o += 16;
    p += 32;
  }
  const s0 = f32x4.add(a0, b0);
  const s1 = f32x4.add(a1, b1);
  const s2 = f32x4.add(a2, b2);
  const s3 = f32x4.add(a3, b3);
  let t0 = hsum(s0);
  let t1 = hsum(s1);
  let t2 = hsum(s2);
  let t3 = hsum(s3);
  for (; j < dim; j++) {
    const xj = load<f32>(p);
    t0 += bf16ToF32(load<u16>(row + o)) * xj;
    t1 += bf16ToF32(load<u16>(r1 + o)) * xj;
    t2 += bf16ToF32(load<u16>(r2 + o)) * xj;
    t3 += bf16ToF32(load<u16>(r3 + o)) * xj;
    o += 2;
    p += 4;
  }
  store<f32>(out, t0);
  store<f32>(out, t1, 4);
  store<f32>(out, t2, 8);
  store<f32>(out, t3, 12);
}

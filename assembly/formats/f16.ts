// f16 rows: element j is the IEEE binary16 at byte 2j. Decoded exactly to f32.
// Keys: D dim, N ids; a row is D * 2 bytes.
//   row: [ h0 (2 bytes) | h1 | ... | h(D-1) ]     h = sign(1) exponent(5) mantissa(10), bit 15 first
import { f16ToF32, f16x4ToF32x4, f32ToF16, wordsHighHi, wordsHighLo } from "../half";
import { hsum, madd } from "../madd";

// Halves in the high 16 bits of i32 lanes (wordsHighLo / wordsHighHi) -> f32, exact for every
// finite half in three operations: an arithmetic shift by 3 puts exponent and mantissa where f32 keeps them
// and copies the sign into bits 30..28, the mask clears the copies, and 2^112 rebiases the exponent
// (subnormal halves become subnormal f32s, exactly). Inf and NaN come out finite: callers check for them.
// @ts-ignore: decorator
@inline function highHalvesToF32(hh: v128): v128 {
  return f32x4.mul(v128.and(i32x4.shr_s(hh, 3), i32x4.splat(<i32>0x8fffffff)), f32x4.splat(reinterpret<f32>(0x77800000)));
}

export function decode_f16(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  let dst = out;
  for (let r = 0; r < n; r++) {
    let src = table + <usize>load<u32>(ids + (<usize>r << 2)) * rowBytes;
    let j = 0;
    // 8 halves per step: one 16-byte load, two 4-lane conversions (the three-operation one when none of the
    // 8 is inf or NaN, else the one that keeps them)
    for (; j + 8 <= dim; j += 8) {
      const h = v128.load(src);
      if (v128.any_true(i16x8.gt_s(v128.and(h, i16x8.splat(0x7fff)), i16x8.splat(0x7bff)))) {
        v128.store(dst, f16x4ToF32x4(i32x4.extend_low_i16x8_u(h)));
        v128.store(dst, f16x4ToF32x4(i32x4.extend_high_i16x8_u(h)), 16);
      } else {
        v128.store(dst, highHalvesToF32(wordsHighLo(h)));
        v128.store(dst, highHalvesToF32(wordsHighHi(h)), 16);
      }
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

// The dot over rows holding inf or NaN (rare): the four-lane conversion that keeps them.
function dot_f16_special(row: usize, x: usize, dim: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= dim; j += 8) {
    const h = v128.load(row);
    a0 = madd(halvesToF32(i32x4.extend_low_i16x8_u(h)), v128.load(x), a0);
    a1 = madd(halvesToF32(i32x4.extend_high_i16x8_u(h)), v128.load(x, 16), a1);
    row += 16;
    x += 32;
  }
  const s = f32x4.add(a0, a1);
  let sum = hsum(s);
  for (; j < dim; j++) {
    sum += f16ToF32(load<u16>(row)) * load<f32>(x);
    row += 2;
    x += 4;
  }
  return sum;
}

// The largest |half| of the row's whole chunks is kept as u15 bits (i16 max): above 0x7bff means inf or NaN,
// and the row is summed again by dot_f16_special (same order of operations, so finite rows agree bit for bit).
export function dot_f16(row: usize, x: usize, dim: i32): f32 {
  const mag = i16x8.splat(0x7fff);
  let top = i16x8.splat(0);
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let w = row;
  let p = x;
  let j = 0;
  for (; j + 8 <= dim; j += 8) {
    const h = v128.load(w);
    top = i16x8.max_s(top, v128.and(h, mag));
    a0 = madd(highHalvesToF32(wordsHighLo(h)), v128.load(p), a0);
    a1 = madd(highHalvesToF32(wordsHighHi(h)), v128.load(p, 16), a1);
    w += 16;
    p += 32;
  }
  if (v128.any_true(i16x8.gt_s(top, i16x8.splat(0x7bff)))) return dot_f16_special(row, x, dim);
  const s = f32x4.add(a0, a1);
  let sum = hsum(s);
  for (; j < dim; j++) {
    sum += f16ToF32(load<u16>(w)) * load<f32>(p);
    w += 2;
    p += 4;
  }
  return sum;
}

// dot_f16 for four rows (rowStride bytes apart) at once, as dot4_bf16; results to out[0..3]. The four rows share
// one inf/NaN check: if any holds one, each is summed again by dot_f16.
export function dot4_f16(row: usize, rowStride: usize, x: usize, dim: i32, out: usize): void {
  const mag = i16x8.splat(0x7fff);
  let top = i16x8.splat(0);
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
    const h1 = v128.load(r1 + o);
    const h2 = v128.load(r2 + o);
    const h3 = v128.load(r3 + o);
    top = i16x8.max_s(top, v128.and(v128.or(v128.or(h0, h1), v128.or(h2, h3)), mag));
    a0 = madd(highHalvesToF32(wordsHighLo(h0)), x0, a0);
    b0 = madd(highHalvesToF32(wordsHighHi(h0)), x1, b0);
    a1 = madd(highHalvesToF32(wordsHighLo(h1)), x0, a1);
    b1 = madd(highHalvesToF32(wordsHighHi(h1)), x1, b1);
    a2 = madd(highHalvesToF32(wordsHighLo(h2)), x0, a2);
    b2 = madd(highHalvesToF32(wordsHighHi(h2)), x1, b2);
    a3 = madd(highHalvesToF32(wordsHighLo(h3)), x0, a3);
    b3 = madd(highHalvesToF32(wordsHighHi(h3)), x1, b3);
    o += 16;
    p += 32;
  }
  // an OR of halves can only raise the exponent bits: no false negatives (false positives just take dot_f16)
  if (v128.any_true(i16x8.gt_s(top, i16x8.splat(0x7bff)))) {
    store<f32>(out, dot_f16(row, x, dim));
    store<f32>(out, dot_f16(r1, x, dim), 4);
    store<f32>(out, dot_f16(r2, x, dim), 8);
    store<f32>(out, dot_f16(r3, x, dim), 12);
    return;
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
    t0 += f16ToF32(load<u16>(row + o)) * xj;
    t1 += f16ToF32(load<u16>(r1 + o)) * xj;
    t2 += f16ToF32(load<u16>(r2 + o)) * xj;
    t3 += f16ToF32(load<u16>(r3 + o)) * xj;
    o += 2;
    p += 4;
  }
  store<f32>(out, t0);
  store<f32>(out, t1, 4);
  store<f32>(out, t2, 8);
  store<f32>(out, t3, 12);
}

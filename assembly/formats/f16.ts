// f16 rows: element j is the IEEE binary16 at byte 2j. Decoded exactly to f32.
// Keys: D dim, N ids; a row is D * 2 bytes.
//   row: [ h0 (2 bytes) | h1 | ... | h(D-1) ]     h = sign(1) exponent(5) mantissa(10), bit 15 first
import { f16ToF32, f16WordsHi, f16WordsLo, f16WordsToF32M, f16x4ToF32x4, f32ToF16, highHalvesToF32M, wordsHighHi, wordsHighLo } from "../half";
import { hsum, madd } from "../madd";
import { HALF_2P112, HALF_MAG, HALF_MASK, HALF_MAXFIN, HALF_SHL13, vconst } from "../vconst";

export function decode_f16(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  // the constants loaded once (vconst.ts: V8 13+ rebuilds a constant vector at each use in a loop)
  const mag = vconst(HALF_MAG);
  const maxFinite = vconst(HALF_MAXFIN);
  const hm = vconst(HALF_MASK);
  const hk = vconst(HALF_2P112);
  let dst = out;
  for (let r = 0; r < n; r++) {
    let src = table + <usize>load<u32>(ids + (<usize>r << 2)) * rowBytes;
    let j = 0;
    // 8 halves per step: one 16-byte load, two 4-lane conversions (the three-operation one when none of the
    // 8 is inf or NaN, else the one that keeps them)
    for (; j + 8 <= dim; j += 8) {
      const h = v128.load(src);
      if (v128.any_true(i16x8.gt_s(v128.and(h, mag), maxFinite))) {
        v128.store(dst, f16x4ToF32x4(i32x4.extend_low_i16x8_u(h)));
        v128.store(dst, f16x4ToF32x4(i32x4.extend_high_i16x8_u(h)), 16);
      } else {
        v128.store(dst, highHalvesToF32M(wordsHighLo(h), hm, hk));
        v128.store(dst, highHalvesToF32M(wordsHighHi(h), hm, hk), 16);
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

// The conversion is half.ts f16WordsToF32M, which has no shift in the relaxed build: measured (32000 x 4096, one
// vector) Bun 31.8 -> 28.9 ms and Node 24 23.3 -> 24.6, the engines' spread 1.37x -> 1.17x (decode keeps the
// shift: V8 is the faster there and the spread is not a head's).
// The largest |half| of the row's whole chunks is kept as u15 bits (i16 max): above 0x7bff means inf or NaN,
// and the row is summed again by dot_f16_special (same order of operations, so finite rows agree bit for bit).
export function dot_f16(row: usize, x: usize, dim: i32): f32 {
  const mag = vconst(HALF_MAG);
  const hm = vconst(HALF_MASK);
  const hk = vconst(HALF_2P112);
  const hs = vconst(HALF_SHL13);
  let top = i16x8.splat(0);
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let w = row;
  let p = x;
  let j = 0;
  for (; j + 8 <= dim; j += 8) {
    const h = v128.load(w);
    top = i16x8.max_s(top, v128.and(h, mag));
    a0 = madd(f16WordsToF32M(f16WordsLo(h), hm, hk, hs), v128.load(p), a0);
    a1 = madd(f16WordsToF32M(f16WordsHi(h), hm, hk, hs), v128.load(p, 16), a1);
    w += 16;
    p += 32;
  }
  if (v128.any_true(i16x8.gt_s(top, vconst(HALF_MAXFIN)))) return dot_f16_special(row, x, dim);
  const s = f32x4.add(a0, a1);
  let sum = hsum(s);
  for (; j < dim; j++) {
    sum += f16ToF32(load<u16>(w)) * load<f32>(p);
    w += 2;
    p += 4;
  }
  return sum;
}
export { dot4_f16 } from "./half-rows";

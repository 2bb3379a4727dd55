// Q8_0 rows: blocks of 32 int8 codes sharing one f16 scale. decode: ids -> f32 rows (qs[j] * d, an f32
// product, as ggml's dequantize_row_q8_0); encode: f32 -> blocks, byte-identical to quantize_row_q8_0_ref.
// Keys: V vocab, D dim, N ids, B = 32 elements per block; a row is ceil(D / 32) blocks of 34 bytes.
//   block (34 bytes): [ d f16 | qs[0] i8 | qs[1] | ... | qs[31] ]     element j = qs[j] * d
//                       0-1     2          3           33
import { f16ToF32, f32ToF16 } from "../half";
import { scaleCodes16 } from "../codes";
import { roundAwayX4, x86TruncX4 } from "../cround";
import { hsum } from "../madd";

export function decode_q8_0(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  const full = dim >> 5;
  const tail = dim & 31; // a padded last block: only its first `tail` elements are written
  let dst = out;
  for (let r = 0; r < n; r++) {
    let src = table + <usize>load<u32>(ids + (<usize>r << 2)) * rowBytes;
    for (let b = 0; b < full; b++) {
      const d = f32x4.splat(f16ToF32(load<u16>(src)));
      scaleCodes16(dst, v128.load(src, 2), d);
      scaleCodes16(dst + 64, v128.load(src, 18), d);
      src += 34;
      dst += 128;
    }
    if (tail) {
      const d = f16ToF32(load<u16>(src));
      for (let j = 0; j < tail; j++) {
        store<f32>(dst, <f32>load<i8>(src + 2 + j) * d);
        dst += 4;
      }
    }
  }
}

// Encode n f32 values (whole blocks): amax = max |x|, d = amax / 127, q = roundf(x * (1/d)).
// see: ggml-quants.c quantize_row_q8_0_ref
export function encode_q8_0(src: usize, n: usize, dst: usize): void {
  for (let b: usize = 0; b < n; b += 32) {
    let m = f32x4.abs(v128.load(src));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 16)));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 32)));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 48)));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 64)));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 80)));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 96)));
    m = f32x4.max(m, f32x4.abs(v128.load(src, 112)));
    m = f32x4.max(m, v128.shuffle<f32>(m, m, 2, 3, 0, 1));
    m = f32x4.max(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
    let amax = f32x4.extract_lane(m, 0);
    // without NaN the maximum does not depend on order; with one, replay C's `a > b ? a : b` in order
    if (amax != amax) amax = macroMaxAbs(src);
    const d: f32 = amax / 127.0;
    const id: f32 = d != 0 ? <f32>1.0 / d : 0;
    store<u16>(dst, <u16>f32ToF16(d));
    const idv = f32x4.splat(id);
    store16(dst + 2, src, idv);
    store16(dst + 18, src + 64, idv);
    src += 128;
    dst += 34;
  }
}

function macroMaxAbs(src: usize): f32 {
  let amax: f32 = 0;
  for (let j = 0; j < 32; j++) {
    const a = abs<f32>(load<f32>(src + (<usize>j << 2)));
    amax = amax > a ? amax : a;
  }
  return amax;
}

// 16 values -> 16 codes: roundf(x * id) converted as x86 does, low byte kept (C's int -> int8_t)
// @ts-ignore: decorator
@inline function store16(dst: usize, src: usize, idv: v128): void {
  const q0 = x86TruncX4(roundAwayX4(f32x4.mul(v128.load(src), idv)));
  const q1 = x86TruncX4(roundAwayX4(f32x4.mul(v128.load(src, 16), idv)));
  const q2 = x86TruncX4(roundAwayX4(f32x4.mul(v128.load(src, 32), idv)));
  const q3 = x86TruncX4(roundAwayX4(f32x4.mul(v128.load(src, 48), idv)));
  v128.store(dst, lowBytes(q0, q1, q2, q3));
}

/** The low byte of each i32 lane of four vectors, in order: 16 bytes. */
// @ts-ignore: decorator
@inline export function lowBytes(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i8x16.shuffle(a, b, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
  const cd = i8x16.shuffle(c, d, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
  return i64x2.shuffle(ab, cd, 0, 2);
}

// Exact dot of one Q8_0 row with one f32 vector of `dim` values (whole blocks), straight from the packed bytes:
// per block, sum qs[j] * x[j] in f32 lanes, then scale by d (the same value as summing (qs[j] * d) * x[j],
// one rounding apart). Used by the projection for small batches, where decoding into a scratch costs more.
// mulCodes16: 16 signed codes (as i8) times 16 f32 at x, summed into 4 lanes (Q4_0 and Q2_0 share it).
// @ts-ignore: decorator
@inline export function mulCodes16(q: v128, x: usize): v128 {
  const lo = i16x8.extend_low_i8x16_s(q);
  const hi = i16x8.extend_high_i8x16_s(q);
  const a = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), v128.load(x));
  const b = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), v128.load(x, 16));
  const c = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), v128.load(x, 32));
  const d = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), v128.load(x, 48));
  return f32x4.add(f32x4.add(a, b), f32x4.add(c, d));
}

export function dot_q8_0(row: usize, x: usize, dim: i32): f32 {
  const blocks = dim >> 5; // whole blocks: the caller guarantees it
  let acc = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const sum = f32x4.add(mulCodes16(v128.load(row, 2), x), mulCodes16(v128.load(row, 18), x + 64));
    acc = f32x4.add(acc, f32x4.mul(sum, f32x4.splat(f16ToF32(load<u16>(row)))));
    row += 34;
    x += 128;
  }
  return hsum(acc);
}

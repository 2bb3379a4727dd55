// Exact dots of four f16 or bf16 rows (rowStride bytes apart) with one f32 vector, for the projection of
// long rows in small batches: each chunk of x feeds four rows, and four rows stream from memory together
// (as project.ts does for f32). Both half formats convert in registers (half.ts); f16 also keeps one inf/NaN
// check for the four rows and, if any holds one, sums each again with dot_f16. Results to out[0..3].
import { bf16ToF32, f16ToF32, f16WordsHi, f16WordsLo, f16WordsToF32M, wordsHighHi, wordsHighLo } from "../half";
import { hsum, madd } from "../madd";
import { dot_f16 } from "./f16";
import { HALF_2P112, HALF_MAG, HALF_MASK, HALF_MAXFIN, HALF_SHL13, vconst } from "../vconst";

// A chunk's low or high four halves as f32 (finite f16 only: see the inf/NaN check).
// @ts-ignore: decorator
@inline function lowF32(f16: bool, h: v128, hm: v128, hk: v128, hs: v128): v128 {
  return f16 ? f16WordsToF32M(f16WordsLo(h), hm, hk, hs) : wordsHighLo(h);
}
// @ts-ignore: decorator
@inline function highF32(f16: bool, h: v128, hm: v128, hk: v128, hs: v128): v128 {
  return f16 ? f16WordsToF32M(f16WordsHi(h), hm, hk, hs) : wordsHighHi(h);
}
// @ts-ignore: decorator
@inline function scalarF32(f16: bool, h: u32): f32 {
  return f16 ? f16ToF32(h) : bf16ToF32(h);
}

// @ts-ignore: decorator
@inline function dot4Halves(f16: bool, row: usize, rowStride: usize, x: usize, dim: i32, out: usize): void {
  // the constants loaded once (vconst.ts: V8 13+ rebuilds a constant vector at each use in a loop)
  const mag = vconst(HALF_MAG);
  const hm = vconst(HALF_MASK);
  const hk = vconst(HALF_2P112);
  const hs = vconst(HALF_SHL13);
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
    if (f16) top = i16x8.max_s(top, v128.and(v128.or(v128.or(h0, h1), v128.or(h2, h3)), mag));
    a0 = madd(lowF32(f16, h0, hm, hk, hs), x0, a0);
    b0 = madd(highF32(f16, h0, hm, hk, hs), x1, b0);
    a1 = madd(lowF32(f16, h1, hm, hk, hs), x0, a1);
    b1 = madd(highF32(f16, h1, hm, hk, hs), x1, b1);
    a2 = madd(lowF32(f16, h2, hm, hk, hs), x0, a2);
    b2 = madd(highF32(f16, h2, hm, hk, hs), x1, b2);
    a3 = madd(lowF32(f16, h3, hm, hk, hs), x0, a3);
    b3 = madd(highF32(f16, h3, hm, hk, hs), x1, b3);
    o += 16;
    p += 32;
  }
  // an OR of halves can only raise the exponent bits: no false negatives (false positives just take dot_f16)
  if (f16 && v128.any_true(i16x8.gt_s(top, vconst(HALF_MAXFIN)))) {
    store<f32>(out, dot_f16(row, x, dim));
    store<f32>(out, dot_f16(r1, x, dim), 4);
    store<f32>(out, dot_f16(r2, x, dim), 8);
    store<f32>(out, dot_f16(r3, x, dim), 12);
    return;
  }
  let t0 = hsum(f32x4.add(a0, b0));
  let t1 = hsum(f32x4.add(a1, b1));
  let t2 = hsum(f32x4.add(a2, b2));
  let t3 = hsum(f32x4.add(a3, b3));
  for (; j < dim; j++) {
    const xj = load<f32>(p);
    t0 += scalarF32(f16, load<u16>(row + o)) * xj;
    t1 += scalarF32(f16, load<u16>(r1 + o)) * xj;
    t2 += scalarF32(f16, load<u16>(r2 + o)) * xj;
    t3 += scalarF32(f16, load<u16>(r3 + o)) * xj;
    o += 2;
    p += 4;
  }
  store<f32>(out, t0);
  store<f32>(out, t1, 4);
  store<f32>(out, t2, 8);
  store<f32>(out, t3, 12);
}

export function dot4_f16(row: usize, rowStride: usize, x: usize, dim: i32, out: usize): void {
  dot4Halves(true, row, rowStride, x, dim, out);
}

export function dot4_bf16(row: usize, rowStride: usize, x: usize, dim: i32, out: usize): void {
  dot4Halves(false, row, rowStride, x, dim, out);
}

// Mode "ggml": hidden vectors quantized to int8 blocks exactly as llama.cpp's CPU backend (x86) quantizes the
// activations of a mat-mul before its integer dot products, one kind per vec_dot_type:
//   Q8_0 (and Q8_1: the same codes and d, plus s, see the layout): blocks of 32, amax = max |x|,
//     d = f16(amax / 127), id = 127 / amax (0 when amax is 0), q = round-half-even(x * id), converted as
//     cvtps2dq (NaN, out of range: INT_MIN) and saturated to int8 (packssdw, packsswb) — the AVX/AVX2
//     quantize_row_q8_0 / q8_1, which differs from the reference quantizer (id = 1 / d, roundf) in ties and in a
//     last bit of id;
//   Q8_K: blocks of 256, max = the value of largest |x| (the first of equals), iscale = -127 / max,
//     q = min(127, nearest_int(iscale * x)), d = 1 / iscale in f32, plus the sums of each 16 codes (bsums)
//     — quantize_row_q8_K (x86 uses quantize_row_q8_K_ref).
// A dim that is not a multiple of the block is padded with zeros (the table's rows are padded the same way;
// zero codes make the padding contribute nothing).
// Keys: D dim, N vectors, BX block (32 or 256), NB = ceil(D / BX) blocks, P = NB * BX, NB4 = NB rounded up to 4.
// Layout of one vector's record (`activationBytes`, 16-aligned), written by quantize_activations:
//   [0, 2P)            codes as i16; each run of 16 values is stored as its 8 even-indexed values, then its
//                      8 odd-indexed ones (what i32x4.dot_i16x8_s pairs with a byte row read as i16 lanes)
//   [2P, 3P)           codes as i8, in order (what i32x4.relaxed_dot_i8x16_i7x16_add_s pairs with 16 bytes)
//   [3P, +4 NB4)       d per block, f32 (Q8_0: the f16 scale as f32)
//   [.., +4 NB4)       d / 256 per block (for kernels whose integer sums come out 256 times too large)
//   [.., +16 NB4)      Q8_0 / Q8_1: per block, four i32 lane sums of its codes (lane i: values 4i..4i+3 and
//                      16 + 4i..16 + 4i + 3, the lanes a block's integer dot comes out in); Q8_K: the 16
//                      bsums of each block, i16 (+32 NB4)
//   [.., +4 NB4)       Q8_1 only: s per block, f32 holding block_q8_1's f16 s = f16(d * sum of the codes), d the
//                      f32 amax / 127 before its f16 rounding and the sum taken over the i32 codes before they
//                      are saturated to int8 (NaN or out of range: INT_MIN, added with wrap-around) — what
//                      q4_1 / q5_1 dots multiply the row's minimum by
// see: ggml-cpu/arch/x86/quants.c quantize_row_q8_0, quantize_row_q8_1; ggml-quants.c quantize_row_q8_K_ref;
// ggml-common.h block_q8_0, block_q8_1, block_q8_K.
import { f16ToF32, f32ToF16 } from "./half";
import { x86TruncX4 } from "./cround";
import { CR_HI, CR_LO, CR_SIGN, vconst } from "./vconst";

// The kinds (a format's vec_dot_type; formats/registry.ts vecDotOf gives a format's kind, 0 for none).
export const VEC_Q8_0: i32 = 1;
export const VEC_Q8_1: i32 = 2;
export const VEC_Q8_K: i32 = 3;

// @ts-ignore: decorator
@inline export function actBlock(kind: i32): i32 {
  return kind == VEC_Q8_K ? 256 : 32;
}

// @ts-ignore: decorator
@inline function paddedDim(kind: i32, dim: i32): i32 {
  const bx = actBlock(kind);
  return (dim + bx - 1) / bx * bx;
}

// @ts-ignore: decorator
@inline function blocks4(kind: i32, dim: i32): i32 {
  return ((paddedDim(kind, dim) / actBlock(kind)) + 3) & ~3;
}

// Byte offsets inside a record (layout above).
// @ts-ignore: decorator
@inline export function actCodes8(kind: i32, dim: i32): usize {
  return <usize>paddedDim(kind, dim) << 1;
}
// @ts-ignore: decorator
@inline export function actD(kind: i32, dim: i32): usize {
  return <usize>paddedDim(kind, dim) * 3;
}
// @ts-ignore: decorator
@inline export function actD256(kind: i32, dim: i32): usize {
  return actD(kind, dim) + (<usize>blocks4(kind, dim) << 2);
}
// @ts-ignore: decorator
@inline export function actSums(kind: i32, dim: i32): usize {
  return actD(kind, dim) + (<usize>blocks4(kind, dim) << 3);
}
// Q8_1's s per block (after the lane sums).
// @ts-ignore: decorator
@inline export function actS(kind: i32, dim: i32): usize {
  return actSums(kind, dim) + (<usize>blocks4(kind, dim) << 4);
}
// @ts-ignore: decorator
@inline export function activationBytes(kind: i32, dim: i32): usize {
  if (kind == VEC_Q8_1) return actS(kind, dim) + (<usize>blocks4(kind, dim) << 2);
  const sums = kind == VEC_Q8_K ? <usize>(blocks4(kind, dim) << 5) : <usize>(blocks4(kind, dim) << 4);
  return (actSums(kind, dim) + sums + 15) & ~15;
}


// The 16 codes (i8, in order) as two i16 vectors: the even-indexed values, then the odd-indexed ones.
// @ts-ignore: decorator
@inline function storeCodes(at: usize, at8: usize, c: v128): void {
  v128.store(at8, c);
  v128.store(at, i16x8.shr_s(i16x8.shl(c, 8), 8));
  v128.store(at, i16x8.shr_s(c, 8), 16);
}

// The sum of 16 i8 codes, in each of four i32 lanes' share.
// @ts-ignore: decorator
@inline function codeSums(c: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(c));
}

// @ts-ignore: decorator
@inline function laneSum(v: v128): i32 {
  return (i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1)) + (i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3));
}

// Value j of a block whose first `count` values are real (zeros after).
// @ts-ignore: decorator
@inline function value(x: usize, j: i32, count: i32): f32 {
  return j < count ? load<f32>(x + (<usize>j << 2)) : 0;
}

// Four values j..j+3 of a block with `count` real values.
// @ts-ignore: decorator
@inline function load4(x: usize, j: i32, count: i32): v128 {
  if (j + 4 <= count) return v128.load(x + (<usize>j << 2));
  return f32x4(value(x, j, count), value(x, j + 1, count), value(x, j + 2, count), value(x, j + 3, count));
}

// The i32 codes of four values before saturation (x86: multiply, round half to even, cvtps2dq).
// @ts-ignore: decorator
@inline function q8Ints4(x: usize, j: i32, count: i32, idv: v128): v128 {
  return x86TruncX4(f32x4.nearest(f32x4.mul(load4(x, j, count), idv)), vconst(CR_LO), vconst(CR_HI), vconst(CR_SIGN));
}

// Q8_0 codes of 16 values (q8Ints4 saturated to int8).
// @ts-ignore: decorator
@inline function q8_0Codes16(x: usize, j: i32, count: i32, idv: v128): v128 {
  const a = q8Ints4(x, j, count, idv);
  const b = q8Ints4(x, j + 4, count, idv);
  const c = q8Ints4(x, j + 8, count, idv);
  const d = q8Ints4(x, j + 12, count, idv);
  return i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d));
}

// Q8_1's sum of a block's i32 codes before saturation (AVX2 adds them in i32 lanes: wrap-around, whose result
// does not depend on the order), over its `count` real values only (the padding adds nothing, as its codes).
// @ts-ignore: decorator
@inline function q8_1IntSum(x: usize, count: i32, idv: v128): i32 {
  if (count >= 32) {
    let s = i32x4.splat(0);
    for (let j = 0; j < 32; j += 4) s = i32x4.add(s, q8Ints4(x, j, 32, idv));
    return laneSum(s);
  }
  const id = f32x4.extract_lane(idv, 0);
  let s: i32 = 0;
  for (let j = 0; j < count; j++) s += i32x4.extract_lane(q8Ints4(x, j, j + 1, f32x4.splat(id)), 0);
  return s;
}

// Codes of values past the real ones set to 0 (n of the 16 are real): the padding then adds nothing whatever
// the table's padding codes are (a subnormal amax makes 127 / amax infinite, and 0 * inf a -128 code).
// @ts-ignore: decorator
@inline function keepFirst(c: v128, n: i32): v128 {
  if (n >= 16) return c;
  const iota = i8x16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  return v128.and(c, i8x16.lt_s(iota, i8x16.splat(<i8>max(n, 0))));
}

// One vector (dim f32 at x) to a Q8_0 or Q8_1 record at out. Hidden vectors hold no NaN (find_nan checks).
function quantizeQ8_0(kind: i32, x: usize, dim: i32, out: usize): void {
  const nb = paddedDim(kind, dim) >> 5;
  const codes8 = out + actCodes8(kind, dim);
  const dOut = out + actD(kind, dim);
  const d256Out = out + actD256(kind, dim);
  const sums = out + actSums(kind, dim);
  const sOut = out + actS(kind, dim);
  for (let b = 0; b < nb; b++) {
    const xb = x + (<usize>b << 7);
    const count = min(32, dim - (b << 5));
    let m = f32x4.splat(0);
    for (let j = 0; j < 32; j += 4) m = f32x4.max(m, f32x4.abs(load4(xb, j, count)));
    const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    const d = f16ToF32(f32ToF16(amax / <f32>127));
    const idv = f32x4.splat(amax != 0 ? <f32>127 / amax : 0);
    const c0 = keepFirst(q8_0Codes16(xb, 0, count, idv), count);
    const c1 = keepFirst(q8_0Codes16(xb, 16, count, idv), count - 16);
    storeCodes(out + (<usize>b << 6), codes8 + (<usize>b << 5), c0);
    storeCodes(out + (<usize>b << 6) + 32, codes8 + (<usize>b << 5) + 16, c1);
    store<f32>(dOut + (<usize>b << 2), d);
    store<f32>(d256Out + (<usize>b << 2), d * <f32>0.00390625);
    v128.store(sums + (<usize>b << 4), i32x4.add(codeSums(c0), codeSums(c1)));
    if (kind == VEC_Q8_1) {
      const s = amax / <f32>127 * <f32>q8_1IntSum(xb, count, idv);
      store<f32>(sOut + (<usize>b << 2), f16ToF32(f32ToF16(s)));
    }
  }
}

// ggml's nearest_int on four lanes: the magic-number rounding (ties to even for |v| < 2^22; 0 for NaN).
// @ts-ignore: decorator
@inline function nearestInt4(v: v128): v128 {
  return i32x4.sub(v128.and(f32x4.add(v, f32x4.splat(12582912.0)), i32x4.splat(0x007fffff)), i32x4.splat(0x00400000));
}

// Q8_K codes of 16 values: min(127, nearest_int(iscale * x)), stored as C stores an int in an int8_t (the low
// byte: a subnormal max makes iscale infinite, and nearest_int(-inf) = -4194304 becomes 0).
// @ts-ignore: decorator
@inline function q8_kCodes16(x: usize, j: i32, count: i32, isv: v128): v128 {
  const top = i32x4.splat(127);
  const a = i32x4.min_s(nearestInt4(f32x4.mul(isv, load4(x, j, count))), top);
  const b = i32x4.min_s(nearestInt4(f32x4.mul(isv, load4(x, j + 4, count))), top);
  const c = i32x4.min_s(nearestInt4(f32x4.mul(isv, load4(x, j + 8, count))), top);
  const d = i32x4.min_s(nearestInt4(f32x4.mul(isv, load4(x, j + 12, count))), top);
  const ab = i8x16.shuffle(a, b, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
  const cd = i8x16.shuffle(c, d, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
  return i64x2.shuffle(ab, cd, 0, 2);
}

// One vector to a Q8_K record.
function quantizeQ8_K(x: usize, dim: i32, out: usize): void {
  const kind = VEC_Q8_K;
  const nb = paddedDim(kind, dim) >> 8;
  const codes8 = out + actCodes8(kind, dim);
  const dOut = out + actD(kind, dim);
  const d256Out = out + actD256(kind, dim);
  const sums = out + actSums(kind, dim);
  for (let b = 0; b < nb; b++) {
    const xb = x + (<usize>b << 10);
    const count = min(256, dim - (b << 8));
    // the value of largest |x|, the first of equals (`if (ax > amax)` in element order)
    let m = f32x4.splat(0);
    for (let j = 0; j < 256; j += 4) m = f32x4.max(m, f32x4.abs(load4(xb, j, count)));
    const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    let vmax: f32 = 0;
    for (let j = 0; j < count; j++) {
      const v = load<f32>(xb + (<usize>j << 2));
      if (abs<f32>(v) == amax) {
        vmax = v;
        break;
      }
    }
    const cOut = out + (<usize>b << 9);
    const c8Out = codes8 + (<usize>b << 8);
    const sOut = sums + (<usize>b << 5);
    if (amax == 0) {
      memory.fill(cOut, 0, 512);
      memory.fill(c8Out, 0, 256);
      memory.fill(sOut, 0, 32);
      store<f32>(dOut + (<usize>b << 2), 0);
      store<f32>(d256Out + (<usize>b << 2), 0);
      continue;
    }
    const iscale: f32 = <f32>-127 / vmax;
    const isv = f32x4.splat(iscale);
    for (let g = 0; g < 16; g++) {
      const c = keepFirst(q8_kCodes16(xb, g << 4, count, isv), min(count - (g << 4), 16));
      storeCodes(cOut + (<usize>g << 5), c8Out + (<usize>g << 4), c);
      store<i16>(sOut + (<usize>g << 1), <i16>laneSum(codeSums(c)));
    }
    const d: f32 = <f32>1 / iscale;
    store<f32>(dOut + (<usize>b << 2), d);
    store<f32>(d256Out + (<usize>b << 2), d * <f32>0.00390625);
  }
}

/** Quantize nx hidden vectors (dim f32 each, back to back at x) to `kind` records of activationBytes each. */
export function quantizeActivations(kind: i32, x: usize, nx: i32, dim: i32, out: usize): void {
  const bytes = activationBytes(kind, dim);
  for (let v = 0; v < nx; v++) {
    const xv = x + (<usize>v * <usize>dim << 2);
    const rec = out + <usize>v * bytes;
    if (kind == VEC_Q8_K) quantizeQ8_K(xv, dim, rec);
    else quantizeQ8_0(kind, xv, dim, rec);
  }
}

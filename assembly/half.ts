// f16 and bf16 <-> f32 conversion, scalar and 4-lane SIMD.
// f16 decode is exact (every half is an f32); encode rounds to nearest even, overflows to inf, and writes
// every NaN as sign | 0x7e00 as ggml does (docs/FORMATS.md, "NaN in f16"). bf16 is the high half of an f32; encode rounds to nearest even, NaN stays a quiet NaN.
// see: IEEE 754-2008 §5.4.2 (formatOf conversions); ggml's fp32_to_bf16 for the bf16 rounding rule.

import { vconst, WORDS_HIGH_HI, WORDS_HIGH_LO, WORDS_LOW_HI } from "./vconst";

// 2^112 moves an f16 exponent (bias 15) into f32 range (bias 127): 127 - 15 = 112.
const F16_EXP_SHIFT: u32 = 0x77800000;

// @ts-ignore: decorator
@inline export function f16ToF32(h: u32): f32 {
  const sign = (h & 0x8000) << 16;
  const em = h & 0x7fff;
  if (em >= 0x7c00) {
    // inf keeps zero mantissa; NaN keeps its payload and becomes quiet, as hardware conversions do
    const nanQuiet: u32 = em > 0x7c00 ? 0x00400000 : 0;
    return reinterpret<f32>(sign | 0x7f800000 | ((em & 0x3ff) << 13) | nanQuiet);
  }
  // normals and subnormals alike: the scaled bit pattern times 2^112 is exact
  return reinterpret<f32>(sign | reinterpret<u32>(reinterpret<f32>(em << 13) * reinterpret<f32>(F16_EXP_SHIFT)));
}

// Round to nearest even by letting the FPU round: adding a power of two whose ulp equals the f16 ulp at
// the value's exponent leaves the rounded f16 mantissa in the low bits.
// @ts-ignore: decorator
@inline export function f32ToF16(f: f32): u32 {
  const w = reinterpret<u32>(f);
  const sign = (w >> 16) & 0x8000;
  const twice = w << 1; // exponent and mantissa, sign dropped
  // NaN: ggml's GGML_FP32_TO_FP16 (what writes tables and block scales) keeps no payload; F16C would
  if (twice > 0xff000000) return sign | 0x7e00;
  // |f| scaled up then down: values beyond f16 range overflow to inf, the rest are unchanged
  let base = (abs<f32>(f) * reinterpret<f32>(0x77800000)) * reinterpret<f32>(0x08800000);
  let bias = twice & 0xff000000;
  if (bias < 0x71000000) bias = 0x71000000; // below f16 normal range: align to the subnormal ulp
  base = reinterpret<f32>((bias >> 1) + 0x07800000) + base;
  const bits = reinterpret<u32>(base);
  return sign | (((bits >> 13) & 0x7c00) + (bits & 0x0fff));
}

// @ts-ignore: decorator
@inline export function bf16ToF32(h: u32): f32 {
  return reinterpret<f32>(h << 16);
}

// @ts-ignore: decorator
@inline export function f32ToBf16(f: f32): u32 {
  const w = reinterpret<u32>(f);
  if ((w & 0x7fffffff) > 0x7f800000) return (w >> 16) | 64; // NaN: force quiet
  return (w + (0x7fff + ((w >> 16) & 1))) >> 16;
}

// Four f16 values, zero-extended to u32 lanes, to four f32 lanes. Same rule as f16ToF32.
// @ts-ignore: decorator
@inline export function f16x4ToF32x4(h: v128): v128 {
  const sign = i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16);
  const em = v128.and(h, i32x4.splat(0x7fff));
  const shifted = i32x4.shl(em, 13);
  const finite = f32x4.mul(shifted, f32x4.splat(reinterpret<f32>(F16_EXP_SHIFT)));
  const nanQuiet = v128.and(i32x4.gt_s(em, i32x4.splat(0x7c00)), i32x4.splat(0x00400000));
  const special = v128.or(v128.or(shifted, i32x4.splat(0x7f800000)), nanQuiet);
  const isSpecial = i32x4.ge_s(em, i32x4.splat(0x7c00));
  return v128.or(sign, v128.bitselect(special, finite, isSpecial));
}

// The low (high) four u16 lanes of h into the high halves of four i32 lanes, zeros below: one word interleave
// with zero (punpcklwd / punpckhwd). That is the whole bf16 -> f32 conversion, and the first step of the
// three-operation f16 one in formats/f16.ts. Relaxed build: one byte shuffle of h alone (pshufb; an index of
// 0x80 selects zero in every engine), its indices loaded (vconst): JavaScriptCore makes a two-input shuffle
// two pshufb and a por.
// @ts-ignore: decorator
@inline export function wordsHighLo(h: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i8x16.relaxed_swizzle(h, vconst(WORDS_HIGH_LO));
  return i8x16.shuffle(i32x4.splat(0), h, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
}
// @ts-ignore: decorator
@inline export function wordsHighHi(h: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i8x16.relaxed_swizzle(h, vconst(WORDS_HIGH_HI));
  return i8x16.shuffle(i32x4.splat(0), h, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
}

// Halves in the high 16 bits of i32 lanes (wordsHighLo / wordsHighHi) -> f32, exact for every
// finite half in three operations: an arithmetic shift by 3 puts exponent and mantissa where f32 keeps them
// and copies the sign into bits 30..28, the mask clears the copies, and 2^112 rebiases the exponent
// (subnormal halves become subnormal f32s, exactly). Inf and NaN come out finite: callers check for them.
// @ts-ignore: decorator
@inline export function highHalvesToF32(hh: v128): v128 {
  return highHalvesToF32M(hh, i32x4.splat(<i32>0x8fffffff), f32x4.splat(reinterpret<f32>(0x77800000)));
}

// The same with its constants given (hm: vconst(HALF_MASK), hk: vconst(HALF_2P112)), for loops: V8 13+
// (Node 24, Deno) builds a constant vector again at each use inside a loop, where a loaded one stays in a
// register. The f16 loops also load HALF_MAG and HALF_MAXFIN (their inf/NaN test) this way.
// @ts-ignore: decorator
@inline export function highHalvesToF32M(hh: v128, hm: v128, hk: v128): v128 {
  return f32x4.mul(v128.and(i32x4.shr_s(hh, 3), hm), hk);
}

// The f16 conversion's words without a shift, for the relaxed build's loops: JavaScriptCore lowers a vector
// shift by a constant to four instructions (the count masked and moved to a vector register at each use).
// f16WordsLo / f16WordsHi place the low (high) four halves of h where f16WordsToF32M takes them, and
// f16WordsToF32M gives highHalvesToF32M's result, bit for bit. Relaxed build: each half in the low 16 bits of
// an i32 lane (pmovzxwd, or one byte swizzle), times 2^13 sign-extended by i32x4.dot_i16x8_s (pmaddwd, the
// odd i16 lanes times 0): half << 13 with the sign copied into bits 31..28, which is the arithmetic shift of
// the high placement by 3 (hs: vconst(HALF_SHL13), loaded once like hm and hk). Baseline: wordsHighLo /
// wordsHighHi and the shift (hs unused).
// @ts-ignore: decorator
@inline export function f16WordsLo(h: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.extend_low_i16x8_u(h);
  return wordsHighLo(h);
}
// @ts-ignore: decorator
@inline export function f16WordsHi(h: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i8x16.relaxed_swizzle(h, vconst(WORDS_LOW_HI));
  return wordsHighHi(h);
}
// @ts-ignore: decorator
@inline export function f16WordsToF32M(w: v128, hm: v128, hk: v128, hs: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.mul(v128.and(i32x4.dot_i16x8_s(w, hs), hm), hk);
  return highHalvesToF32M(w, hm, hk);
}

// The f16 values at four addresses -> four f32 lanes, exact, Inf and NaN included: each loaded into the high
// half of a lane (pinsrw), then highHalvesToF32, which makes Inf and NaN halves +-65536 * (1 + m / 1024);
// those (|f| >= 2^16, which no finite half reaches) get f32's all-ones exponent or'ed in. Four constants in all
// (V8 materializes each one at every use: three instructions).
// @ts-ignore: decorator
@inline export function f16x4At(p0: usize, p1: usize, p2: usize, p3: usize): v128 {
  let hh = v128.load16_lane(p0, i32x4.splat(0), 1);
  hh = v128.load16_lane(p1, hh, 3);
  hh = v128.load16_lane(p2, hh, 5);
  hh = v128.load16_lane(p3, hh, 7);
  const f = highHalvesToF32(hh);
  // |f| >= 2^16: the bits without the sign, unsigned, at least those of 65536 (0x47800000 << 1)
  const special = i32x4.ge_u(i32x4.shl(f, 1), i32x4.splat(<i32>0x8f000000));
  return v128.or(f, v128.and(special, i32x4.splat(0x7f800000)));
}

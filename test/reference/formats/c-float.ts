// C's float operations as the Bonsai 2 reference quantizers run them on x86-64 (gcc, glibc), for the plain
// references of pq2_0 and ptq1_0: roundf, (int) and lroundf of a float, and ggml's fp32 <-> fp16 conversions.
// see: docs/BONSAI2.md §1 (conventions), §6 (the x86 conversions of inf and NaN: INT_MIN, LONG_MIN).
import { f16ToF32Bits, f32FromBits, f32ToF16Bits } from "../half.js";

/** roundf: nearest, halves away from zero (x a float32 value). */
export function roundf(x: number): number {
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}

/** `(int)roundf(x)` on x86 (cvttss2si): INT_MIN for NaN, infinities and values outside the int range. */
export function intRoundf(x: number): number {
  const r = roundf(x);
  return Number.isFinite(r) && r >= -(2 ** 31) && r < 2 ** 31 ? r : -(2 ** 31);
}

/** `int xi = lroundf(x) + 1;` on x86-64: lroundf gives LONG_MIN out of range, the int keeps the low 32 bits. */
export function lroundfPlus1(x: number): number {
  const r = roundf(x);
  const long = Number.isFinite(r) && Math.abs(r) < 2 ** 63 ? BigInt(r) : -(2n ** 63n);
  return Number(BigInt.asIntN(32, long + 1n));
}

/** GGML_FP32_TO_FP16: nearest even, overflow to inf, NaN to sign | 0x7e00 (no payload). */
export function fp16Bits(x: number): number {
  if (Number.isNaN(x)) return (f32ToF16Bits(x) & 0x8000) | 0x7e00;
  return f32ToF16Bits(x);
}

/** GGML_FP16_TO_FP32 (exact). */
export function fp16Value(bits: number): number {
  return f32FromBits(f16ToF32Bits(bits));
}

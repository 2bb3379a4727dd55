// C's arithmetic as ggml's reference quantizers meet it on x86-64: f32 rounding after every operation
// (fr = Math.fround), roundf, nearest_int, and the float-to-int conversions, whose NaN and out-of-range
// results the golden edge rows pin down (row 3: 1/d overflows f32 for a block of subnormals).

export const fr = Math.fround;

/** C roundf: nearest, ties away from zero; NaN and infinities pass through. */
export function roundf(x: number): number {
  if (!Number.isFinite(x)) return x;
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}

/** C's (int) of a float on x86 (cvttss2si): truncate; NaN and out-of-range give INT_MIN. */
export function x86Int(x: number): number {
  if (!(x >= -2147483648 && x < 2147483648)) return -2147483648;
  return Math.trunc(x);
}

export const clamp = (l: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, l));

/** (int8_t) of an int: the low byte, signed. */
export function int8(v: number): number {
  return (v << 24) >> 24;
}

/** `(int)roundf(x)` on x86: INT_MIN for NaN, infinities and values outside the int range. */
export function intRoundf(x: number): number {
  return x86Int(roundf(x));
}

/** `int xi = lroundf(x) + 1;` on x86-64: lroundf gives LONG_MIN out of range, the int keeps the low 32 bits. */
export function lroundfPlus1(x: number): number {
  const r = roundf(x);
  const long = Number.isFinite(r) && Math.abs(r) < 2 ** 63 ? BigInt(r) : -(2n ** 63n);
  return Number(BigInt.asIntN(32, long + 1n));
}

/** The low 32 bits of C's lroundf on x86-64: a 64-bit result, LONG_MIN (low bits 0) out of range. */
export function lroundLow(x: number): number {
  const r = roundf(x);
  return Math.abs(r) < 2 ** 63 ? Number(BigInt.asIntN(32, BigInt(r))) : 0;
}

/** max |x| over n values from `start`, as ggml's `amax = MAX(amax, fabsf(v))` reads (a NaN restarts it). */
export function amaxOf(x: Float32Array, start = 0, n = x.length - start): number {
  let amax = 0;
  for (let j = 0; j < n; j++) {
    const a = Math.abs(x[start + j]);
    amax = amax > a ? amax : a;
  }
  return amax;
}

const bits = new Float32Array(1);
const bitsI = new Int32Array(bits.buffer);

/** ggml's nearest_int(fval): the bits of fval + 12582912.f, masked to the mantissa, minus 0x400000. */
export function nearestInt(v: number): number {
  bits[0] = fr(v) + 12582912;
  return (bitsI[0] & 0x007fffff) - 0x00400000;
}

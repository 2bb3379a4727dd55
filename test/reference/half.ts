// Plain references for f16 and bf16, written from the IEEE 754 definitions with float64 arithmetic
// (every f32 and every half is exact in a float64). Rounding is to nearest, ties to even.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function f32Bits(x: number): number {
  f32[0] = x;
  return u32[0];
}
export function f32FromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0];
}

/** f16 bits -> f32 bits. NaN: quiet bit set, payload kept (what hardware conversion does). */
export function f16ToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 31;
  const mant = h & 1023;
  if (exp === 31) return (sign | 0x7f800000 | (mant << 13) | (mant !== 0 ? 0x00400000 : 0)) >>> 0;
  const magnitude = exp === 0 ? mant * 2 ** -24 : (1 + mant / 1024) * 2 ** (exp - 15);
  return f32Bits(sign ? -magnitude : magnitude);
}

/**
 * f32 value -> f16 bits, round to nearest even, overflow to inf. NaN: sign | 0x7e00, no payload, as ggml's
 * GGML_FP32_TO_FP16 writes tables and block scales (F16C hardware would keep the payload's top bits).
 */
export function f32ToF16Bits(x: number): number {
  const bits = f32Bits(x);
  const sign = (bits >>> 16) & 0x8000;
  if (Number.isNaN(x)) return sign | 0x7e00;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7c00;
  // the binade of a: 2^e <= a < 2^(e+1); subnormals share the ulp of the smallest normal binade
  const e = a === 0 ? -14 : Math.max(-14, binade(a));
  const ulp = 2 ** (e - 10);
  const q = a / ulp;
  let r = Math.floor(q);
  const frac = q - r;
  if (frac > 0.5 || (frac === 0.5 && r % 2 === 1)) r += 1;
  const value = r * ulp;
  if (value >= 65536) return sign | 0x7c00;
  return sign | halfBitsOfExact(value);
}

// floor(log2(a)) for a > 0, corrected where Math.log2 rounds across a power of two
function binade(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  if (2 ** (e + 1) <= a) e += 1;
  return e;
}

// bits of a non-negative value that is exactly a finite half
function halfBitsOfExact(v: number): number {
  if (v < 2 ** -14) return v / 2 ** -24; // subnormal (or zero)
  const exp = binade(v);
  return ((exp + 15) << 10) | ((v / 2 ** exp - 1) * 1024);
}

/** bf16 bits -> f32 bits: the upper half. */
export function bf16ToF32Bits(h: number): number {
  return (h << 16) >>> 0;
}

/** f32 value -> bf16 bits, nearest even by value; NaN becomes quiet. */
export function f32ToBf16Bits(x: number): number {
  const bits = f32Bits(x);
  if (Number.isNaN(x)) return ((bits >>> 16) | 0x40) & 0xffff;
  const lo = bits >>> 16;
  const hi = lo + 1;
  const loValue = Math.abs(f32FromBits(lo << 16));
  // the value above the largest finite bf16 is 2^128 for rounding purposes (where inf sits)
  const hiValue = (hi & 0x7fff) === 0x7f80 ? 2 ** 128 : Math.abs(f32FromBits(hi << 16));
  const a = Math.abs(x);
  if (a === Infinity || a === loValue) return lo;
  const down = a - loValue;
  const up = hiValue - a;
  if (down < up || (down === up && (lo & 1) === 0)) return lo;
  return hi & 0xffff;
}

/** The f32 value of the little-endian f16 at bytes[at]. */
export function f16At(bytes: Uint8Array, at: number): number {
  return f32FromBits(f16ToF32Bits(bytes[at] | (bytes[at + 1] << 8)));
}

/** Stores f16(x) little-endian at bytes[at]; returns the stored value. */
export function putF16(bytes: Uint8Array, at: number, x: number): number {
  const h = f32ToF16Bits(x);
  bytes[at] = h & 255;
  bytes[at + 1] = h >>> 8;
  return f32FromBits(f16ToF32Bits(h));
}

/** The f32 value of f16 bits (exact). */
export function fp16Value(bits: number): number {
  return f32FromBits(f16ToF32Bits(bits));
}

// The pieces of ggml's f32 arithmetic the k-quant references share: nearest_int (the magic-number rounding,
// computed on the f32 bit pattern as C does) and f16 storage of a block scale.
// see: ggml-quants.c nearest_int; ggml-impl.h ggml_compute_fp32_to_fp16.
import { f16ToF32Bits, f32FromBits, f32ToF16Bits } from "../half.js";

export const fr = Math.fround;

const bits = new Float32Array(1);
const bitsI = new Int32Array(bits.buffer);

/** ggml's nearest_int(fval): the bits of (fval + 12582912.f), & 0x7fffff, minus 0x400000. */
export function nearestInt(v: number): number {
  bits[0] = fr(v) + 12582912;
  return (bitsI[0] & 0x007fffff) - 0x00400000;
}

export const clamp = (l: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, l));

/** f32 -> f16 bits, little-endian into bytes[at], bytes[at + 1]; returns the f16 value as a number. */
export function storeF16(bytes: Uint8Array, at: number, v: number): number {
  const h = f32ToF16Bits(v);
  bytes[at] = h & 255;
  bytes[at + 1] = h >> 8;
  return f32FromBits(f16ToF32Bits(h));
}

/** The f16 at bytes[at] as a number. */
export function loadF16(bytes: Uint8Array, at: number): number {
  return f32FromBits(f16ToF32Bits(bytes[at] | (bytes[at + 1] << 8)));
}

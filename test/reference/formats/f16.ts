// F16 (ggml type 1): one little-endian IEEE binary16 per block, converted by the plain reference in ../half.ts
// (nearest even, beyond the range -> inf, NaN stays NaN).
import { f16ToF32Bits, f32FromBits, f32ToF16Bits } from "../half.js";
import type { FormatReference } from "./types.js";

export const reference: FormatReference = {
  quantize: (values) => new Uint8Array(Uint16Array.from(values, f32ToF16Bits).buffer),
  dequantize: (bytes) => Float32Array.from(new Uint16Array(bytes.slice().buffer), (h) => f32FromBits(f16ToF32Bits(h))),
  // half an ulp: 2^-11 relative for normals, 2^-25 absolute below 2^-14
  maxError: ([x]) => Math.abs(x) * 2 ** -11 + 2 ** -25,
};

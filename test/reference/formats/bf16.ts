// BF16 (ggml type 30): the high 16 bits of an f32, converted by the plain reference in ../half.ts (nearest even
// by value, NaN stays a quiet NaN).
import { bf16ToF32Bits, f32FromBits, f32ToBf16Bits } from "../half.js";
import type { FormatReference } from "./types.js";

export const reference: FormatReference = {
  quantize: (values) => new Uint8Array(Uint16Array.from(values, f32ToBf16Bits).buffer),
  dequantize: (bytes) => Float32Array.from(new Uint16Array(bytes.slice().buffer), (h) => f32FromBits(bf16ToF32Bits(h))),
  // half an ulp: 2^-8 relative, 2^-134 absolute below 2^-126
  maxError: ([x]) => Math.abs(x) * 2 ** -8 + 2 ** -134,
};

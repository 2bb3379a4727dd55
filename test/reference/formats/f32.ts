// F32 (ggml type 0): one little-endian IEEE binary32 per block; the bytes are the values, NaN payloads kept.
import type { FormatReference } from "./types.js";

export const reference: FormatReference = {
  quantize: (values) => new Uint8Array(values.slice().buffer),
  dequantize: (bytes) => new Float32Array(bytes.slice().buffer),
  maxError: () => 0,
};

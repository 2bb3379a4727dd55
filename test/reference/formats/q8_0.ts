// Q8_0 (ggml type 8), from ggml's quantize_row_q8_0_ref and dequantize_row_q8_0.
// Block: 32 values in 34 bytes, [d f16][qs int8 x 32]; value j = qs[j] * d.
// see: ggml-quants.c; docs/FORMATS.md
import { f16At, putF16 } from "../half.js";
import { amaxOf, fr, roundf, x86Int } from "./c.js";
import type { FormatReference } from "./types.js";

const QK = 32;
const BYTES = 34;

// d = amax / 127 with amax as the C macro reads it (a > b ? a : b); q = (int)roundf(x * id)
function quantize(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  for (let b = 0; b < x.length / QK; b++) {
    const d = fr(amaxOf(x, b * QK, QK) / 127);
    const id = d !== 0 ? fr(1 / d) : 0;
    putF16(out, b * BYTES, d);
    for (let j = 0; j < QK; j++) out[b * BYTES + 2 + j] = x86Int(roundf(fr(x[b * QK + j] * id))) & 255;
  }
  return out;
}

function dequantize(bytes: Uint8Array): Float32Array {
  const out = new Float32Array((bytes.length / BYTES) * QK);
  for (let b = 0; b < bytes.length / BYTES; b++) {
    const d = f16At(bytes, b * BYTES);
    for (let j = 0; j < QK; j++) out[b * QK + j] = fr(((bytes[b * BYTES + 2 + j] << 24) >> 24) * d);
  }
  return out;
}

export const reference: FormatReference = {
  quantize,
  dequantize,
  // half a step of d = amax / 127, plus up to 127 times the f16 rounding of d (2^-11 relative, 2^-25 absolute)
  maxError: (block) => (0.5 * 1.001 + 127 * 2 ** -11) * (amaxOf(block) / 127) + 127 * 2 ** -25,
};

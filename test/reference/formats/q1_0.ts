// Q1_0 (ggml type 41, PrismML Bonsai), from ggml's quantize_row_q1_0_ref and dequantize_row_q1_0.
// Block: 128 values in 18 bytes, [d f16][qs 16]; bit j % 8 (least significant first) of qs[j / 8]: 1 -> +d,
// 0 -> -d.
// see: ggml-quants.c; docs/FORMATS.md
import { f16At, putF16 } from "../half.js";
import { fr } from "./c.js";
import type { FormatReference } from "./types.js";

const QK = 128;
const BYTES = 18;

// d = mean |x| as a running f32 sum; the bit is set when x >= 0.
function quantize(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  for (let b = 0; b < x.length / QK; b++) {
    let sum = 0;
    for (let j = 0; j < QK; j++) sum = fr(sum + Math.abs(x[b * QK + j]));
    putF16(out, b * BYTES, fr(sum / QK));
    for (let j = 0; j < QK; j++) {
      if (x[b * QK + j] >= 0) out[b * BYTES + 2 + (j >> 3)] |= 1 << (j & 7);
    }
  }
  return out;
}

function codes(block: Uint8Array): Uint8Array {
  return Uint8Array.from({ length: QK }, (_, j) => (block[2 + (j >> 3)] >> (j & 7)) & 1);
}

function dequantize(bytes: Uint8Array): Float32Array {
  const out = new Float32Array((bytes.length / BYTES) * QK);
  for (let b = 0; b < bytes.length / BYTES; b++) {
    const d = f16At(bytes, b * BYTES);
    for (let j = 0; j < QK; j++) out[b * QK + j] = (bytes[b * BYTES + 2 + (j >> 3)] >> (j & 7)) & 1 ? d : -d;
  }
  return out;
}

export const reference: FormatReference = { quantize, dequantize, codes };

// Q2_0 (ggml type 42, ternary Bonsai), from ggml's quantize_row_q2_0_ref and dequantize_row_q2_0.
// Block: 64 values in 18 bytes, [d f16][qs 16]; element j = bits 2(j % 4) of qs[j / 4]; value (code - 1) * d.
// d = max |x| by `if (a > amax) amax = a` (a NaN never enters), code = clamp((int)roundf(x * (1/d)) + 1, 0, 3):
// (int) gives INT_MIN for NaN and out-of-range.
// see: ggml-quants.c; docs/FORMATS.md
import { f16At, putF16 } from "../half.js";
import { fr, roundf, x86Int } from "./c.js";
import { ternaryMaxError } from "./ternary.js";
import type { FormatReference } from "./types.js";

const QK = 64;
const BYTES = 18;

function quantize(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  for (let i = 0; i < x.length / QK; i++) {
    let d = 0;
    for (let j = 0; j < QK; j++) {
      const a = Math.abs(x[i * QK + j]);
      if (a > d) d = a;
    }
    const id = d > 0 ? fr(1 / d) : 0;
    putF16(out, i * BYTES, d);
    for (let j = 0; j < QK; j++) {
      const q = x86Int(roundf(fr(x[i * QK + j] * id)));
      const code = Math.min(2, Math.max(-1, q)) + 1;
      out[i * BYTES + 2 + (j >> 2)] |= code << (2 * (j & 3));
    }
  }
  return out;
}

function codes(block: Uint8Array): Uint8Array {
  return Uint8Array.from({ length: QK }, (_, j) => (block[2 + (j >> 2)] >> (2 * (j & 3))) & 3);
}

function dequantize(bytes: Uint8Array): Float32Array {
  const out = new Float32Array((bytes.length / BYTES) * QK);
  for (let e = 0; e < out.length; e++) {
    const block = Math.floor(e / QK) * BYTES;
    const j = e % QK;
    const q = (bytes[block + 2 + (j >> 2)] >> (2 * (j & 3))) & 3;
    out[e] = (q - 1) * f16At(bytes, block);
  }
  return out;
}

export const reference: FormatReference = { quantize, dequantize, codes, maxError: ternaryMaxError };

// Q4_1 (ggml type 3), from ggml's quantize_row_q4_1_ref and dequantize_row_q4_1.
// Block: 32 values in 20 bytes, [d f16][m f16][qs 16]; nibbles as Q4_0, unsigned; value code * d + m.
// see: ggml-quants.c; docs/FORMATS.md
import { f16At, putF16 } from "../half.js";
import { fr, int8, x86Int } from "./c.js";
import type { FormatReference } from "./types.js";

const QK = 32;
const BYTES = 20;

// d = (max - min) / 15, m = min, q = min(15, (int8)((x - min) * id + 0.5))
function quantize(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  for (let b = 0; b < x.length / QK; b++) {
    let min = 3.4028234663852886e38;
    let max = -3.4028234663852886e38;
    for (let j = 0; j < QK; j++) {
      const v = x[b * QK + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = fr(fr(max - min) / 15);
    const id = d !== 0 ? fr(1 / d) : 0;
    putF16(out, b * BYTES, d);
    putF16(out, b * BYTES + 2, min);
    for (let j = 0; j < 16; j++) {
      const q0 = int8(x86Int(fr(fr(fr(x[b * QK + j] - min) * id) + 0.5)));
      const q1 = int8(x86Int(fr(fr(fr(x[b * QK + 16 + j] - min) * id) + 0.5)));
      const xi0 = (15 < q0 ? 15 : q0) & 255;
      const xi1 = (15 < q1 ? 15 : q1) & 255;
      out[b * BYTES + 4 + j] = (xi0 | (xi1 << 4)) & 255;
    }
  }
  return out;
}

function dequantize(bytes: Uint8Array): Float32Array {
  const out = new Float32Array((bytes.length / BYTES) * QK);
  for (let b = 0; b < bytes.length / BYTES; b++) {
    const o = b * BYTES;
    const d = f16At(bytes, o);
    const m = f16At(bytes, o + 2);
    for (let j = 0; j < 16; j++) {
      out[b * QK + j] = fr(fr((bytes[o + 4 + j] & 15) * d) + m);
      out[b * QK + j + 16] = fr(fr((bytes[o + 4 + j] >> 4) * d) + m);
    }
  }
  return out;
}

export const reference: FormatReference = { quantize, dequantize };

// TQ2_0 (ggml type 35), from ggml's quantize_row_tq2_0_ref and dequantize_row_tq2_0.
// Block: 256 values in 66 bytes, [qs 64][d f16] (d last); element 128c + 32l + m = bits 2l of qs[32c + m];
// value (code - 1) * d. d = max |x|, code = lroundf(x / d) + 1 (x86-64's 64-bit lroundf, low bits kept).
// see: ggml-quants.c; docs/FORMATS.md
import { f16At, putF16 } from "../half.js";
import { amaxOf, fr, lroundLow } from "./c.js";
import { ternaryMaxError } from "./ternary.js";
import type { FormatReference } from "./types.js";

const QK = 256;
const BYTES = 66;

/** Byte and bit shift of element k of a block. */
const place = (k: number) => ({ byte: 32 * (k >> 7) + (k & 31), shift: 2 * ((k >> 5) & 3) });

function quantize(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  for (let i = 0; i < x.length / QK; i++) {
    const d = amaxOf(x, i * QK, QK);
    const id = d !== 0 ? fr(1 / d) : 0;
    for (let e = 0; e < QK; e++) {
      const xi = lroundLow(fr(x[i * QK + e] * id)) + 1;
      const { byte, shift } = place(e);
      out[i * BYTES + byte] |= (xi & 3) << shift;
    }
    putF16(out, i * BYTES + 64, d);
  }
  return out;
}

function codes(block: Uint8Array): Uint8Array {
  return Uint8Array.from({ length: QK }, (_, k) => (block[place(k).byte] >> place(k).shift) & 3);
}

function dequantize(bytes: Uint8Array): Float32Array {
  const out = new Float32Array((bytes.length / BYTES) * QK);
  for (let e = 0; e < out.length; e++) {
    const block = Math.floor(e / QK) * BYTES;
    const { byte, shift } = place(e % QK);
    out[e] = (((bytes[block + byte] >> shift) & 3) - 1) * f16At(bytes, block + 64);
  }
  return out;
}

export const reference: FormatReference = { quantize, dequantize, codes, maxError: ternaryMaxError };

// TQ1_0 (ggml type 34), from ggml's quantize_row_tq1_0_ref and dequantize_row_tq1_0.
// Block: 256 values in 54 bytes, [qs 48][qh 4][d f16] (d last), five base-3 digits (trits) per byte, stored as
// ceil(v * 256 / 243); value (trit - 1) * d. d = max |x|, trit = lroundf(x / d) + 1 (x86-64's lroundf).
// Which byte and digit hold element k: qs[m] (m < 32) digit n: k = 32n + m; qs[32 + m] (m < 16) digit n:
// k = 160 + 16n + m; qh[j] digit n (n < 4): k = 240 + 4n + j.
// see: ggml-quants.c; docs/FORMATS.md
import { f16At, putF16 } from "../half.js";
import { amaxOf, fr, lroundLow } from "./c.js";
import { ternaryMaxError } from "./ternary.js";
import type { FormatReference } from "./types.js";

const QK = 256;
const BYTES = 54;

function place(k: number): { byte: number; digit: number } {
  if (k < 160) return { byte: k % 32, digit: Math.floor(k / 32) };
  if (k < 240) return { byte: 32 + ((k - 160) % 16), digit: Math.floor((k - 160) / 16) };
  return { byte: 48 + ((k - 240) % 4), digit: Math.floor((k - 240) / 4) };
}

function quantize(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  for (let i = 0; i < x.length / QK; i++) {
    const d = amaxOf(x, i * QK, QK);
    const id = d !== 0 ? fr(1 / d) : 0;
    // trits per byte, most significant (digit 0) first; C accumulates in a uint8_t
    const acc = new Array<number>(52).fill(0);
    for (let k = 0; k < QK; k++) {
      const { byte } = place(k);
      const xi = lroundLow(fr(x[i * QK + k] * id)) + 1;
      acc[byte] = (acc[byte] * 3 + xi) & 255; // elements of one byte arrive in digit order
    }
    for (let b = 0; b < 52; b++) {
      const v = b >= 48 ? (acc[b] * 3) & 255 : acc[b]; // qh: four trits, then a zero fifth
      out[i * BYTES + b] = Math.floor((v * 256 + 242) / 243) & 255;
    }
    putF16(out, i * BYTES + 52, d);
  }
  return out;
}

/** The trit of element k: digit n of byte q is ((q * 3^n mod 256) * 3) >> 8. */
function trit(block: Uint8Array, k: number): number {
  const { byte, digit } = place(k);
  return ((((block[byte] * 3 ** digit) & 255) * 3) >> 8);
}

function codes(block: Uint8Array): Uint8Array {
  return Uint8Array.from({ length: QK }, (_, k) => trit(block, k));
}

function dequantize(bytes: Uint8Array): Float32Array {
  const out = new Float32Array((bytes.length / BYTES) * QK);
  for (let e = 0; e < out.length; e++) {
    const block = bytes.subarray(Math.floor(e / QK) * BYTES);
    out[e] = (trit(block, e % QK) - 1) * f16At(block, 52);
  }
  return out;
}

export const reference: FormatReference = { quantize, dequantize, codes, maxError: ternaryMaxError };

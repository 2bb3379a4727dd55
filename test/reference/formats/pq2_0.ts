// Plain reference of PQ2_0 (GGUF type 142, Ternary Bonsai 2), written from docs/BONSAI2.md §2 as the fork's C
// reads: quantize_row_pq2_0_ref and dequantize_row_pq2_0, one element at a time, Math.fround after every f32
// operation. Keys: 128 elements per block, 34 bytes: [d f16][qs 32], element j = bits 2(j % 4) of qs[j / 4].
import { ternaryMaxError } from "./ternary.js";
import type { FormatReference } from "./types.js";
import { f32ToF16Bits, fp16Value } from "../half.js";
import { intRoundf } from "./c.js";

const QK = 128;
const BYTES = 34;
const fr = Math.fround;

function quantize(x: Float32Array): Uint8Array {
  const nb = x.length / QK;
  const out = new Uint8Array(nb * BYTES);
  for (let i = 0; i < nb; i++) {
    let amax = 0;
    for (let j = 0; j < QK; j++) {
      const a = Math.abs(x[i * QK + j]);
      if (a > amax) amax = a; // a NaN never enters
    }
    const d = amax;
    const id = d > 0 ? fr(1 / d) : 0;
    const h = f32ToF16Bits(d);
    out[i * BYTES] = h & 255;
    out[i * BYTES + 1] = h >> 8;
    for (let j = 0; j < QK; j++) {
      const q = Math.min(3, Math.max(0, intRoundf(fr(x[i * QK + j] * id)) + 1));
      out[i * BYTES + 2 + (j >> 2)] |= q << (2 * (j & 3));
    }
  }
  return out;
}

function dequantize(bytes: Uint8Array): Float32Array {
  const nb = bytes.length / BYTES;
  const out = new Float32Array(nb * QK);
  for (let i = 0; i < nb; i++) {
    const d = fp16Value(bytes[i * BYTES] | (bytes[i * BYTES + 1] << 8));
    for (let j = 0; j < QK; j++) {
      const q = (bytes[i * BYTES + 2 + (j >> 2)] >> (2 * (j & 3))) & 3;
      out[i * QK + j] = fr((q - 1) * d);
    }
  }
  return out;
}

function codes(block: Uint8Array): Uint8Array {
  return Uint8Array.from({ length: QK }, (_, j) => (block[2 + (j >> 2)] >> (2 * (j & 3))) & 3);
}

export const reference: FormatReference = { quantize, dequantize, codes, maxError: ternaryMaxError };

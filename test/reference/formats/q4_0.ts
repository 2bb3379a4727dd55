// Q4_0 (ggml type 2), from ggml's quantize_row_q4_0_ref and dequantize_row_q4_0.
// Block: 32 values in 18 bytes, [d f16][qs 16]; element j < 16 is the low nibble of qs[j], element 16 + j the
// high nibble; value (code - 8) * d.
// see: ggml-quants.c; docs/FORMATS.md
import { f16At, putF16 } from "../half.js";
import { amaxOf, fr, int8, x86Int } from "./c.js";
import type { FormatReference } from "./types.js";

const QK = 32;
const BYTES = 18;

// d = max / -8 where max is the value of largest magnitude (first one wins); q = min(15, (int8)(x * id + 8.5))
function quantize(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  for (let b = 0; b < x.length / QK; b++) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = x[b * QK + j];
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fr(max / -8);
    const id = d !== 0 ? fr(1 / d) : 0;
    putF16(out, b * BYTES, d);
    for (let j = 0; j < 16; j++) {
      const q0 = int8(x86Int(fr(fr(x[b * QK + j] * id) + 8.5)));
      const q1 = int8(x86Int(fr(fr(x[b * QK + 16 + j] * id) + 8.5)));
      const xi0 = (15 < q0 ? 15 : q0) & 255;
      const xi1 = (15 < q1 ? 15 : q1) & 255;
      out[b * BYTES + 2 + j] = (xi0 | (xi1 << 4)) & 255;
    }
  }
  return out;
}

function codes(block: Uint8Array): Uint8Array {
  return Uint8Array.from({ length: QK }, (_, e) => (e < 16 ? block[2 + e] & 15 : block[2 + e - 16] >> 4));
}

function dequantize(bytes: Uint8Array): Float32Array {
  const out = new Float32Array((bytes.length / BYTES) * QK);
  for (let b = 0; b < bytes.length / BYTES; b++) {
    const d = f16At(bytes, b * BYTES);
    for (let j = 0; j < 16; j++) {
      out[b * QK + j] = fr(((bytes[b * BYTES + 2 + j] & 15) - 8) * d);
      out[b * QK + j + 16] = fr(((bytes[b * BYTES + 2 + j] >> 4) - 8) * d);
    }
  }
  return out;
}

export const reference: FormatReference = {
  quantize,
  dequantize,
  codes,
  // one step |d| = amax / 8 (the value -max would be code 16 and is clamped to 15; others round to within half
  // a step), plus up to 15 times the f16 rounding of d
  maxError: (block) => (1 + 15 * 2 ** -11) * (amaxOf(block) / 8) * 1.001 + 15 * 2 ** -25,
};

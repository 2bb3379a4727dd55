// Plain reference for IQ4_XS (ggml type 23), written from ggml's quantize_iq4_xs -> quantize_row_iq4_nl_impl
// (super-block 256, blocks of 32, ntry 7, quant_weights NULL: the weights are x^2; the sub-blocks' scales come
// from IQ4_NL's reference, ./iq4_nl.ts) and dequantize_row_iq4_xs:
// one element at a time, every f32 operation rounded with Math.fround, best_index_int8 as ggml's bisection.
// Block (136 bytes, 256 values in 8 sub-blocks of 32): d f16 | scales_h u16 | scales_l[4] | qs[128].
// Sub-block ib: six-bit scale ls = nibble ib % 2 of scales_l[ib / 2] | ((scales_h >> 2 ib) & 3) << 4;
// element 32 ib + j (j < 16) is the low nibble of qs[16 ib + j], element 32 ib + 16 + j its high nibble;
// value (d * (ls - 32)) * KVALUES[nibble].
import type { FormatReference } from "./types.js";
import { f16At, putF16 } from "../half.js";
import { clamp, fr, nearestInt } from "./c.js";
import { bestIndex, KVALUES, iq4nlScale } from "./iq4_nl.js";

const QK = 256;
const BYTES = 136;
function quantize(x: Float32Array): Uint8Array {
  const nb = x.length / QK;
  const out = new Uint8Array(nb * BYTES);
  const scales = new Float32Array(8);
  const L = new Uint8Array(32);
  for (let b = 0; b < nb; b++) {
    const at = b * QK;
    const y = out.subarray(b * BYTES, (b + 1) * BYTES);
    let maxScale = 0;
    let amaxScale = 0;
    for (let ib = 0; ib < 8; ib++) {
      scales[ib] = iq4nlScale(x, at + 32 * ib);
      const a = Math.abs(scales[ib]);
      if (a > amaxScale) {
        amaxScale = a;
        maxScale = scales[ib];
      }
    }
    const d = fr(-maxScale / 32);
    putF16(y, 0, d);
    const id = d !== 0 ? fr(1 / d) : 0;
    let scalesH = 0;
    for (let ib = 0; ib < 8; ib++) {
      const l = clamp(nearestInt(fr(id * scales[ib])), -32, 31);
      const dl = fr(d * l);
      const idl = dl !== 0 ? fr(1 / dl) : 0;
      for (let j = 0; j < 32; j++) L[j] = bestIndex(fr(idl * x[at + 32 * ib + j]));
      for (let j = 0; j < 16; j++) y[8 + 16 * ib + j] = L[j] | (L[16 + j] << 4);
      const ls = l + 32;
      y[4 + (ib >> 1)] |= (ls & 15) << (4 * (ib % 2));
      scalesH |= (ls >> 4) << (2 * ib);
    }
    y[2] = scalesH & 255;
    y[3] = scalesH >> 8;
  }
  return out;
}

function dequantize(bytes: Uint8Array): Float32Array {
  const nb = bytes.length / BYTES;
  const out = new Float32Array(nb * QK);
  for (let b = 0; b < nb; b++) {
    const y = bytes.subarray(b * BYTES, (b + 1) * BYTES);
    const d = f16At(y, 0);
    const scalesH = y[2] | (y[3] << 8);
    for (let ib = 0; ib < 8; ib++) {
      const ls = ((y[4 + (ib >> 1)] >> (4 * (ib % 2))) & 15) | (((scalesH >> (2 * ib)) & 3) << 4);
      const dl = fr(d * (ls - 32));
      for (let j = 0; j < 16; j++) {
        const q = y[8 + 16 * ib + j];
        out[b * QK + 32 * ib + j] = fr(dl * KVALUES[q & 15]);
        out[b * QK + 32 * ib + 16 + j] = fr(dl * KVALUES[q >> 4]);
      }
    }
  }
  return out;
}

export const reference: FormatReference = { quantize, dequantize };

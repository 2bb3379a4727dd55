// Plain reference for Q2_K (ggml type 10), written from ggml's quantize_row_q2_K_ref, make_qkx2_quants and
// dequantize_row_q2_K: one element at a time, every f32 operation rounded with Math.fround.
// Block (84 bytes, 256 values in 16 groups of 16): scales[16] (low nibble scale, high nibble min) |
// qs[64] (2-bit codes) | d f16 | dmin f16. Element 128h + 32k + 16c + l: code (qs[32h + 16c + l] >> 2k) & 3,
// group g = 8h + 2k + c, value (d * (scales[g] & 15)) * code - dmin * (scales[g] >> 4).
import type { FormatReference } from "./types.js";
import { f16At, putF16 } from "../half.js";
import { clamp, fr, nearestInt } from "./c.js";
import { makeQkx2Quants } from "./kquants.js";

const QK = 256;
const BYTES = 84;

function quantize(x: Float32Array): Uint8Array {
  const nb = x.length / QK;
  const out = new Uint8Array(nb * BYTES);
  const L = new Uint8Array(QK);
  const weights = new Float32Array(16);
  const scales = new Float32Array(16);
  const mins = new Float32Array(16);
  for (let b = 0; b < nb; b++) {
    const xb = x.subarray(b * QK, (b + 1) * QK);
    const y = out.subarray(b * BYTES, (b + 1) * BYTES);
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 16; j++) {
      for (let l = 0; l < 16; l++) weights[l] = Math.abs(xb[16 * j + l]);
      ({ scale: scales[j], theMin: mins[j] } = makeQkx2Quants(16, 3, xb, 16 * j, weights, L, fr(-0.5), fr(0.1), 15, true));
      if (scales[j] > maxScale) maxScale = scales[j];
      if (mins[j] > maxMin) maxMin = mins[j];
    }
    let d = 0;
    if (maxScale > 0) {
      const iscale = fr(15 / maxScale);
      for (let j = 0; j < 16; j++) y[j] = nearestInt(fr(iscale * scales[j])) & 255;
      d = putF16(y, 80, fr(maxScale / 15));
    }
    let dmin = 0;
    if (maxMin > 0) {
      const iscale = fr(15 / maxMin);
      for (let j = 0; j < 16; j++) y[j] |= (nearestInt(fr(iscale * mins[j])) << 4) & 255;
      dmin = putF16(y, 82, fr(maxMin / 15));
    }
    for (let j = 0; j < 16; j++) {
      const dj = fr(d * (y[j] & 15));
      if (dj === 0) continue; // the group keeps make_qkx2_quants's codes
      const dm = fr(dmin * (y[j] >> 4));
      for (let i = 0; i < 16; i++) L[16 * j + i] = clamp(nearestInt(fr(fr(xb[16 * j + i] + dm) / dj)), 0, 3);
    }
    for (let h = 0; h < 2; h++) {
      for (let l = 0; l < 32; l++) {
        const e = 128 * h + l;
        y[16 + 32 * h + l] = L[e] | (L[e + 32] << 2) | (L[e + 64] << 4) | (L[e + 96] << 6);
      }
    }
  }
  return out;
}

function dequantize(bytes: Uint8Array): Float32Array {
  const nb = bytes.length / BYTES;
  const out = new Float32Array(nb * QK);
  for (let b = 0; b < nb; b++) {
    const y = bytes.subarray(b * BYTES, (b + 1) * BYTES);
    const d = f16At(y, 80);
    const dmin = f16At(y, 82);
    for (let e = 0; e < QK; e++) {
      const h = e >> 7;
      const k = (e >> 5) & 3;
      const c = (e >> 4) & 1;
      const l = e & 15;
      const g = 8 * h + 2 * k + c;
      const q = (y[16 + 32 * h + 16 * c + l] >> (2 * k)) & 3;
      const dl = fr(d * (y[g] & 15));
      const ml = fr(dmin * (y[g] >> 4));
      out[b * QK + e] = fr(fr(dl * q) - ml);
    }
  }
  return out;
}

export const reference: FormatReference = { quantize, dequantize };

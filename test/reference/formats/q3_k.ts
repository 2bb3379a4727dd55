// Plain reference for Q3_K (ggml type 11), written from ggml's quantize_row_q3_K_ref, make_q3_quants and
// dequantize_row_q3_K: one element at a time, every f32 operation rounded with Math.fround.
// Block (110 bytes, 256 values in 16 groups of 16): hmask[32] | qs[64] | scales[12] (16 six-bit scales) | d f16.
// Element e = 128h + 32k + 16c + l (group g = 8h + 2k + c): low bits (qs[32h + 16c + l] >> 2k) & 3, high bit
// (hmask[16c + l] >> (4h + k)) & 1; value (d * (s_g - 32)) * (low - (high ? 0 : 4)). Scale s_g: low nibble of
// scales[g] (g < 8) or high nibble of scales[g - 8], bits 4-5 from (scales[8 + g % 4] >> 2 (g / 4)) & 3.
import type { FormatReference } from "./types.js";
import { f16At, putF16 } from "../half.js";
import { clamp, fr, nearestInt } from "./c.js";

const QK = 256;
const BYTES = 110;

/** make_q3_quants(n, nmax, x, L, do_rmse true) on x[at .. at + n): codes (+ nmax) into L[at ..], returns the scale. */
export function makeQ3Quants(n: number, nmax: number, x: Float32Array, at: number, L: Int8Array): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[at + i]);
    if (ax > amax) {
      amax = ax;
      max = x[at + i];
    }
  }
  if (amax < fr(1e-15)) {
    L.fill(0, at, at + n);
    return 0;
  }
  const iscale = fr(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[at + i];
    const l = clamp(nearestInt(fr(iscale * xi)), -nmax, nmax - 1);
    L[at + i] = l;
    const w = fr(xi * xi);
    sumlx = fr(sumlx + fr(fr(w * xi) * l));
    suml2 = fr(suml2 + fr(fr(w * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[at + i];
      const w = fr(xi * xi);
      let slx = fr(sumlx - fr(fr(w * xi) * L[at + i]));
      if (slx > 0) {
        let sl2 = fr(suml2 - fr(fr(w * L[at + i]) * L[at + i]));
        const newL = clamp(nearestInt(fr(fr(xi * sl2) / slx)), -nmax, nmax - 1);
        if (newL !== L[at + i]) {
          slx = fr(slx + fr(fr(w * xi) * newL));
          sl2 = fr(sl2 + fr(fr(w * newL) * newL));
          if (sl2 > 0 && fr(fr(slx * slx) * suml2) > fr(fr(sumlx * sumlx) * sl2)) {
            L[at + i] = newL;
            sumlx = slx;
            suml2 = sl2;
            changed++;
          }
        }
      }
    }
    if (changed === 0) break;
  }
  for (let i = 0; i < n; i++) L[at + i] += nmax;
  return suml2 > 0 ? fr(sumlx / suml2) : 0;
}

/** The six-bit scale of group g (0..63), from the 12 packed bytes at y[96..107]. */
function scaleOf(y: Uint8Array, g: number): number {
  const low = g < 8 ? y[96 + g] & 15 : y[96 + g - 8] >> 4;
  return low | (((y[104 + (g % 4)] >> (2 * (g >> 2))) & 3) << 4);
}

function quantize(x: Float32Array): Uint8Array {
  const nb = x.length / QK;
  const out = new Uint8Array(nb * BYTES);
  const L = new Int8Array(QK);
  const scales = new Float32Array(16);
  for (let b = 0; b < nb; b++) {
    const xb = x.subarray(b * QK, (b + 1) * QK);
    const y = out.subarray(b * BYTES, (b + 1) * BYTES);
    let maxScale = 0;
    let amax = 0;
    for (let j = 0; j < 16; j++) {
      scales[j] = makeQ3Quants(16, 4, xb, 16 * j, L);
      const a = Math.abs(scales[j]);
      if (a > amax) {
        amax = a;
        maxScale = scales[j];
      }
    }
    let d = 0;
    if (maxScale !== 0) {
      const iscale = fr(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        // int8_t l = nearest_int(...): the int wraps to 8 bits before the clamp
        const l = clamp((nearestInt(fr(iscale * scales[j])) << 24) >> 24, -32, 31) + 32;
        if (j < 8) y[96 + j] = l & 15;
        else y[96 + j - 8] |= (l & 15) << 4;
        y[104 + (j % 4)] |= (l >> 4) << (2 * (j >> 2));
      }
      d = putF16(y, 108, fr(1 / iscale));
    }
    for (let j = 0; j < 16; j++) {
      const dj = fr(d * (scaleOf(y, j) - 32));
      if (dj === 0) continue; // the group keeps make_q3_quants's codes
      for (let i = 0; i < 16; i++) L[16 * j + i] = clamp(nearestInt(fr(xb[16 * j + i] / dj)), -4, 3) + 4;
    }
    // hmask[m] bit k: the high bit of element 32k + m
    for (let e = 0; e < QK; e++) {
      if (L[e] > 3) {
        y[e % 32] |= 1 << (e >> 5);
        L[e] -= 4;
      }
    }
    for (let h = 0; h < 2; h++) {
      for (let l = 0; l < 32; l++) {
        const e = 128 * h + l;
        y[32 + 32 * h + l] = L[e] | (L[e + 32] << 2) | (L[e + 64] << 4) | (L[e + 96] << 6);
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
    const d = f16At(y, 108);
    for (let e = 0; e < QK; e++) {
      const h = e >> 7;
      const k = (e >> 5) & 3;
      const c = (e >> 4) & 1;
      const l = e & 15;
      const low = (y[32 + 32 * h + 16 * c + l] >> (2 * k)) & 3;
      const high = (y[16 * c + l] >> (4 * h + k)) & 1;
      const dl = fr(d * (scaleOf(y, 8 * h + 2 * k + c) - 32));
      out[b * QK + e] = fr(dl * (low - (high ? 0 : 4)));
    }
  }
  return out;
}

export const reference: FormatReference = { quantize, dequantize };

// Plain reference for IQ4_XS (ggml type 23), written from ggml's quantize_iq4_xs -> quantize_row_iq4_nl_impl
// (super-block 256, blocks of 32, ntry 7, quant_weights NULL: the weights are x^2) and dequantize_row_iq4_xs:
// one element at a time, every f32 operation rounded with Math.fround, best_index_int8 as ggml's bisection.
// Block (136 bytes, 256 values in 8 sub-blocks of 32): d f16 | scales_h u16 | scales_l[4] | qs[128].
// Sub-block ib: six-bit scale ls = nibble ib % 2 of scales_l[ib / 2] | ((scales_h >> 2 ib) & 3) << 4;
// element 32 ib + j (j < 16) is the low nibble of qs[16 ib + j], element 32 ib + 16 + j its high nibble;
// value (d * (ls - 32)) * KVALUES[nibble].
import type { FormatReference } from "./types.js";
import { clamp, fr, loadF16, nearestInt, storeF16 } from "./ggml-float.js";

const QK = 256;
const BYTES = 136;
/** ggml's kvalues_iq4nl: the 16 non-linear levels. */
export const KVALUES = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

/** best_index_int8(16, values, x): ggml's bisection for the level nearest x (ties to the upper one). */
export function bestIndex(x: number): number {
  const v = KVALUES;
  if (x <= v[0]) return 0;
  if (x >= v[15]) return 15;
  let ml = 0;
  let mu = 15;
  while (mu - ml > 1) {
    const mav = (ml + mu) >> 1;
    if (x < v[mav]) mu = mav;
    else ml = mav;
  }
  return fr(x - v[mu - 1]) < fr(v[mu] - x) ? mu - 1 : mu;
}

/** The scale of one sub-block of 32 at x[at ..] (quantize_row_iq4_nl_impl's first loop, ntry 7). */
function subBlockScale(x: Float32Array, at: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < 32; j++) {
    const ax = Math.abs(x[at + j]);
    if (ax > amax) {
      amax = ax;
      max = x[at + j];
    }
  }
  if (amax < fr(1e-15)) return 0;
  const sums = (id: number) => {
    let sumqx = 0;
    let sumq2 = 0;
    for (let j = 0; j < 32; j++) {
      const xj = x[at + j];
      const q = KVALUES[bestIndex(fr(id * xj))];
      const w = fr(xj * xj);
      sumqx = fr(sumqx + fr(fr(w * q) * xj));
      sumq2 = fr(sumq2 + fr(fr(w * q) * q));
    }
    return [sumqx, sumq2];
  };
  let d = fr(-max / KVALUES[0]);
  let [sumqx, sumq2] = sums(fr(1 / d));
  d = sumq2 > 0 ? fr(sumqx / sumq2) : 0;
  let best = fr(d * sumqx);
  for (let itry = -7; itry <= 7; itry++) {
    [sumqx, sumq2] = sums(fr((itry + KVALUES[0]) / max));
    if (sumq2 > 0 && fr(sumqx * sumqx) > fr(best * sumq2)) {
      d = fr(sumqx / sumq2);
      best = fr(d * sumqx);
    }
  }
  return d;
}

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
      scales[ib] = subBlockScale(x, at + 32 * ib);
      const a = Math.abs(scales[ib]);
      if (a > amaxScale) {
        amaxScale = a;
        maxScale = scales[ib];
      }
    }
    const d = fr(-maxScale / 32);
    storeF16(y, 0, d);
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
    const d = loadF16(y, 0);
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

// Plain reference for IQ4_NL (ggml type 20), written from ggml's quantize_iq4_nl -> quantize_row_iq4_nl_impl
// (super block = block = 32, no importance weights, ntry 7: what ggml_quantize_chunk and llama-quantize run)
// and dequantize_row_iq4_nl: element order, f32 arithmetic (Math.fround after every operation).
// Block (18 bytes, 32 values): d f16 | qs[16] (element j low nibble, j + 16 high nibble).
// Element j = d * kvalues_iq4nl[q].
// (quantize_row_iq4_nl_ref passes ntry -1: no scale search, d = max / -127. ggml's own files, and the golden
// ones, come from the search.)
import type { FormatReference } from "./types.js";
import { f16ToF32Bits, f32FromBits, f32ToF16Bits } from "../half.js";

const fr = Math.fround;
const GROUP_MAX_EPS = fr(1e-15);
const NTRY = 7;

/** ggml-common.h kvalues_iq4nl: the 16 non-linear levels, ascending. */
export const KVALUES_IQ4NL = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113] as const;

/** ggml's best_index_int8(16, kvalues_iq4nl, x): binary search, then the nearer neighbour (ties go up). */
export function bestIndexInt8(x: number): number {
  const val = KVALUES_IQ4NL;
  if (x <= val[0]) return 0;
  if (x >= val[15]) return 15;
  let ml = 0;
  let mu = 15;
  while (mu - ml > 1) {
    const mav = (ml + mu) >> 1;
    if (x < val[mav]) mu = mav;
    else ml = mav;
  }
  return fr(x - val[mu - 1]) < fr(val[mu] - x) ? mu - 1 : mu;
}

// One block of 32 values at x[at..]: the f16 scale bits and 32 codes (0..15).
function quantizeBlock(x: Float32Array, at: number, L: Uint8Array): number {
  const weight = new Float32Array(32);
  for (let j = 0; j < 32; j++) weight[j] = fr(x[at + j] * x[at + j]);
  let amax = 0;
  let max = 0;
  for (let j = 0; j < 32; j++) {
    const ax = Math.abs(x[at + j]);
    if (ax > amax) {
      amax = ax;
      max = x[at + j];
    }
  }
  // sumqx, sumq2 over the block for the codes nearest to id * x
  const sums = (id: number): [number, number] => {
    let sumqx = 0;
    let sumq2 = 0;
    for (let j = 0; j < 32; j++) {
      const xj = x[at + j];
      const q = KVALUES_IQ4NL[bestIndexInt8(fr(id * xj))];
      const w = weight[j];
      sumqx = fr(sumqx + fr(fr(w * q) * xj));
      sumq2 = fr(sumq2 + fr(fr(w * q) * q));
    }
    return [sumqx, sumq2];
  };
  let scale = 0;
  if (!(amax < GROUP_MAX_EPS)) {
    let d = fr(-max / KVALUES_IQ4NL[0]); // ntry > 0: -max / values[0]
    let [sumqx, sumq2] = sums(fr(1 / d));
    d = sumq2 > 0 ? fr(sumqx / sumq2) : 0;
    let best = fr(d * sumqx);
    for (let itry = -NTRY; itry <= NTRY; itry++) {
      [sumqx, sumq2] = sums(fr((itry + KVALUES_IQ4NL[0]) / max));
      if (sumq2 > 0 && fr(sumqx * sumqx) > fr(best * sumq2)) {
        d = fr(sumqx / sumq2);
        best = fr(d * sumqx);
      }
    }
    scale = d;
  }
  // one block per super block: dh = scale, codes again from the final scale (ntry > 0)
  const id = scale !== 0 ? fr(1 / scale) : 0;
  for (let j = 0; j < 32; j++) L[j] = bestIndexInt8(fr(id * x[at + j]));
  return f32ToF16Bits(scale);
}

export const iq4_nl: FormatReference = {
  quantize(x) {
    const nb = x.length / 32;
    const out = new Uint8Array(nb * 18);
    const L = new Uint8Array(32);
    for (let i = 0; i < nb; i++) {
      const dh = quantizeBlock(x, i * 32, L);
      out[i * 18] = dh & 255;
      out[i * 18 + 1] = dh >> 8;
      for (let j = 0; j < 16; j++) out[i * 18 + 2 + j] = L[j] | (L[j + 16] << 4);
    }
    return out;
  },

  dequantize(bytes) {
    const nb = bytes.length / 18;
    const out = new Float32Array(nb * 32);
    for (let i = 0; i < nb; i++) {
      const d = f32FromBits(f16ToF32Bits(bytes[i * 18] | (bytes[i * 18 + 1] << 8)));
      for (let j = 0; j < 16; j++) {
        const q = bytes[i * 18 + 2 + j];
        out[i * 32 + j] = fr(d * KVALUES_IQ4NL[q & 15]);
        out[i * 32 + 16 + j] = fr(d * KVALUES_IQ4NL[q >> 4]);
      }
    }
    return out;
  },
};

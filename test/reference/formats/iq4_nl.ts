// Plain reference for IQ4_NL (ggml type 20), written from ggml's quantize_iq4_nl -> quantize_row_iq4_nl_impl
// (super block = block = 32, quant_weights NULL: the weights are x^2, ntry 7: what ggml_quantize_chunk and
// llama-quantize run) and dequantize_row_iq4_nl: element order, f32 arithmetic (Math.fround after every
// operation), best_index_int8 as ggml's bisection. IQ4_XS's reference takes its sub-blocks' scales from here.
// Block (18 bytes, 32 values): d f16 | qs[16] (element j low nibble, j + 16 high nibble).
// Element j = d * KVALUES[q].
// (quantize_row_iq4_nl_ref passes ntry -1: no scale search, d = max / -127. ggml's own files, and the golden
// ones, come from the search.)
import type { FormatReference } from "./types.js";
import { f16At, putF16 } from "../half.js";
import { fr } from "./c.js";

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

/**
 * The scale of one block of 32 at x[at ..]: quantize_row_iq4_nl_impl's loop over blocks, ntry 7, weights x^2 (IQ4_NL
 * stores it as f16; IQ4_XS quantizes its sub-blocks' scales to six bits under a block scale).
 */
export function iq4nlScale(x: Float32Array, at: number): number {
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
  const nb = x.length / 32;
  const out = new Uint8Array(nb * 18);
  const L = new Uint8Array(32);
  for (let i = 0; i < nb; i++) {
    const scale = iq4nlScale(x, i * 32);
    putF16(out, i * 18, scale);
    // one block per super block: the codes once more from the final f32 scale (ntry > 0)
    const id = scale !== 0 ? fr(1 / scale) : 0;
    for (let j = 0; j < 32; j++) L[j] = bestIndex(fr(id * x[i * 32 + j]));
    for (let j = 0; j < 16; j++) out[i * 18 + 2 + j] = L[j] | (L[j + 16] << 4);
  }
  return out;
}

function dequantize(bytes: Uint8Array): Float32Array {
  const nb = bytes.length / 18;
  const out = new Float32Array(nb * 32);
  for (let i = 0; i < nb; i++) {
    const d = f16At(bytes, i * 18);
    for (let j = 0; j < 16; j++) {
      const q = bytes[i * 18 + 2 + j];
      out[i * 32 + j] = fr(d * KVALUES[q & 15]);
      out[i * 32 + 16 + j] = fr(d * KVALUES[q >> 4]);
    }
  }
  return out;
}

export const reference: FormatReference = { quantize, dequantize };

// Plain reference of what ggml's Q2_K, Q4_K and Q5_K quantizers share: make_qkx2_quants (scale and
// minimum of one group by a weighted least-squares search), the weights both formats give it, and the
// 12-byte packing of eight 6-bit scales and eight 6-bit minimums (get_scale_min_k4). Written as ggml's C
// reads, element order, Math.fround after every f32 operation. Slow and obvious.
// Keys: G = 32 values per group, 8 groups per block of 256; nmax the largest code (15 or 31).
// see: ggml-quants.c nearest_int, make_qkx2_quants, get_scale_min_k4, quantize_row_q4_K_ref.

import { f32ToF16Bits, fp16Value } from "../half.js";
import { fr, nearestInt } from "./c.js";

/** The weights quantize_row_q4_K_ref / q5_K_ref pass for the group at x[at..at+32): sqrt(mean x^2) + |x|. */
export function groupWeights(x: Float32Array, at: number): Float32Array {
  let sumX2 = 0;
  for (let l = 0; l < 32; l++) sumX2 = fr(sumX2 + fr(x[at + l] * x[at + l]));
  const avX = fr(Math.sqrt(fr(sumX2 / 32)));
  const w = new Float32Array(32);
  for (let l = 0; l < 32; l++) w[l] = fr(avX + Math.abs(x[at + l]));
  return w;
}

export interface ScaleMin {
  scale: number;
  /** ggml's *the_min: minus the offset, so a value is scale * code - theMin. */
  theMin: number;
}

/**
 * make_qkx2_quants(n, nmax, x + at, weights, L + at, &the_min, Laux, rmin, rdelta, nstep, use_mad): codes
 * 0..nmax into L[at..at+n), returns the scale and the_min. Note that a better trial replaces `min`, and later
 * trials measure from that new minimum (as the C loop does).
 */
export function makeQkx2Quants(
  n: number, nmax: number, x: Float32Array, at: number, weights: Float32Array, L: Uint8Array,
  rmin: number, rdelta: number, nstep: number, useMad: boolean,
): ScaleMin {
  const code = (v: number) => Math.max(0, Math.min(nmax, nearestInt(v)));
  let min = x[at];
  let max = x[at];
  let sumW = weights[0];
  let sumX = fr(sumW * x[at]);
  for (let i = 1; i < n; i++) {
    if (x[at + i] < min) min = x[at + i];
    if (x[at + i] > max) max = x[at + i];
    const w = weights[i];
    sumW = fr(sumW + w);
    sumX = fr(sumX + fr(w * x[at + i]));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0, at, at + n);
    return { scale: 0, theMin: -min };
  }
  let iscale = fr(nmax / fr(max - min));
  let scale = fr(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    L[at + i] = code(fr(iscale * fr(x[at + i] - min)));
    let diff = fr(fr(fr(scale * L[at + i]) + min) - x[at + i]);
    diff = useMad ? Math.abs(diff) : fr(diff * diff);
    bestError = fr(bestError + fr(weights[i] * diff));
  }
  if (nstep < 1) return { scale, theMin: -min };
  const Laux = new Uint8Array(n);
  for (let is = 0; is <= nstep; is++) {
    iscale = fr(fr(fr(rmin + fr(fr(rdelta) * is)) + nmax) / fr(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = code(fr(iscale * fr(x[at + i] - min)));
      Laux[i] = l;
      const w = weights[i];
      sumL = fr(sumL + fr(w * l));
      sumL2 = fr(sumL2 + fr(fr(w * l) * l));
      sumXL = fr(sumXL + fr(fr(w * l) * x[at + i]));
    }
    const D = fr(fr(sumW * sumL2) - fr(sumL * sumL));
    if (D > 0) {
      let thisScale = fr(fr(fr(sumW * sumXL) - fr(sumX * sumL)) / D);
      let thisMin = fr(fr(fr(sumL2 * sumX) - fr(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fr(sumXL / sumL2);
      }
      let curError = 0;
      for (let i = 0; i < n; i++) {
        let diff = fr(fr(fr(thisScale * Laux[i]) + thisMin) - x[at + i]);
        diff = useMad ? Math.abs(diff) : fr(diff * diff);
        curError = fr(curError + fr(weights[i] * diff));
      }
      if (curError < bestError) {
        L.set(Laux, at);
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  return { scale, theMin: -min };
}

/**
 * The 6-bit scale and minimum codes of 8 groups (ls, lm: 0..63) into the 12 bytes at q:
 *   j < 4:  q[j] = ls[j] | (ls[j+4] >> 4) << 6     q[j+4] = lm[j] | (lm[j+4] >> 4) << 6
 *           q[j+8] = (ls[j+4] & 15) | (lm[j+4] & 15) << 4
 */
export function packScaleMins(ls: ArrayLike<number>, lm: ArrayLike<number>, q: Uint8Array): void {
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      q[j] = ls[j];
      q[j + 4] = lm[j];
    } else {
      q[j + 4] = (ls[j] & 0xf) | ((lm[j] & 0xf) << 4);
      q[j - 4] |= (ls[j] >> 4) << 6;
      q[j] |= (lm[j] >> 4) << 6;
    }
  }
}

/** get_scale_min_k4: the scale and minimum codes of group j from the 12 packed bytes. */
export function scaleMinOf(j: number, q: Uint8Array): [number, number] {
  if (j < 4) return [q[j] & 63, q[j + 4] & 63];
  return [(q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4)];
}

/**
 * One block of 256 values x: what quantize_row_q4_K_ref and q5_K_ref do alike up to the packing of the codes.
 * Writes d, dmin (f16) and the 12 scale bytes to head[0..16) and the codes 0..nmax of the 256 values to L.
 */
export function quantizeKBlock(x: Float32Array, nmax: number, rmin: number, nstep: number, head: Uint8Array, L: Uint8Array): void {
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const w = groupWeights(x, 32 * j);
    const r = makeQkx2Quants(32, nmax, x, 32 * j, w, L, rmin, 0.1, nstep, false);
    scales[j] = r.scale;
    mins[j] = r.theMin;
    if (scales[j] > maxScale) maxScale = scales[j];
    if (mins[j] > maxMin) maxMin = mins[j];
  }
  const invScale = maxScale > 0 ? fr(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? fr(63 / maxMin) : 0;
  const ls = new Uint8Array(8);
  const lm = new Uint8Array(8);
  for (let j = 0; j < 8; j++) {
    // (uint8_t)nearest_int(...): the low byte, then MIN(63, .)
    ls[j] = Math.min(63, nearestInt(fr(invScale * scales[j])) & 255);
    lm[j] = Math.min(63, nearestInt(fr(invMin * mins[j])) & 255);
  }
  head.fill(0, 0, 16);
  packScaleMins(ls, lm, head.subarray(4, 16));
  const dBits = f32ToF16Bits(fr(maxScale / 63));
  const dminBits = f32ToF16Bits(fr(maxMin / 63));
  head[0] = dBits & 255;
  head[1] = dBits >> 8;
  head[2] = dminBits & 255;
  head[3] = dminBits >> 8;
  for (let j = 0; j < 8; j++) {
    const [sc, m] = scaleMinOf(j, head.subarray(4, 16));
    const d = fr(fp16Value(dBits) * sc);
    if (d === 0) continue; // C's `if (!d) continue`: NaN goes on
    const dm = fr(fp16Value(dminBits) * m);
    for (let ii = 0; ii < 32; ii++) {
      const l = nearestInt(fr(fr(x[32 * j + ii] + dm) / d));
      L[32 * j + ii] = Math.max(0, Math.min(nmax, l));
    }
  }
}

/**
 * dequantize_row_q4_K / q5_K for blocks of `blockBytes` bytes: for p = 0..3 and l = 0..31, element 64p + l is
 * (d * sc) * q - (dmin * m) of group 2p with q = code(y, p, l, 0), element 64p + 32 + l that of group 2p + 1
 * with q = code(y, p, l, 1) (y the block's bytes).
 */
export function dequantizeKBlocks(bytes: Uint8Array, blockBytes: number, code: (y: Uint8Array, p: number, l: number, high: 0 | 1) => number): Float32Array {
  const nb = bytes.length / blockBytes;
  const out = new Float32Array(nb * 256);
  for (let b = 0; b < nb; b++) {
    const y = bytes.subarray(b * blockBytes, (b + 1) * blockBytes);
    const d = fp16Value(y[0] | (y[1] << 8));
    const min = fp16Value(y[2] | (y[3] << 8));
    const scales = y.subarray(4, 16);
    for (let p = 0; p < 4; p++) {
      const [sc1, m1] = scaleMinOf(2 * p, scales);
      const [sc2, m2] = scaleMinOf(2 * p + 1, scales);
      const [d1, min1, d2, min2] = [fr(d * sc1), fr(min * m1), fr(d * sc2), fr(min * m2)];
      for (let l = 0; l < 32; l++) {
        out[b * 256 + 64 * p + l] = fr(fr(d1 * code(y, p, l, 0)) - min1);
        out[b * 256 + 64 * p + 32 + l] = fr(fr(d2 * code(y, p, l, 1)) - min2);
      }
    }
  }
  return out;
}

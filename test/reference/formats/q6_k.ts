// Q6_K (ggml type 14), from ggml's quantize_row_q6_K_ref, make_qx_quants and dequantize_row_q6_K: one element
// at a time, every f32 operation rounded with Math.fround, ggml's nearest_int (the 12582912 magic-number
// rounding) on f32 bit patterns.
// Block: 256 values in 210 bytes, [ql 128][qh 64][scales int8 x 16][d f16]; value (d * scale) * (q - 32).
// see: ggml-quants.c; docs/FORMATS.md
import { f16ToF32Bits, f32FromBits, f32ToF16Bits } from "../half.js";
import { clamp, fr, nearestInt } from "./c.js";
import type { FormatReference } from "./types.js";

const QK = 256;
const BYTES = 210;


/** make_qx_quants(n, nmax, x, L, rmse_type 1, qw NULL): codes into L[at..], returns the scale. */
function makeQxQuants(n: number, nmax: number, x: Float32Array, at: number, L: Uint8Array): number {
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
  const sums = (iscale: number) => {
    let sumlx = 0;
    let suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[at + i];
      const l = clamp(nearestInt(fr(iscale * xi)), -nmax, nmax - 1);
      const w = fr(xi * xi);
      sumlx = fr(sumlx + fr(fr(w * xi) * l));
      suml2 = fr(suml2 + fr(fr(w * l) * l));
    }
    return [sumlx, suml2];
  };
  const codes = (iscale: number) => {
    for (let i = 0; i < n; i++) L[at + i] = nmax + clamp(nearestInt(fr(iscale * x[at + i])), -nmax, nmax - 1);
  };
  let iscale = fr(-nmax / max);
  codes(iscale);
  let [sumlx, suml2] = sums(iscale);
  let scale = suml2 !== 0 ? fr(sumlx / suml2) : 0;
  let best = fr(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = fr(-fr(nmax + fr(fr(0.1) * is)) / max);
    [sumlx, suml2] = sums(iscale);
    if (suml2 > 0 && fr(sumlx * sumlx) > fr(best * suml2)) {
      codes(iscale);
      scale = fr(sumlx / suml2);
      best = fr(scale * sumlx);
    }
  }
  return scale;
}

/** Whole blocks of 256 f32 -> Q6_K bytes. */
function quantize(x: Float32Array): Uint8Array {
  const nb = x.length / QK;
  const out = new Uint8Array(nb * BYTES);
  const L = new Uint8Array(QK);
  const scales = new Float32Array(16);
  for (let b = 0; b < nb; b++) {
    const xb = x.subarray(b * QK, (b + 1) * QK);
    const y = out.subarray(b * BYTES, (b + 1) * BYTES);
    let maxScale = 0;
    let maxAbs = 0;
    for (let g = 0; g < 16; g++) {
      scales[g] = makeQxQuants(16, 32, xb, 16 * g, L);
      const a = Math.abs(scales[g]);
      if (a > maxAbs) {
        maxAbs = a;
        maxScale = scales[g];
      }
    }
    if (maxAbs < fr(1e-15)) continue; // all zero, d = 0
    const iscale = fr(-128 / maxScale);
    const dBits = f32ToF16Bits(fr(1 / iscale));
    y[208] = dBits & 255;
    y[209] = dBits >> 8;
    const sc = new Int8Array(y.buffer, y.byteOffset + 192, 16);
    for (let g = 0; g < 16; g++) sc[g] = Math.min(127, nearestInt(fr(iscale * scales[g])));
    const dd = f32FromBits(f16ToF32Bits(dBits));
    for (let g = 0; g < 16; g++) {
      const d = fr(dd * sc[g]);
      if (d === 0) continue;
      for (let i = 0; i < 16; i++) L[16 * g + i] = 32 + clamp(nearestInt(fr(xb[16 * g + i] / d)), -32, 31);
    }
    for (let h = 0; h < 2; h++) {
      for (let l = 0; l < 32; l++) {
        const [q1, q2, q3, q4] = [0, 32, 64, 96].map((k) => L[128 * h + k + l]);
        y[64 * h + l] = (q1 & 15) | ((q3 & 15) << 4);
        y[64 * h + 32 + l] = (q2 & 15) | ((q4 & 15) << 4);
        y[128 + 32 * h + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
      }
    }
  }
  return out;
}

/** Q6_K bytes -> f32, value (d * scale) * (q - 32) as two f32 products. */
function dequantize(bytes: Uint8Array): Float32Array {
  const nb = bytes.length / BYTES;
  const out = new Float32Array(nb * QK);
  for (let b = 0; b < nb; b++) {
    const y = bytes.subarray(b * BYTES, (b + 1) * BYTES);
    const d = f32FromBits(f16ToF32Bits(y[208] | (y[209] << 8)));
    const sc = new Int8Array(y.buffer, y.byteOffset + 192, 16);
    for (let h = 0; h < 2; h++) {
      for (let l = 0; l < 32; l++) {
        const lo = y[64 * h + l];
        const lo2 = y[64 * h + 32 + l];
        const hb = y[128 + 32 * h + l];
        const q = [(lo & 15) | ((hb & 3) << 4), (lo2 & 15) | (((hb >> 2) & 3) << 4), (lo >> 4) | (((hb >> 4) & 3) << 4), (lo2 >> 4) | (((hb >> 6) & 3) << 4)];
        for (let k = 0; k < 4; k++) {
          out[b * QK + 128 * h + 32 * k + l] = fr(fr(d * sc[8 * h + 2 * k + (l >> 4)]) * (q[k] - 32));
        }
      }
    }
  }
  return out;
}

export const reference: FormatReference = { quantize, dequantize };

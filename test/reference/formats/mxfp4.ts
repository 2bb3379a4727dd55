// Plain reference for MXFP4 (ggml type 39, OCP microscaling FP4), written from ggml's quantize_row_mxfp4_ref,
// best_index_mxfp4, ggml_e8m0_to_fp32_half and dequantize_row_mxfp4: element order, f32 arithmetic.
// Block (17 bytes, 32 values): e u8 (E8M0 shared exponent) | qs[16] (element j low nibble, j + 16 high
// nibble; each an FP4 E2M1 code). Element j = kvalues_mxfp4[q] * 2^(e - 128) (the table holds doubled
// E2M1 values, so the scale is half of 2^(e - 127)).
// see: ggml-common.h kvalues_fp4; ggml-impl.h ggml_e8m0_to_fp32_half; OCP Microscaling Formats (MX) v1.0 §5.
import type { FormatReference } from "./types.js";
import { f32FromBits } from "../half.js";
import { x86Int } from "./c.js";

const fr = Math.fround;

/** ggml-common.h kvalues_fp4: doubled E2M1 values; codes 8..15 are the negatives of 0..7. */
export const KVALUES_MXFP4 = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12] as const;

/** ggml_e8m0_to_fp32_half: 2^(e - 128), subnormal for e < 2. */
export function e8m0Half(e: number): number {
  return f32FromBits(e < 2 ? 0x00200000 << e : (e - 1) << 23);
}

/**
 * glibc's log2f, as far as floorf(log2f(x)) can tell: the float64 log2 rounded to f32. Checked against glibc
 * 2.36 for every positive finite float (7456 values just below a power of two round up to it).
 */
export function floorLog2f(x: number): number {
  return Math.floor(fr(Math.log2(x)));
}

/** The shared exponent of a block whose largest |x| is amax: (uint8_t)(floorf(log2f(amax)) - 2 + 127). */
export function sharedExponent(amax: number): number {
  return amax > 0 ? x86Int(fr(fr(floorLog2f(amax) - 2) + 127)) & 255 : 0;
}

/** best_index_mxfp4(x, d): the first code of least |kvalue * d - x|. */
export function bestIndexMxfp4(x: number, d: number): number {
  let bestIndex = 0;
  let bestErr = Math.abs(fr(fr(KVALUES_MXFP4[0] * d) - x));
  for (let i = 1; i < 16; i++) {
    const err = Math.abs(fr(fr(KVALUES_MXFP4[i] * d) - x));
    if (err < bestErr) {
      bestIndex = i;
      bestErr = err;
    }
  }
  return bestIndex;
}

export const reference: FormatReference = {
  quantize(x) {
    const nb = x.length / 32;
    const out = new Uint8Array(nb * 17);
    for (let i = 0; i < nb; i++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) {
        const v = x[i * 32 + j];
        if (amax < Math.abs(v)) amax = Math.abs(v);
      }
      const e = sharedExponent(amax);
      const d = e8m0Half(e);
      out[i * 17] = e;
      for (let j = 0; j < 16; j++) {
        const x0 = bestIndexMxfp4(x[i * 32 + j], d);
        const x1 = bestIndexMxfp4(x[i * 32 + 16 + j], d);
        out[i * 17 + 1 + j] = x0 | (x1 << 4);
      }
    }
    return out;
  },

  dequantize(bytes) {
    const nb = bytes.length / 17;
    const out = new Float32Array(nb * 32);
    for (let i = 0; i < nb; i++) {
      const d = e8m0Half(bytes[i * 17]);
      for (let j = 0; j < 16; j++) {
        const q = bytes[i * 17 + 1 + j];
        out[i * 32 + j] = fr(KVALUES_MXFP4[q & 15] * d);
        out[i * 32 + 16 + j] = fr(KVALUES_MXFP4[q >> 4] * d);
      }
    }
    return out;
  },
};

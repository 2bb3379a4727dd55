// Plain reference for Q4_K (ggml type 12): quantize_row_q4_K_ref (no importance matrix) and
// dequantize_row_q4_K, one element at a time, Math.fround after every f32 operation.
// Block (144 bytes, 256 values): d f16 | dmin f16 | scales[12] (8 six-bit scales, 8 six-bit minimums) | qs[128].
// Group j (32 values) has scale code sc and minimum code m; value = (d * sc) * q - (dmin * m), q = 0..15.
// qs[32p + l]: low nibble = element 64p + l (group 2p), high nibble = element 64p + 32 + l (group 2p + 1).
// see: ggml-quants.c quantize_row_q4_K_ref, dequantize_row_q4_K; ggml-common.h block_q4_K.
import { f16ToF32Bits, f32FromBits, f32ToF16Bits } from "../half.js";
import { quantizeKBlock, scaleMinOf } from "./kquants.js";
import type { FormatReference } from "./types.js";

const fr = Math.fround;
const QK = 256;
const BYTES = 144;
const halfToFloat = (h: number) => f32FromBits(f16ToF32Bits(h));

function quantize(x: Float32Array): Uint8Array {
  const nb = x.length / QK;
  const out = new Uint8Array(nb * BYTES);
  const L = new Uint8Array(QK);
  for (let b = 0; b < nb; b++) {
    const y = out.subarray(b * BYTES, (b + 1) * BYTES);
    // make_qkx2_quants(32, 15, ..., rmin -1, rdelta 0.1, nstep 20, use_mad false)
    quantizeKBlock(x.subarray(b * QK, (b + 1) * QK), 15, -1, 20, y, L, f32ToF16Bits, halfToFloat);
    for (let p = 0; p < 4; p++) {
      for (let l = 0; l < 32; l++) y[16 + 32 * p + l] = L[64 * p + l] | (L[64 * p + 32 + l] << 4);
    }
  }
  return out;
}

function dequantize(bytes: Uint8Array): Float32Array {
  const nb = bytes.length / BYTES;
  const out = new Float32Array(nb * QK);
  for (let b = 0; b < nb; b++) {
    const y = bytes.subarray(b * BYTES, (b + 1) * BYTES);
    const d = halfToFloat(y[0] | (y[1] << 8));
    const min = halfToFloat(y[2] | (y[3] << 8));
    const scales = y.subarray(4, 16);
    for (let p = 0; p < 4; p++) {
      const [sc1, m1] = scaleMinOf(2 * p, scales);
      const [sc2, m2] = scaleMinOf(2 * p + 1, scales);
      const [d1, min1, d2, min2] = [fr(d * sc1), fr(min * m1), fr(d * sc2), fr(min * m2)];
      for (let l = 0; l < 32; l++) {
        const q = y[16 + 32 * p + l];
        out[b * QK + 64 * p + l] = fr(fr(d1 * (q & 15)) - min1);
        out[b * QK + 64 * p + 32 + l] = fr(fr(d2 * (q >> 4)) - min2);
      }
    }
  }
  return out;
}

export const reference: FormatReference = { quantize, dequantize };

// Plain reference for Q5_K (ggml type 13): quantize_row_q5_K_ref (no importance matrix) and
// dequantize_row_q5_K, one element at a time, Math.fround after every f32 operation.
// Block (176 bytes, 256 values): d f16 | dmin f16 | scales[12] | qh[32] | qs[128].
// Group j (32 values): value = (d * sc) * q - (dmin * m), q = 0..31. For p = 0..3 and l = 0..31, element
// 64p + l has low bits qs[32p + l] & 15 and high bit (qh[l] >> 2p) & 1; element 64p + 32 + l has low bits
// qs[32p + l] >> 4 and high bit (qh[l] >> (2p + 1)) & 1.
// see: ggml-quants.c quantize_row_q5_K_ref, dequantize_row_q5_K; ggml-common.h block_q5_K.
import { dequantizeKBlocks, quantizeKBlock } from "./kquants.js";
import type { FormatReference } from "./types.js";

const QK = 256;
const BYTES = 176;

function quantize(x: Float32Array): Uint8Array {
  const nb = x.length / QK;
  const out = new Uint8Array(nb * BYTES);
  const L = new Uint8Array(QK);
  for (let b = 0; b < nb; b++) {
    const y = out.subarray(b * BYTES, (b + 1) * BYTES);
    // make_qkx2_quants(32, 31, ..., rmin -0.5, rdelta 0.1, nstep 15, use_mad false)
    quantizeKBlock(x.subarray(b * QK, (b + 1) * QK), 31, -0.5, 15, y, L);
    for (let p = 0; p < 4; p++) {
      for (let l = 0; l < 32; l++) {
        let l1 = L[64 * p + l];
        let l2 = L[64 * p + 32 + l];
        if (l1 > 15) {
          l1 -= 16;
          y[16 + l] |= 1 << (2 * p);
        }
        if (l2 > 15) {
          l2 -= 16;
          y[16 + l] |= 2 << (2 * p);
        }
        y[48 + 32 * p + l] = l1 | (l2 << 4);
      }
    }
  }
  return out;
}

// q of element 64p + l (high 0) and 64p + 32 + l (high 1): a nibble of qs[32p + l] plus 16 for bit 2p + high of qh[l]
function dequantize(bytes: Uint8Array): Float32Array {
  return dequantizeKBlocks(bytes, BYTES, (y, p, l, high) => {
    const ql = y[48 + 32 * p + l];
    return (high ? ql >> 4 : ql & 15) + ((y[16 + l] >> (2 * p + high)) & 1 ? 16 : 0);
  });
}

export const reference: FormatReference = { quantize, dequantize };

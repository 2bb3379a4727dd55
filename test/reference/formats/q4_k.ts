// Plain reference for Q4_K (ggml type 12): quantize_row_q4_K_ref (no importance matrix) and
// dequantize_row_q4_K, one element at a time, Math.fround after every f32 operation.
// Block (144 bytes, 256 values): d f16 | dmin f16 | scales[12] (8 six-bit scales, 8 six-bit minimums) | qs[128].
// Group j (32 values) has scale code sc and minimum code m; value = (d * sc) * q - (dmin * m), q = 0..15.
// qs[32p + l]: low nibble = element 64p + l (group 2p), high nibble = element 64p + 32 + l (group 2p + 1).
// see: ggml-quants.c quantize_row_q4_K_ref, dequantize_row_q4_K; ggml-common.h block_q4_K.
import { dequantizeKBlocks, quantizeKBlock } from "./kquants.js";
import type { FormatReference } from "./types.js";

const QK = 256;
const BYTES = 144;

function quantize(x: Float32Array): Uint8Array {
  const nb = x.length / QK;
  const out = new Uint8Array(nb * BYTES);
  const L = new Uint8Array(QK);
  for (let b = 0; b < nb; b++) {
    const y = out.subarray(b * BYTES, (b + 1) * BYTES);
    // make_qkx2_quants(32, 15, ..., rmin -1, rdelta 0.1, nstep 20, use_mad false)
    quantizeKBlock(x.subarray(b * QK, (b + 1) * QK), 15, -1, 20, y, L);
    for (let p = 0; p < 4; p++) {
      for (let l = 0; l < 32; l++) y[16 + 32 * p + l] = L[64 * p + l] | (L[64 * p + 32 + l] << 4);
    }
  }
  return out;
}

// q of element 64p + l (high 0) and 64p + 32 + l (high 1): the two nibbles of qs[32p + l]
function dequantize(bytes: Uint8Array): Float32Array {
  return dequantizeKBlocks(bytes, BYTES, (y, p, l, high) => (high ? y[16 + 32 * p + l] >> 4 : y[16 + 32 * p + l] & 15));
}

export const reference: FormatReference = { quantize, dequantize };

// Plain reference for Q5_1 (ggml type 7), written from ggml's quantize_row_q5_1_ref and dequantize_row_q5_1:
// element order, f32 arithmetic (Math.fround after every operation), x86 float-to-int conversion.
// Block (24 bytes, 32 values): d f16 | m f16 | qh u32 (bit j = fifth bit of element j) | qs[16] (element j
// low nibble, j + 16 high nibble). Element j = q * d + m.
import type { FormatReference } from "./types.js";
import { f16ToF32Bits, f32FromBits, f32ToF16Bits } from "../half.js";
import { x86Int } from "./c.js";

const fr = Math.fround;
const FLT_MAX = 3.4028234663852886e38;

export const reference: FormatReference = {
  quantize(x) {
    const nb = x.length / 32;
    const out = new Uint8Array(nb * 24);
    const view = new DataView(out.buffer);
    for (let i = 0; i < nb; i++) {
      let min = FLT_MAX;
      let max = -FLT_MAX;
      for (let j = 0; j < 32; j++) {
        const v = x[i * 32 + j];
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const d = fr(fr(max - min) / 31);
      const id = d !== 0 ? fr(1 / d) : 0;
      view.setUint16(i * 24, f32ToF16Bits(d), true);
      view.setUint16(i * 24 + 2, f32ToF16Bits(min), true);
      let qh = 0;
      for (let j = 0; j < 16; j++) {
        const x0 = fr(fr(x[i * 32 + j] - min) * id);
        const x1 = fr(fr(x[i * 32 + 16 + j] - min) * id);
        // (uint8_t)(x + 0.5f): no clamp; x86 converts through a 32-bit int and keeps the low byte
        const xi0 = x86Int(fr(x0 + 0.5)) & 255;
        const xi1 = x86Int(fr(x1 + 0.5)) & 255;
        out[i * 24 + 8 + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
        qh |= ((xi0 & 0x10) >> 4) << j;
        qh |= ((xi1 & 0x10) >> 4) << (j + 16);
      }
      view.setUint32(i * 24 + 4, qh >>> 0, true);
    }
    return out;
  },

  dequantize(bytes) {
    const nb = bytes.length / 24;
    const out = new Float32Array(nb * 32);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < nb; i++) {
      const d = f32FromBits(f16ToF32Bits(view.getUint16(i * 24, true)));
      const m = f32FromBits(f16ToF32Bits(view.getUint16(i * 24 + 2, true)));
      const qh = view.getUint32(i * 24 + 4, true);
      for (let j = 0; j < 16; j++) {
        const xh0 = ((qh >>> j) << 4) & 0x10;
        const xh1 = (qh >>> (j + 12)) & 0x10;
        const q = bytes[i * 24 + 8 + j];
        out[i * 32 + j] = fr(fr(((q & 0x0f) | xh0) * d) + m);
        out[i * 32 + 16 + j] = fr(fr(((q >> 4) | xh1) * d) + m);
      }
    }
    return out;
  },
};

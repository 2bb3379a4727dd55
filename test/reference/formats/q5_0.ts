// Plain reference for Q5_0 (ggml type 6), written from ggml's quantize_row_q5_0_ref and dequantize_row_q5_0:
// element order, f32 arithmetic (Math.fround after every operation), x86 float-to-int conversion.
// Block (22 bytes, 32 values): d f16 | qh u32 (bit j = fifth bit of element j) | qs[16] (element j low
// nibble, j + 16 high nibble). Element j = (q - 16) * d.
import type { FormatReference } from "./types.js";
import { f16ToF32Bits, f32FromBits, f32ToF16Bits } from "../half.js";
import { x86Int } from "./c.js";

const fr = Math.fround;
const int8 = (v: number) => (v << 24) >> 24;

export const reference: FormatReference = {
  quantize(x) {
    const nb = x.length / 32;
    const out = new Uint8Array(nb * 22);
    const view = new DataView(out.buffer);
    for (let i = 0; i < nb; i++) {
      let amax = 0;
      let max = 0;
      for (let j = 0; j < 32; j++) {
        const v = x[i * 32 + j];
        if (amax < Math.abs(v)) {
          amax = Math.abs(v);
          max = v;
        }
      }
      const d = fr(max / -16);
      const id = d !== 0 ? fr(1 / d) : 0;
      view.setUint16(i * 22, f32ToF16Bits(d), true);
      let qh = 0;
      for (let j = 0; j < 16; j++) {
        const x0 = fr(x[i * 32 + j] * id);
        const x1 = fr(x[i * 32 + 16 + j] * id);
        // MIN(31, (int8_t)(x + 16.5f)), stored as uint8_t
        const xi0 = Math.min(31, int8(x86Int(fr(x0 + 16.5)))) & 255;
        const xi1 = Math.min(31, int8(x86Int(fr(x1 + 16.5)))) & 255;
        out[i * 22 + 6 + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
        qh |= ((xi0 & 0x10) >> 4) << j;
        qh |= ((xi1 & 0x10) >> 4) << (j + 16);
      }
      view.setUint32(i * 22 + 2, qh >>> 0, true);
    }
    return out;
  },

  dequantize(bytes) {
    const nb = bytes.length / 22;
    const out = new Float32Array(nb * 32);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < nb; i++) {
      const d = f32FromBits(f16ToF32Bits(view.getUint16(i * 22, true)));
      const qh = view.getUint32(i * 22 + 2, true);
      for (let j = 0; j < 16; j++) {
        const xh0 = ((qh >>> j) << 4) & 0x10;
        const xh1 = (qh >>> (j + 12)) & 0x10;
        const q = bytes[i * 22 + 6 + j];
        out[i * 32 + j] = fr((((q & 0x0f) | xh0) - 16) * d);
        out[i * 32 + 16 + j] = fr((((q >> 4) | xh1) - 16) * d);
      }
    }
    return out;
  },
};

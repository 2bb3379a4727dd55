// Plain reference for lookup of f32/f16/bf16 rows: read each row's elements from the packed bytes.
import { bf16ToF32Bits, f16ToF32Bits, f32FromBits } from "./half.js";

export function lookupRef(format: "f32" | "f16" | "bf16", data: Uint8Array, dim: number, ids: ArrayLike<number>): Float32Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(ids.length * dim);
  for (let i = 0; i < ids.length; i++) {
    for (let j = 0; j < dim; j++) {
      const e = ids[i] * dim + j;
      out[i * dim + j] =
        format === "f32"
          ? view.getFloat32(e * 4, true)
          : f32FromBits(format === "f16" ? f16ToF32Bits(view.getUint16(e * 2, true)) : bf16ToF32Bits(view.getUint16(e * 2, true)));
    }
  }
  return out;
}

// The row driver of the k-quant integer dots (mode "ggml", idot_<fmt>): R rows (rowBytes apart) . B Q8_K
// records (actStride apart) to out[b * S + r], f32. One vector: each row dotted straight from its packed
// bytes; more: each row unpacked once into scratch (idot.ts layout, UNPACKED bytes per block), then dotted
// with every record (idot.ts idotUnpackedBatch). Each format passes its kernels as a type, K: a final class
// without fields whose @inline methods are row(w, act, dim, nb): f32 (one packed row of nb blocks . one
// record) and unpack(w, nb, dst) (one row into the unpacked layout); AssemblyScript compiles one copy of the
// driver per K with both inlined (no call_indirect), as block-rows.ts does for the decoders.
// Keys: R nrows, B nx, S stride, BYTES bytes per block; fold, wide, paired: how the format unpacks (idot.ts).
import { idotUnpackedBatch } from "../idot";

// @ts-ignore: decorator
@inline export function idotRows<K>(rows: usize, rowBytes: usize, nrows: i32, act: usize, actStride: usize, nx: i32, dim: i32, out: usize, stride: i32, scratch: usize, BYTES: usize, fold: bool, wide: bool, paired: bool): void {
  const kernel = changetype<K>(0); // never dereferenced: the methods read no field
  const nb = <i32>(rowBytes / BYTES);
  for (let r = 0; r < nrows; r++) {
    const w = rows + <usize>r * rowBytes;
    if (nx == 1) {
      store<f32>(out + (<usize>r << 2), kernel.row(w, act, dim, nb));
      continue;
    }
    kernel.unpack(w, nb, scratch);
    idotUnpackedBatch(scratch, nb, act, actStride, nx, dim, out, stride, r, fold, wide, paired);
  }
}

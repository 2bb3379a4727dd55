// The row driver of the k-quant integer dots (mode "ggml", idot_<fmt>): R rows (rowBytes apart) . B Q8_K
// records (actStride apart) to out[b * S + r], f32. One vector: each row dotted straight from its packed
// bytes; more: each row unpacked once into scratch (idot.ts layout, UNPACKED bytes per block), then dotted
// with every record (idot.ts idotUnpackedBatch). Each format passes its kernels as a type, K: a final class
// without fields whose @inline methods are row(w, act, dim, nb): f32 (one packed row of nb blocks . one
// record) and unpack(w, nb, dst) (one row into the unpacked layout); AssemblyScript compiles one copy of the
// driver per K with both inlined (no call_indirect), as block-rows.ts does for the decoders.
// Keys: R nrows, B nx, S stride, BYTES bytes per block; fold, wide, paired: how the format unpacks (idot.ts).
// Also here: the walker of one packed row for one vector (idotRowBlocks), over the format's block kernels.
import { MASK_00FF, MASK_01, MASK_02, MASK_0F, MASK_30, vconst } from "../vconst";
import { idotUnpackedBatch } from "../idot";
import { VEC_Q8_K, actCodes8, actD, actSums } from "../activations";

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

// One packed row of nb blocks (BYTES each) . one Q8_K record (at act), the k-quants' row(): K's @inline
// block(blk, x, x8, bsums, m0f, m30, m01, m02, m00ff): v128 gives a block's integer sums in i32 lanes (the
// masks: vconst.ts, loaded once per row, each format using those it needs; loaded per block they cost
// Node 20 up to 6%), value(sums, blk, dx): f32 the block's value as ggml rounds it, and values4(s0, s1, s2, s3,
// blk, dx) four consecutive blocks' values at once (lane b: block b, dx: the four records' scales), each lane
// the same f32 operations as value. Four blocks per step, their values added to the row's sum one at a time
// in order, then one block per step: every block's value is the same wherever it falls. K.block inlines five
// times here: q6_k, q4_k, q5_k inline their block kernel (1 vector 4-14% faster than a call per block), q2_k,
// q3_k, iq4_xs call theirs (the package's size: ~2.7 KB of wasm per format and build).
// @ts-ignore: decorator
@inline export function idotRowBlocks<K>(w: usize, act: usize, dim: i32, nb: i32, BYTES: usize): f32 {
  const k = changetype<K>(0); // never dereferenced
  let x = act;
  let x8 = act + actCodes8(VEC_Q8_K, dim);
  let xd = act + actD(VEC_Q8_K, dim);
  let xs = act + actSums(VEC_Q8_K, dim);
  const m0f = vconst(MASK_0F);
  const m30 = vconst(MASK_30);
  const m01 = vconst(MASK_01);
  const m02 = vconst(MASK_02);
  const m00ff = vconst(MASK_00FF);
  let acc: f32 = 0;
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const s0 = k.block(w, x, x8, xs, m0f, m30, m01, m02, m00ff);
    const s1 = k.block(w + BYTES, x + 512, x8 + 256, xs + 32, m0f, m30, m01, m02, m00ff);
    const s2 = k.block(w + 2 * BYTES, x + 1024, x8 + 512, xs + 64, m0f, m30, m01, m02, m00ff);
    const s3 = k.block(w + 3 * BYTES, x + 1536, x8 + 768, xs + 96, m0f, m30, m01, m02, m00ff);
    const v = k.values4(s0, s1, s2, s3, w, v128.load(xd));
    acc += f32x4.extract_lane(v, 0);
    acc += f32x4.extract_lane(v, 1);
    acc += f32x4.extract_lane(v, 2);
    acc += f32x4.extract_lane(v, 3);
    w += 4 * BYTES;
    x += 2048;
    x8 += 1024;
    xd += 16;
    xs += 128;
  }
  for (; b < nb; b++) {
    acc += k.value(k.block(w, x, x8, xs, m0f, m30, m01, m02, m00ff), w, load<f32>(xd));
    w += BYTES;
    x += 512;
    x8 += 256;
    xd += 4;
    xs += 32;
  }
  return acc;
}

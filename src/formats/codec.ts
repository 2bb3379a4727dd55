// Whole tables through the format kernels, slice by slice: f32 rows -> packed rows (encodeRows) and packed rows
// -> f32 rows (decodeRows). Each slice goes through cache-sized scratch in linear memory, so converting a
// table needs its destination plus a few hundred KB, never an f32 copy of it all.
// Keys: V vocab (rows), D dim, Dp = D padded to whole blocks (the padding is zeros on the way in and is
// never written on the way out).
import type { FormatInfo } from "./registry.js";
import { blocksPerRow, rowBytes } from "./registry.js";
import type { Runtime } from "../core/runtime.js";

/** Bytes of f32 per slice: small enough to stay in cache. */
export const CHUNK_BYTES = 1 << 18;

/**
 * Encode V rows of D f32 values into `dest`: a pointer into linear memory (V * rowBytes bytes) or a
 * Uint8Array of the same length outside it.
 */
export function encodeRows(
  rt: Runtime,
  info: FormatInfo,
  values: Float32Array,
  vocab: number,
  dim: number,
  dest: number | Uint8Array,
): void {
  const mem = rt.memory;
  const encode = rt.kernels[info.encode];
  const paddedDim = blocksPerRow(info, dim) * info.blockElems;
  const bytesPerRow = rowBytes(info, dim);
  const chunkRows = Math.min(vocab, Math.max(1, Math.floor(CHUNK_BYTES / (paddedDim * 4))));
  const blocks = mem.scratch();
  try {
    const scratch = blocks.alloc(chunkRows * paddedDim * 4);
    // a JS destination gets its bytes through a second scratch
    const staging = typeof dest === "number" ? -1 : blocks.alloc(chunkRows * bytesPerRow);
    for (let r = 0; r < vocab; r += chunkRows) {
      const rows = Math.min(chunkRows, vocab - r);
      const heap = mem.f32();
      const at = scratch >>> 2;
      if (paddedDim === dim) {
        heap.set(values.subarray(r * dim, (r + rows) * dim), at);
      } else {
        for (let i = 0; i < rows; i++) {
          heap.set(values.subarray((r + i) * dim, (r + i + 1) * dim), at + i * paddedDim);
          heap.fill(0, at + i * paddedDim + dim, at + (i + 1) * paddedDim);
        }
      }
      if (typeof dest === "number") {
        encode(scratch, rows * paddedDim, dest + r * bytesPerRow);
      } else {
        encode(scratch, rows * paddedDim, staging);
        dest.set(mem.u8().subarray(staging, staging + rows * bytesPerRow), r * bytesPerRow);
      }
    }
  } finally {
    blocks.free();
  }
}

/**
 * Decode all V rows of `src` (a pointer to packed rows in linear memory, or the packed bytes as a Uint8Array)
 * slice by slice, handing each slice to `each(firstRow, rows, values)`. `values` views linear memory and is
 * valid only during the call; `each` must not allocate wasm memory.
 */
export function decodeRows(
  rt: Runtime,
  info: FormatInfo,
  vocab: number,
  dim: number,
  src: number | Uint8Array,
  each: (firstRow: number, rows: number, values: Float32Array) => void,
): void {
  const mem = rt.memory;
  const decode = rt.kernels[info.decode];
  const bytesPerRow = rowBytes(info, dim);
  const chunkRows = Math.min(vocab, Math.max(1, Math.floor(CHUNK_BYTES / (dim * 4))));
  const blocks = mem.scratch();
  try {
    const out = blocks.alloc(chunkRows * dim * 4);
    const ids = blocks.alloc(chunkRows * 4);
    const staging = typeof src === "number" ? -1 : blocks.alloc(chunkRows * bytesPerRow);
    // ids 0..rows-1, relative to the first row of the slice
    const u32 = mem.u32();
    for (let i = 0; i < chunkRows; i++) u32[(ids >>> 2) + i] = i;
    for (let r = 0; r < vocab; r += chunkRows) {
      const rows = Math.min(chunkRows, vocab - r);
      let table: number;
      if (typeof src === "number") {
        table = src + r * bytesPerRow;
      } else {
        mem.u8().set(src.subarray(r * bytesPerRow, (r + rows) * bytesPerRow), staging);
        table = staging;
      }
      decode(table, bytesPerRow, ids, rows, dim, out);
      each(r, rows, mem.f32().subarray(out >>> 2, (out >>> 2) + rows * dim));
    }
  } finally {
    blocks.free();
  }
}

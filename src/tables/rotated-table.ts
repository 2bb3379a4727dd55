// RotatedTable: a packed table stored in Ternary Bonsai 2's rotated basis, used as if it were not. Each stored
// (latent) row is z = H_B(s * e) of the real row e, so
//   lookup(ids)       real rows: e = s * H_B(z), the inverse transform applied to each gathered row, in wasm;
//   project(hidden)   z . H_B(s * h) = e . h: the forward transform applied once per call to the hidden vectors,
//                     then the latent table's own projection (exact, fast or ggml mode; topk, argmax likewise);
//   nearest, analogy  cosine, dot and distance survive the orthonormal rotation: the query is rotated (nearest)
//                     or nothing is (analogy, whose rows are all latent);
//   pool (sum, mean)  linear: the latent rows pooled, then each bag's vector transformed (max does not commute).
// It wraps an EmbeddingTable (`latent`, the raw rows, still reachable) and owns it: dispose frees both.
// Keys: V vocab, D dim (a multiple of B), B block, N ids or hidden vectors.
// see: docs/BONSAI2.md §4.2 (forward and inverse), §4.4 (lookup), §4.5 (head projection).
import { F32Buffer } from "../core/buffer.js";
import { type EmbedOptions, embedRows } from "./embed.js";
import { errors } from "../core/errors.js";
import type { FormatInfo, Format } from "../formats/registry.js";
import { hadamardRows } from "../positions/hadamard.js";
import { readOnce, snapshotIds, type Ids } from "../core/ids.js";
import { f32In, F32Out } from "../core/arrays.js";
import type { NearestOptions } from "../project/nearest.js";
import { copyHidden, hiddenCount, type ProjectOptions, type TopK, type TopKOptions } from "../project/project.js";
import type { Runtime } from "../core/runtime.js";
import type { EmbeddingTable, TableStats } from "./table.js";
import type { Offsets, PoolOptions } from "./pool.js";

export interface Rotation {
  /** B, a power of two dividing the table's dim. */
  block: number;
  /** D signs (+-1), or none ("identity" sign mode). */
  signs?: Float32Array;
}

// Rows decoded and transformed per step when the result goes to a JS array.
const CHUNK_BYTES = 1 << 18;

export class RotatedTable {
  /** The stored rows, in the rotated basis (what the file holds). */
  readonly latent: EmbeddingTable;
  readonly block: number;
  readonly signs: Float32Array | undefined;
  private signsPtr: number;

  /** Wrap `latent` (taken over: disposing this disposes it). */
  constructor(latent: EmbeddingTable, rotation: Rotation) {
    const { block, signs } = rotation;
    const dim = latent.dim;
    if (!(Number.isInteger(block) && block >= 1 && (block & (block - 1)) === 0 && dim % block === 0)) {
      throw errors.option("block", block, `a power of two dividing the table's dim ${dim}`);
    }
    const mem = latent.runtime.memory;
    if (signs !== undefined) {
      if (!(signs instanceof Float32Array) || signs.length !== dim) throw errors.option("signs", signs, `a Float32Array of ${dim} signs`);
      f32In(signs, "signs", mem).forEach((v, i) => {
        if (v !== 1 && v !== -1) throw errors.signsValue("signs", i, v);
      });
    }
    this.latent = latent;
    this.block = block;
    this.signs = signs;
    this.signsPtr = 0;
    if (signs !== undefined) {
      const copy = f32In(signs, "signs", mem); // taken before the allocation, which may detach a view of memory
      this.signsPtr = mem.alloc(dim * 4);
      mem.f32().set(copy, this.signsPtr >>> 2);
    }
  }

  get vocab(): number {
    return this.latent.vocab;
  }
  get dim(): number {
    return this.latent.dim;
  }
  get format(): Format {
    return this.latent.format;
  }
  get info(): FormatInfo {
    return this.latent.info;
  }
  get rowBytes(): number {
    return this.latent.rowBytes;
  }
  get byteLength(): number {
    return this.latent.byteLength;
  }
  /** The runtime whose memory holds the table. */
  get runtime(): Runtime {
    return this.latent.runtime;
  }

  /** Real rows of `ids` (N * D): each latent row z gathered, then s * H_B(z). `out` as EmbeddingTable.lookup. */
  lookup(ids: Ids, out?: Float32Array | F32Buffer): Float32Array {
    const table = this.latent;
    void table.ptr; // throws once disposed
    const { dim, vocab } = table;
    const snapshot = snapshotIds(ids, vocab); // read once (see core/ids.ts): n below is what the copy holds
    const n = snapshot.length;
    const rt = table.runtime;
    const mem = rt.memory;
    if (out instanceof F32Buffer) {
      table.lookup(snapshot, out); // checks the buffer (ours, this runtime, n * dim)
      this.restore(out.ptr, n);
      return out.view();
    }
    const target = new F32Out(mem, out, "out", n * dim, `${n} ids x dim ${dim}`);
    const tablePtr = table.ptr;
    if (n === 0) return target.finish();
    const chunk = Math.min(n, Math.max(1, Math.floor(CHUNK_BYTES / (dim * 4))));
    const blocks = mem.scratch();
    try {
      const idsPtr = blocks.alloc(n * 4);
      const rows = blocks.alloc(chunk * dim * 4);
      const scratch = blocks.alloc(this.block * 8);
      mem.u32().set(snapshot, idsPtr >>> 2);
      const decode = rt.kernels[table.info.decode];
      for (let r = 0; r < n; r += chunk) {
        const count = Math.min(chunk, n - r);
        decode(tablePtr, table.rowBytes, idsPtr + r * 4, count, dim, rows);
        this.restore(rows, count, scratch);
        target.array.set(mem.f32().subarray(rows >>> 2, (rows >>> 2) + count * dim), r * dim);
      }
    } finally {
      blocks.free();
    }
    return target.finish();
  }

  /** Real token rows scaled and summed with position / token-type rows (see EmbeddingTable.embed). */
  embed(ids: Ids, options?: EmbedOptions): Float32Array {
    const rt = this.latent.runtime;
    this.latent.ptr;
    const scratch = rt.memory.alloc(this.block * 8);
    try {
      return embedRows(this.latent, rt, ids, options, (ptr, rows) => this.restore(ptr, rows, scratch));
    } finally {
      rt.memory.dealloc(scratch);
    }
  }

  /**
   * Bags of ids pooled (see EmbeddingTable.pool), "sum" or "mean": pooling is linear, so the latent rows are pooled
   * and each bag's vector is brought back, s * H_B(v). "max" is refused (an elementwise max does not commute).
   */
  pool(ids: Ids, offsets: Offsets, options: PoolOptions = {}): Float32Array {
    // options and offsets read once: the number of bags restored below is the number the latent pool wrote
    const { mode, weights, paddingId, normalize, out } = options ?? {};
    if (mode === "max") throw errors.option("mode", mode, '"sum" or "mean" on a table stored in a rotated basis (an elementwise max does not commute with the rotation)');
    if (!(offsets instanceof Int32Array || offsets instanceof Uint32Array || Array.isArray(offsets))) throw errors.offsetsKind(offsets);
    const offs = readOnce(offsets, "offsets") as number[];
    const bags = offs.length;
    const o = { mode, weights, paddingId, normalize };
    if (out instanceof F32Buffer) {
      // an F32Buffer takes the bags in place (the latent pool checks it: ours, this runtime, bags * dim)
      this.latent.pool(ids, offs, { ...o, out });
      this.restore(out.ptr, bags);
      return out.view();
    }
    const rt = this.latent.runtime;
    const target = new F32Out(rt.memory, out, "out", bags * this.dim, `${bags} bags x dim ${this.dim}`);
    const buf = rt.f32Buffer(bags * this.dim);
    try {
      this.latent.pool(ids, offs, { ...o, out: buf });
      this.restore(buf.ptr, bags);
      target.array.set(buf.view());
    } finally {
      buf.dispose();
    }
    return target.finish();
  }

  /** `pool` into an F32Buffer in linear memory (no copy out); returns a view of it. */
  poolInto(ids: Ids, offsets: Offsets, out: F32Buffer, options?: Omit<PoolOptions, "out">): Float32Array {
    if (!(out instanceof F32Buffer)) throw errors.option("out", out, "an F32Buffer (rt.f32Buffer(bags * dim))");
    return this.pool(ids, offsets, { ...options, out });
  }

  /** Logits of N real hidden vectors: the latent table's projection of H_B(s * h). */
  project(hidden: Float32Array, options?: ProjectOptions): Float32Array {
    return this.latent.project(this.toLatent(hidden), options);
  }

  /** The K best rows per real hidden vector (see EmbeddingTable.topk). */
  topk(hidden: Float32Array, k: number, options?: TopKOptions): TopK {
    return this.latent.topk(this.toLatent(hidden), k, options);
  }

  /** The best row per real hidden vector. */
  argmax(hidden: Float32Array, options?: TopKOptions): Int32Array {
    return this.latent.argmax(this.toLatent(hidden), options);
  }

  /** The K rows nearest to a real `vector` (cosine, dot or Euclidean: the rotation keeps all three). */
  nearest(vector: Float32Array, k: number, options?: NearestOptions): TopK {
    this.latent.ptr;
    vector = f32In(vector, "vector", this.latent.runtime.memory);
    if (vector.length !== this.dim) throw errors.outLength("vector", vector.length, this.dim, `one vector of dim ${this.dim}`);
    return this.latent.nearest(this.toLatent(vector, "vector"), k, options);
  }

  /** Rows nearest to unit(a) - unit(b) + unit(c), inputs excluded (the latent rows give the same answer). */
  analogy(a: number, b: number, c: number, k = 1): TopK {
    return this.latent.analogy(a, b, c, k);
  }

  /** project() on the runtime's threads (the transform runs on the calling thread first): the same bits. */
  projectAsync(hidden: Float32Array, options?: ProjectOptions): Promise<Float32Array> {
    return rejected(() => this.latent.projectAsync(this.toLatent(hidden), options));
  }

  /** topk() on the runtime's threads. */
  topkAsync(hidden: Float32Array, k: number, options?: TopKOptions): Promise<TopK> {
    return rejected(() => this.latent.topkAsync(this.toLatent(hidden), k, options));
  }

  /** argmax() on the runtime's threads. */
  argmaxAsync(hidden: Float32Array, options?: TopKOptions): Promise<Int32Array> {
    return rejected(() => this.latent.argmaxAsync(this.toLatent(hidden), options));
  }

  /** nearest() on the runtime's threads. */
  nearestAsync(vector: Float32Array, k: number, options?: NearestOptions): Promise<TopK> {
    return rejected(() => {
      this.latent.ptr;
      vector = f32In(vector, "vector", this.latent.runtime.memory);
      if (vector.length !== this.dim) throw errors.outLength("vector", vector.length, this.dim, `one vector of dim ${this.dim}`);
      return this.latent.nearestAsync(this.toLatent(vector, "vector"), k, options);
    });
  }

  /** analogy() on the runtime's threads. */
  analogyAsync(a: number, b: number, c: number, k = 1): Promise<TopK> {
    return this.latent.analogyAsync(a, b, c, k);
  }

  /** Quantization error against `source`, the V * D real f32 values (see EmbeddingTable.stats). */
  stats(source: Float32Array): TableStats {
    const rt = this.latent.runtime;
    this.latent.ptr;
    const scratch = rt.memory.alloc(this.block * 8);
    try {
      return this.latent.stats(source, (ptr, rows) => this.restore(ptr, rows, scratch));
    } finally {
      rt.memory.dealloc(scratch);
    }
  }

  /** The packed latent bytes (what the file holds). */
  bytes(): Uint8Array {
    return this.latent.bytes();
  }

  /** Real hidden vectors (N * D) into the latent basis: a copy holding H_B(s * h). NaN is refused by position. */
  toLatent(hidden: Float32Array, name = "hidden"): Float32Array {
    const rt = this.latent.runtime;
    this.latent.ptr;
    const mem = rt.memory;
    hidden = f32In(hidden, name, mem);
    const n = hiddenCount(hidden, this.dim, name);
    const scratch = mem.scratch();
    try {
      const ptr = copyHidden({ runtime: rt, dim: this.dim }, hidden, scratch, name);
      hadamardRows(rt, ptr, n, this.dim, this.block, this.signsPtr, false);
      return mem.f32().slice(ptr >>> 2, (ptr >>> 2) + n * this.dim);
    } finally {
      scratch.free();
    }
  }

  dispose(): void {
    if (this.signsPtr) this.latent.runtime.memory.dealloc(this.signsPtr);
    this.signsPtr = 0;
    this.latent.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // rows latent rows at ptr -> real rows, in place
  private restore(ptr: number, rows: number, scratch?: number): void {
    hadamardRows(this.latent.runtime, ptr, rows, this.dim, this.block, this.signsPtr, true, scratch);
  }
}

// An async call's checks that throw on the calling thread become its promise's rejection, as for EmbeddingTable.
function rejected<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call();
  } catch (e) {
    return Promise.reject(e);
  }
}

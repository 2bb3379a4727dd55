// EmbeddingTable: V rows of D values kept packed in linear memory, in one storage format.
// Keys: V vocab, D dim, N ids; Dp = D padded to whole blocks (padding is zeros and never shows).
import { CHUNK_BYTES, decodeRows, encodeRows } from "../formats/codec.js";
import { F32Buffer, isF32Buffer } from "../core/buffer.js";
import { errors } from "../core/errors.js";
import { blocksPerRow, formatInfo, rowBytes, type Format, type FormatInfo } from "../formats/registry.js";
import { snapshotIds, type Ids } from "../core/ids.js";
import { bytesIn, f32In, F32Out, plainBytes } from "../core/arrays.js";
import type { Scratch } from "../core/memory.js";
import { checkTable, registerTable } from "./brand.js";
import type { Runtime } from "../core/runtime.js";
import { analogy, nearest, type NearestOptions } from "../project/nearest.js";
import { argmax, project, topk, type ProjectOptions, type TopK, type TopKOptions } from "../project/project.js";
import { embedRows, type EmbedOptions, type RestoreRows } from "./embed.js";
import { poolRows, type Offsets, type PoolOptions } from "./pool.js";
import { FastHead } from "../project/fast.js";
import { argmaxAsync, projectAsync, topkAsync } from "../parallel/project.js";
import { analogyAsync, nearestAsync } from "../parallel/nearest.js";

export interface TableOptions {
  vocab: number;
  dim: number;
  format: Format;
  /** The packed rows, V * rowBytes bytes (rowBytes = ceil(D / blockElems) * blockBytes). */
  data: ArrayBuffer | ArrayBufferView;
}

export interface TableFromF32Options {
  vocab: number;
  dim: number;
  format: Format;
}

/** Quantization error of a table against the f32 values it was made from (float64 accumulation). */
export interface TableStats {
  /** sqrt(mean of squared errors) over all V * D values. */
  rmse: number;
  /** rmse / sqrt(mean of squared source values): 0 is exact, 1 is as large as the signal. */
  relativeRmse: number;
  /** The largest |decoded - source| (NaN if any value is NaN). */
  maxAbsError: number;
  /** Mean over rows of cos(decoded row, source row); a zero row against a zero row counts 1, against a nonzero row 0. */
  meanCosine: number;
}

const registry =
  typeof FinalizationRegistry !== "undefined"
    ? new FinalizationRegistry<() => void>((release) => release())
    : undefined;

export class EmbeddingTable {
  readonly vocab: number;
  readonly dim: number;
  readonly format: Format;
  readonly info: FormatInfo;
  /** Bytes of one packed row. */
  readonly rowBytes: number;
  /** Bytes of the packed table in linear memory. */
  readonly byteLength: number;
  private readonly rt: Runtime;
  private ptrValue: number;
  // what the table derives from its rows on first use and frees with itself: row norms (nearest) and the
  // tiled copy of fast mode
  private readonly derived: { norms?: number; fast?: FastHead } = {};
  // *Async calls under way (held): while any runs, the workers may read the rows and what was derived from
  // them, so dispose() and releaseFast() leave those to the last call to settle (`release`)
  private held = 0;
  private release: (() => void)[] = [];

  private constructor(rt: Runtime, vocab: number, dim: number, format: Format) {
    checkDims(vocab, dim);
    this.rt = rt;
    this.vocab = vocab;
    this.dim = dim;
    this.info = formatInfo(format);
    this.format = format;
    this.rowBytes = rowBytes(this.info, dim);
    this.byteLength = this.rowBytes * vocab;
    this.ptrValue = rt.memory.alloc(this.byteLength);
    registerTable(this);
    // safety net only: a table dropped without dispose() gives its memory back when collected
    const ptr = this.ptrValue;
    const memory = rt.memory;
    const derived = this.derived;
    registry?.register(
      this,
      () => {
        memory.dealloc(ptr);
        if (derived.norms !== undefined) memory.dealloc(derived.norms);
        derived.fast?.dispose();
      },
      this,
    );
  }

  static fromBytes(rt: Runtime, options: TableOptions): EmbeddingTable {
    const { vocab, dim, format, data } = options ?? ({} as TableOptions);
    formatInfo(format);
    checkDims(vocab, dim);
    const bytes = bytesIn(data, "data", rt.memory);
    const info = formatInfo(format);
    const expected = rowBytes(info, dim) * vocab;
    if (bytes.byteLength !== expected) {
      throw errors.dataLength(
        "data",
        bytes.byteLength,
        expected,
        `${vocab} rows x ${rowBytes(info, dim)} bytes per ${format} row of dim ${dim}`,
      );
    }
    const table = new EmbeddingTable(rt, vocab, dim, format);
    rt.memory.u8().set(bytes, table.ptrValue);
    return table;
  }

  /**
   * A table whose rows are filled later (file readers copy bytes into `ptr`); its bytes start as zeros, or, not
   * `zeroed`, as whatever the memory held (a writer that fills every byte skips a pass over the table).
   */
  static allocate(rt: Runtime, options: TableFromF32Options, zeroed = true): EmbeddingTable {
    const { vocab, dim, format } = options ?? ({} as TableFromF32Options);
    formatInfo(format);
    checkDims(vocab, dim);
    const table = new EmbeddingTable(rt, vocab, dim, format);
    if (zeroed) rt.memory.u8().fill(0, table.ptrValue, table.ptrValue + table.byteLength);
    return table;
  }

  static fromF32(rt: Runtime, values: Float32Array, options: TableFromF32Options): EmbeddingTable {
    const { vocab, dim, format } = options ?? ({} as TableFromF32Options);
    const info = formatInfo(format);
    checkDims(vocab, dim);
    values = f32In(values, "values", rt.memory);
    if (values.length !== vocab * dim) {
      throw errors.outLength("values", values.length, vocab * dim, `vocab ${vocab} x dim ${dim}`);
    }
    const table = new EmbeddingTable(rt, vocab, dim, format);
    try {
      encodeRows(rt, info, values, vocab, dim, table.ptrValue);
    } catch (e) {
      table.dispose();
      throw e;
    }
    return table;
  }

  /** Pointer to the packed rows in linear memory (valid until dispose). */
  get ptr(): number {
    return EmbeddingTable.live(this);
  }

  /**
   * @internal The pointer of `table`, which must be a real, live table. Methods start here rather than at
   * `this.ptr`: called on a Proxy, `this.ptr` is whatever the Proxy answers; a static call is not intercepted.
   */
  static live(table: EmbeddingTable): number {
    checkTable(table, "table");
    if (table.ptrValue < 0) throw errors.disposed("table");
    return table.ptrValue;
  }

  /**
   * Rows of `ids` as f32, N * D values, into `out` when given. `out` may be an F32Buffer (`rt.f32Buffer(n)`):
   * the rows are then decoded straight into linear memory with no copy, and a view of them is returned.
   */
  lookup(ids: Ids, out?: Float32Array | F32Buffer): Float32Array {
    EmbeddingTable.live(this); // a real, live table, before any of its fields is read
    const snapshot = snapshotIds(ids, this.vocab); // the caller's code (getters, Proxies) runs here and only here
    const n = snapshot.length;
    const dim = this.dim;
    const mem = this.rt.memory;
    if (out instanceof F32Buffer) return this.lookupInWasm(snapshot, out);
    const target = new F32Out(mem, out, "out", n * dim, `${n} ids x dim ${dim}`);
    const tablePtr = EmbeddingTable.live(this);
    if (n === 0) return target.finish();
    const result = target.array;
    if (this.info.inPlace) {
      // already f32: each row is copied once, straight from the table into the result
      const heap = mem.f32();
      const base = tablePtr >>> 2;
      for (let i = 0; i < n; i++) {
        const start = base + snapshot[i] * dim;
        result.set(heap.subarray(start, start + dim), i * dim);
      }
      return target.finish();
    }
    const scratch = mem.scratch();
    try {
      const idsPtr = scratch.alloc(n * 4);
      mem.u32().set(snapshot, idsPtr >>> 2);
      this.decodeInto(idsPtr, n, result, scratch);
    } finally {
      scratch.free();
    }
    return target.finish();
  }

  /** Token rows scaled and summed with position / token-type rows or sinusoidal positions (see embed.ts). */
  embed(ids: Ids, options?: EmbedOptions): Float32Array {
    return embedRows(this, this.rt, ids, options);
  }

  /**
   * Bags of ids reduced to one vector each (PyTorch's nn.EmbeddingBag): bag b is ids[offsets[b] ..
   * offsets[b + 1]), mode "mean" (default), "sum" or "max", in wasm over the packed rows: B * D values.
   */
  pool(ids: Ids, offsets: Offsets, options?: PoolOptions): Float32Array {
    return poolRows(this, this.rt, ids, offsets, options);
  }

  /** `pool` into an F32Buffer in linear memory (no copy out); returns a view of it. */
  poolInto(ids: Ids, offsets: Offsets, out: F32Buffer, options?: Omit<PoolOptions, "out">): Float32Array {
    if (!(out instanceof F32Buffer)) throw errors.option("out", out, "an F32Buffer (rt.f32Buffer(bags * dim))");
    return poolRows(this, this.rt, ids, offsets, { ...options, out });
  }

  /** A copy of the packed bytes (what a file would hold). */
  bytes(): Uint8Array {
    const ptr = EmbeddingTable.live(this);
    return this.rt.memory.u8().slice(ptr, ptr + this.byteLength);
  }

  /**
   * How far this table's values are from `source`, the V * D f32 values it was made from: RMSE, relative
   * RMSE, max abs error and the mean cosine of rows. Decodes slice by slice (memory stays flat).
   */
  stats(source: Float32Array, /** @internal */ restore?: RestoreRows): TableStats {
    EmbeddingTable.live(this);
    const { vocab, dim } = this;
    source = f32In(source, "source", this.rt.memory);
    const ptr = EmbeddingTable.live(this);
    if (source.length !== vocab * dim) {
      throw errors.outLength("source", source.length, vocab * dim, `vocab ${vocab} x dim ${dim}`);
    }
    let squared = 0;
    let signal = 0;
    let maxAbs = 0;
    let cosines = 0;
    decodeRows(this.rt, this.info, vocab, dim, ptr, (first, rows, values) => {
      restore?.(values.byteOffset, rows);
      for (let i = 0; i < rows; i++) {
        const at = (first + i) * dim;
        let dot = 0;
        let ss = 0;
        let dd = 0;
        for (let j = 0; j < dim; j++) {
          const s = source[at + j];
          const d = values[i * dim + j];
          const e = d - s;
          squared += e * e;
          maxAbs = Math.max(maxAbs, Math.abs(e));
          dot += s * d;
          ss += s * s;
          dd += d * d;
        }
        signal += ss;
        cosines += ss === 0 || dd === 0 ? (ss === dd ? 1 : 0) : dot / Math.sqrt(ss * dd);
      }
    });
    return {
      rmse: Math.sqrt(squared / (vocab * dim)),
      relativeRmse: signal === 0 ? (squared === 0 ? 0 : Infinity) : Math.sqrt(squared / signal),
      maxAbsError: maxAbs,
      meanCosine: cosines / vocab,
    };
  }

  /**
   * Logits of N hidden vectors (`hidden` is N * D values): N * V values, vector 0's first.
   * Each batch of vectors reads the table once.
   */
  project(hidden: Float32Array, options?: ProjectOptions): Float32Array {
    return project(this, hidden, options);
  }

  /** The K highest-scoring rows per hidden vector, best first; logits never leave wasm. */
  topk(hidden: Float32Array, k: number, options?: TopKOptions): TopK {
    return topk(this, hidden, k, options);
  }

  /** project() on the runtime's threads (rt.threads): the same logits, bit for bit. */
  projectAsync(hidden: Float32Array, options?: ProjectOptions): Promise<Float32Array> {
    return this.whileHeld("projectAsync", () => projectAsync(this, hidden, options));
  }

  /** topk() on the runtime's threads: the same ids and scores, bit for bit, ties broken the same way. */
  topkAsync(hidden: Float32Array, k: number, options?: TopKOptions): Promise<TopK> {
    return this.whileHeld("topkAsync", () => topkAsync(this, hidden, k, options));
  }

  /** argmax() on the runtime's threads. */
  argmaxAsync(hidden: Float32Array, options?: TopKOptions): Promise<Int32Array> {
    return this.whileHeld("argmaxAsync", () => argmaxAsync(this, hidden, options));
  }

  /** The highest-scoring row per hidden vector (N ids). */
  argmax(hidden: Float32Array, options?: TopKOptions): Int32Array {
    return argmax(this, hidden, options);
  }

  /** The K rows nearest to `vector` by cosine (default), dot product or Euclidean distance. */
  nearest(vector: Float32Array, k: number, options?: NearestOptions): TopK {
    return nearest(this, vector, k, options);
  }

  /** Rows nearest to unit(a) - unit(b) + unit(c), inputs excluded: analogy(king, man, woman) -> queen. */
  analogy(a: number, b: number, c: number, k = 1): TopK {
    return analogy(this, a, b, c, k);
  }

  /** nearest() on the runtime's threads: the same ids and scores, bit for bit, ties broken the same way. */
  nearestAsync(vector: Float32Array, k: number, options?: NearestOptions): Promise<TopK> {
    return this.whileHeld("nearestAsync", () => nearestAsync(this, vector, k, options));
  }

  /** analogy() on the runtime's threads. */
  analogyAsync(a: number, b: number, c: number, k = 1): Promise<TopK> {
    return this.whileHeld("analogyAsync", () => analogyAsync(this, a, b, c, k));
  }

  /** @internal The runtime whose memory holds this table. */
  get runtime(): Runtime {
    return this.rt;
  }

  /** @internal Pointer to V f32 row norms, computed by `compute` on first use and kept with the table. */
  rowNorms(compute: () => number): number {
    EmbeddingTable.live(this);
    return (this.derived.norms ??= compute());
  }

  /** @internal This table's fast-mode head (the tiled copy), built on first use and kept with the table. */
  fastHead(): FastHead {
    EmbeddingTable.live(this);
    return (this.derived.fast ??= FastHead.of(this));
  }

  /** @internal What the table has derived so far (the threaded calls build the missing parts on the workers). */
  get derivedSoFar(): { readonly norms?: number; readonly fast?: FastHead } {
    return this.derived;
  }

  /**
   * @internal Keep a head built elsewhere (on the workers) as this table's; when one was kept meanwhile, or the
   * table was disposed, `head` is disposed instead (and a disposed table throws).
   */
  adoptFast(head: FastHead): FastHead {
    if (this.ptrValue < 0 || this.derived.fast !== undefined) head.dispose();
    EmbeddingTable.live(this);
    return (this.derived.fast ??= head);
  }

  /** @internal Likewise for row norms computed elsewhere (a pointer this table then owns). */
  adoptRowNorms(ptr: number): number {
    if (this.ptrValue < 0 || this.derived.norms !== undefined) this.rt.memory.dealloc(ptr);
    EmbeddingTable.live(this);
    return (this.derived.norms ??= ptr);
  }

  /** Free the fast-mode tiled copy now (the next fast call builds it again); after the *Async calls under way. */
  releaseFast(): void {
    const head = this.derived.fast;
    this.derived.fast = undefined;
    if (head !== undefined) this.afterHeld(() => head.dispose());
  }

  /**
   * Unusable at once; the memory goes back now, or, while *Async calls run on the workers, when the last of
   * them has settled (they reject: docs/DESIGN.md, "dispose during a call").
   */
  dispose(): void {
    if (this.ptrValue < 0) return;
    registry?.unregister(this);
    const mem = this.rt.memory;
    const { ptrValue: ptr, derived } = this;
    this.ptrValue = -1;
    this.releaseFast();
    this.afterHeld(() => {
      if (derived.norms !== undefined) mem.dealloc(derived.norms);
      derived.norms = undefined;
      mem.dealloc(ptr);
    });
  }

  // Run `free` now, or when the last *Async call under way has settled.
  private afterHeld(free: () => void): void {
    if (this.held === 0) free();
    else this.release.push(free);
  }

  // An *Async call holding the table's memory until it settles; disposed meanwhile, it rejects saying so.
  private async whileHeld<T>(call: string, run: () => Promise<T>): Promise<T> {
    EmbeddingTable.live(this);
    this.held++;
    try {
      let result: T;
      try {
        result = await run();
      } catch (e) {
        throw this.ptrValue < 0 ? errors.disposedDuring("table", call, e) : e;
      }
      if (this.ptrValue < 0) throw errors.disposedDuring("table", call, undefined);
      return result;
    } finally {
      if (--this.held === 0) for (const free of this.release.splice(0)) free();
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // Decode all rows in one kernel call straight into a buffer in linear memory.
  private lookupInWasm(ids: Uint32Array, out: F32Buffer): Float32Array {
    const n = ids.length;
    const mem = this.rt.memory;
    if (!isF32Buffer(out)) throw errors.notOurs("out", "an F32Buffer", out);
    if (out.owner !== mem) throw errors.otherRuntime("out", "an F32Buffer");
    if (out.length !== n * this.dim) throw errors.outLength("out", out.length, n * this.dim, `${n} ids x dim ${this.dim}`);
    const outPtr = out.ptr;
    const tablePtr = EmbeddingTable.live(this);
    const scratch = mem.scratch();
    try {
      const idsPtr = scratch.alloc(n * 4);
      mem.u32().set(ids, idsPtr >>> 2);
      this.rt.kernels[this.info.decode](tablePtr, this.rowBytes, idsPtr, n, this.dim, outPtr);
    } finally {
      scratch.free();
    }
    return out.view();
  }

  // Decode rows slice by slice into a cache-sized scratch, copying each slice out.
  private decodeInto(idsPtr: number, n: number, out: Float32Array, scratch: Scratch): void {
    const mem = this.rt.memory;
    const dim = this.dim;
    const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / (dim * 4)));
    const chunkRows = Math.min(n, rowsPerChunk);
    // The scratch sits at 2048 mod 4096: large JS arrays start at (or just past) a page boundary, and a copy
    // between addresses equal mod 4096 stalls on x86 "4K aliasing" (measured: lookups 3-4x slower).
    const block = scratch.alloc(chunkRows * dim * 4 + 4096);
    const at = block + ((2048 - block) & 4095);
    const decode = this.rt.kernels[this.info.decode];
    for (let r = 0; r < n; r += chunkRows) {
      const rows = Math.min(chunkRows, n - r);
      decode(this.ptrValue, this.rowBytes, idsPtr + r * 4, rows, dim, at);
      out.set(mem.f32().subarray(at >>> 2, (at >>> 2) + rows * dim), r * dim);
    }
  }
}

export function checkDims(vocab: unknown, dim: unknown): void {
  if (!(typeof vocab === "number" && Number.isInteger(vocab) && vocab > 0 && vocab < 2 ** 31)) {
    throw errors.notPositiveInt("vocab", vocab);
  }
  if (!(typeof dim === "number" && Number.isInteger(dim) && dim > 0 && dim < 2 ** 24)) {
    throw errors.notPositiveInt("dim", dim);
  }
}

export function asBytes(data: unknown, name: string): Uint8Array {
  return plainBytes(data, name);
}

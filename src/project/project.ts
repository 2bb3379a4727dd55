// Projection of hidden states onto a table (tied LM head, or a separate head table): logits, top-k and
// nearest rows. The work runs in wasm over slices of rows: hidden vectors are copied in once, each slice
// of rows is projected onto a batch of vectors into a wasm-side scratch, then copied out (project) or
// pushed into per-vector heaps (topk, nearest). A batch of vectors costs one pass over the table.
// Keys: V vocab, D dim, N hidden vectors, K results per vector, S rows per slice.
import { errors } from "../core/errors.js";
import { ggmlActivations } from "../formats/activations.js";
import { formatInfo } from "../formats/registry.js";
import { supportsFast, FastHead } from "./fast.js";
import type { Runtime } from "../core/runtime.js";
import type { Scratch } from "../core/memory.js";
import { f32In, F32Out } from "../core/arrays.js";
import { checkTable } from "../tables/brand.js";
import { nonFiniteRows } from "../formats/nonfinite.js";
import type { EmbeddingTable } from "../tables/table.js";

export type ProjectMode = "exact" | "fast" | "ggml";
export const PROJECT_MODES: readonly ProjectMode[] = Object.freeze(["exact", "fast", "ggml"]);

export interface ProjectOptions {
  /** "exact": f32 activations and accumulation over the packed rows. "fast": lookup-table (T-MAC) kernels where
   * the format has them (its registry entry has fast traits), else exact. "ggml": activations quantized as
   * llama.cpp's CPU backend quantizes them (Q8_0, Q8_1 or Q8_K blocks), then integer block dots where the format
   * has them (registry intDot), else the exact kernels over the rounded activations: reproduces ggml's logits.
   * Default: the format's registry `defaultMode` ("ggml" for the formats with integer dots that were measured
   * faster than exact and have no fast mode; "fast" for the formats with lookup-table kernels; "exact" for the
   * others). */
  mode?: ProjectMode;
  /** Where to write the N * V logits (hidden-major: the V logits of vector 0 first). */
  out?: Float32Array;
  /** Multiply every logit by this (Cohere, Granite's 1 / logit_scale). Default 1. */
  scale?: number;
  /** Gemma-2 soft-capping after scaling: cap * tanh(logit / cap). Default: none. */
  softcap?: number;
}

export interface TopKOptions {
  mode?: ProjectMode;
  scale?: number;
  softcap?: number;
}

export interface TopK {
  /** N * K row ids, best first per hidden vector; -1 where fewer than K rows qualified. */
  ids: Int32Array;
  /** Their scores (NaN where the id is -1). */
  scores: Float32Array;
}

// Logits of one slice (N * S f32) stay in L2; hidden vectors of one pass too; decoded rows of a tile in L1.
const SLICE_BYTES = 1 << 18;
const BATCH_BYTES = 1 << 18;
const TILE_BYTES = 1 << 16;
const MAX_BATCH = 64;

/** Check `hidden` (a plain Float32Array, see f32In) and return how many vectors it holds. */
export function hiddenCount(hidden: Float32Array, dim: number, name = "hidden"): number {
  if (hidden.length === 0 || hidden.length % dim !== 0) {
    throw errors.hiddenLength(name, hidden.length, dim);
  }
  return hidden.length / dim;
}

/** The mode that runs: the format's default when none is named; "fast" only where the format has lookup-table kernels. */
export function checkMode(mode: unknown, format: string): ProjectMode {
  if (mode !== undefined && !PROJECT_MODES.includes(mode as ProjectMode)) throw errors.unknownMode(mode, PROJECT_MODES);
  if (mode === undefined) mode = formatInfo(format).defaultMode;
  if (mode === "fast") return supportsFast(format) ? "fast" : "exact";
  return mode as ProjectMode;
}

/** Scale and cap: undefined, or finite and positive (a non-positive scale would reverse the ranking). */
export function checkPost(scale: unknown, softcap: unknown): { scale: number; cap: number } {
  if (scale !== undefined && !(typeof scale === "number" && Number.isFinite(scale) && scale > 0)) {
    throw errors.option("scale", scale, "a finite number > 0");
  }
  if (softcap !== undefined && !(typeof softcap === "number" && Number.isFinite(softcap) && softcap > 0)) {
    throw errors.option("softcap", softcap, "a finite number > 0");
  }
  return { scale: scale ?? 1, cap: softcap ?? 0 };
}

export function checkK(k: unknown, vocab: number): number {
  if (!(typeof k === "number" && Number.isInteger(k) && k >= 1 && k <= vocab)) {
    throw errors.option("k", k, `an integer in [1, ${vocab}] (the table's vocab)`);
  }
  return k;
}

/** A block of `scratch` holding the hidden vectors, NaN-checked. */
export function copyHidden(table: { runtime: Runtime; dim: number }, hidden: Float32Array, scratch: Scratch, name = "hidden"): number {
  const mem = table.runtime.memory;
  const ptr = scratch.alloc(hidden.length * 4);
  mem.f32().set(hidden, ptr >>> 2);
  const bad = table.runtime.kernels.find_nan(ptr, hidden.length);
  if (bad >= 0) throw errors.hiddenNaN(name, bad, table.dim);
  return ptr;
}

/**
 * Hidden vectors in wasm memory (blocks of `scratch`) for a mode: `x` the f32 vectors the exact kernels take
 * (NaN-checked; for mode "ggml", rounded as ggml rounds them), and for mode "ggml" over a format with integer
 * dots, `act` the quantized records (assembly/activations.ts; else 0). With integer dots, `x` is only made when
 * the table has rows with a non-finite scale (they always take the exact kernel, see forEachSlice).
 */
export interface Prepared {
  x: number;
  act: number;
}

export function prepareHidden(table: EmbeddingTable, hidden: Float32Array, n: number, mode: ProjectMode, scratch: Scratch, name = "hidden"): Prepared {
  const info = table.info;
  if (!(mode === "ggml" && info.intDot)) {
    if (mode === "ggml") hidden = ggmlActivations(hidden, table.dim, table.format);
    return { x: copyHidden(table, hidden, scratch, name), act: 0 };
  }
  const k = table.runtime.kernels;
  const raw = copyHidden(table, hidden, scratch, name);
  const act = scratch.alloc(n * k.activation_bytes(info.id, table.dim));
  k.quantize_activations(info.id, raw, n, table.dim, act);
  const x = nonFiniteOf(table).length > 0 ? copyHidden(table, ggmlActivations(hidden, table.dim, table.format), scratch, name) : 0;
  return { x, act };
}

export interface Slice {
  /** Pointer to the slice's scores: vector b's score for row r0 + r is at ptr + 4 * (b * stride + r). */
  ptr: number;
  stride: number;
  /** First hidden vector of this pass and how many it holds. */
  b0: number;
  nb: number;
  /** First row of the slice and how many rows it holds. */
  r0: number;
  rows: number;
}

/**
 * How forEachSlice cuts the work: vectors in passes of `batch` (`nbMax` in the first), rows in slices of
 * `stride` decoded `tile` rows at a time. The threaded calls (src/parallel/) cut the same way, so every row
 * meets the same kernel path and gives the same bits.
 */
export function sliceGeometry(vocab: number, dim: number, n: number): { batch: number; nbMax: number; tile: number; stride: number } {
  const batch = Math.min(MAX_BATCH, Math.max(4, Math.floor(BATCH_BYTES / (dim * 4)) & ~3));
  const nbMax = Math.min(n, batch);
  const tile = Math.min(vocab, Math.max(1, Math.floor(TILE_BYTES / (dim * 4))));
  const stride = Math.min(vocab, Math.max(tile, Math.floor(SLICE_BYTES / (4 * nbMax) / tile) * tile));
  return { batch, nbMax, tile, stride };
}

/**
 * Project `n` hidden vectors (prepareHidden) onto every row of `table`, one slice of rows at a time, handing
 * each slice to `visit` while its scores sit in wasm memory. Vectors go in passes of up to `batch`; each
 * pass reads the table once. With activation records (mode "ggml", integer dots) the slices come from
 * project_int; rows with a non-finite scale still take the exact kernel, one vector at a time.
 */
export function forEachSlice(table: EmbeddingTable, hidden: Prepared, n: number, visit: (s: Slice) => void): void {
  const { vocab, dim, rowBytes } = table;
  const k = table.runtime.kernels;
  const mem = table.runtime.memory;
  const { batch, nbMax, tile, stride } = sliceGeometry(vocab, dim, n);
  const xPtr = hidden.x;
  const act = hidden.act;
  const actBytes = act ? k.activation_bytes(table.info.id, dim) : 0;
  const nonFinite = nonFiniteOf(table);
  const needsDecode = !table.info.inPlace && (!act || nonFinite.length > 0);
  const blocks = mem.scratch();
  try {
    const scratch = needsDecode ? blocks.alloc(tile * dim * 4) : 0;
    const iota = needsDecode ? blocks.alloc(tile * 4) : 0;
    // mode "ggml": a row's block scales, or a row unpacked for batches
    const intScratch = act ? blocks.alloc(k.activation_scratch_bytes(table.info.id, dim)) : 0;
    const slice = blocks.alloc(nbMax * stride * 4);
    if (needsDecode) {
      const u32 = mem.u32();
      for (let i = 0; i < tile; i++) u32[(iota >>> 2) + i] = i;
    }
    const tablePtr = table.ptr;
    for (let b0 = 0; b0 < n; b0 += batch) {
      const nb = Math.min(batch, n - b0);
      let nf = 0;
      for (let r0 = 0; r0 < vocab; r0 += stride) {
        const rows = Math.min(stride, vocab - r0);
        if (act) {
          k.project_int(table.info.id, tablePtr + r0 * rowBytes, rowBytes, rows, act + b0 * actBytes, nb, dim, slice, stride, intScratch);
        } else {
          k.project_rows(
            table.info.id, tablePtr + r0 * rowBytes, rowBytes, rows, xPtr + b0 * dim * 4, nb, dim,
            scratch, iota, tile, slice, stride,
          );
        }
        // rows with an Inf or NaN block scale: again one vector at a time, so that the batch size (and the mode)
        // cannot change whether they come out +-Inf or NaN (see formats/nonfinite.ts)
        for (; nf < nonFinite.length && nonFinite[nf] < r0 + rows; nf++) {
          const r = nonFinite[nf];
          for (let b = 0; b < nb; b++) {
            k.project_rows(
              table.info.id, tablePtr + r * rowBytes, rowBytes, 1, xPtr + (b0 + b) * dim * 4, 1, dim,
              scratch, iota, tile, slice + (b * stride + r - r0) * 4, stride,
            );
          }
        }
        visit({ ptr: slice, stride, b0, nb, r0, rows });
      }
    }
  } finally {
    blocks.free();
  }
}

const NON_FINITE = new WeakMap<EmbeddingTable, number[]>();

/** The table's rows with a non-finite block scale, found once per table. */
export function nonFiniteOf(table: EmbeddingTable): number[] {
  let rows = NON_FINITE.get(table);
  if (rows === undefined) {
    rows = nonFiniteRows(table.runtime.memory.u8(), table.ptr, table.rowBytes, table.vocab, table.info);
    NON_FINITE.set(table, rows);
  }
  return rows;
}

/** table.project: N * V logits. */
export function project(table: EmbeddingTable, hidden: Float32Array, options: ProjectOptions = {}): Float32Array {
  checkTable(table, "table");
  const { vocab, dim } = table;
  const mem = table.runtime.memory;
  // every value the caller supplies is read once, before linear memory is touched
  const { mode: modeOption, out, scale: scaleOption, softcap: capOption } = options ?? {};
  hidden = f32In(hidden, "hidden", mem);
  const n = hiddenCount(hidden, dim);
  const mode = checkMode(modeOption, table.format);
  const { scale, cap } = checkPost(scaleOption, capOption);
  const target = new F32Out(mem, out, "out", n * vocab, `${n} hidden vectors x vocab ${vocab}`);
  const result = target.array;
  void table.ptr; // throws when disposed
  const post = table.runtime.kernels.logits_post;
  const scratch = mem.scratch();
  try {
    const prepared = prepareHidden(table, hidden, n, mode, scratch);
    if (mode === "fast") {
      table.fastHead().projectAt(prepared.x, n, result, { scale, cap });
      return target.finish();
    }
    forEachSlice(table, prepared, n, ({ ptr, stride, b0, nb, r0, rows }) => {
      if (scale !== 1 || cap > 0) post(ptr, nb * stride, scale, cap);
      const f32 = mem.f32();
      for (let b = 0; b < nb; b++) {
        const at = (ptr >>> 2) + b * stride;
        result.set(f32.subarray(at, at + rows), (b0 + b) * vocab + r0);
      }
    });
  } finally {
    scratch.free();
  }
  return target.finish();
}

/** Heaps for N vectors of K entries in wasm memory, filled slice by slice, read out best first. */
export class Heaps {
  readonly scores: number;
  readonly ids: number;
  readonly sizes: number;
  /** The three blocks come from `scratch`, which frees them. */
  constructor(
    private readonly table: { runtime: Runtime },
    readonly n: number,
    readonly k: number,
    scratch: Scratch,
  ) {
    const mem = table.runtime.memory;
    this.scores = scratch.alloc(n * k * 4);
    this.ids = scratch.alloc(n * k * 4);
    this.sizes = scratch.alloc(n * 4);
    mem.i32().fill(0, this.sizes >>> 2, (this.sizes >>> 2) + n);
  }

  push({ ptr, stride, b0, nb, r0, rows }: Slice): void {
    this.table.runtime.kernels.topk_push(
      ptr, rows, stride, nb, r0, this.k, this.scores + b0 * this.k * 4, this.ids + b0 * this.k * 4, this.sizes + b0 * 4,
    );
  }

  /** Sorted results; `post` (scale, cap) applies to the kept scores (both keep the order). */
  finish(scale = 1, cap = 0): TopK {
    const { n, k } = this;
    const kernels = this.table.runtime.kernels;
    kernels.topk_finish(n, k, this.scores, this.ids, this.sizes);
    if (scale !== 1 || cap > 0) kernels.logits_post(this.scores, n * k, scale, cap);
    const mem = this.table.runtime.memory;
    const ids = mem.i32().slice(this.ids >>> 2, (this.ids >>> 2) + n * k);
    const scores = mem.f32().slice(this.scores >>> 2, (this.scores >>> 2) + n * k);
    const sizes = mem.i32().subarray(this.sizes >>> 2, (this.sizes >>> 2) + n);
    for (let b = 0; b < n; b++) {
      ids.fill(-1, b * k + sizes[b], (b + 1) * k);
      scores.fill(NaN, b * k + sizes[b], (b + 1) * k);
    }
    return { ids, scores };
  }
}

/** table.topk: the K best rows per hidden vector, without materialising the logits outside wasm. */
export function topk(table: EmbeddingTable, hidden: Float32Array, k: number, options: TopKOptions = {}): TopK {
  checkTable(table, "table");
  const mem = table.runtime.memory;
  const { mode: modeOption, scale: scaleOption, softcap: capOption } = options ?? {};
  hidden = f32In(hidden, "hidden", mem);
  const n = hiddenCount(hidden, table.dim);
  checkK(k, table.vocab);
  const mode = checkMode(modeOption, table.format);
  const { scale, cap } = checkPost(scaleOption, capOption);
  void table.ptr;
  const scratch = mem.scratch();
  try {
    const prepared = prepareHidden(table, hidden, n, mode, scratch);
    const heaps = new Heaps(table, n, k, scratch);
    if (mode === "fast") pushHead(table.fastHead(), prepared.x, n, heaps);
    else forEachSlice(table, prepared, n, (s) => heaps.push(s));
    return heaps.finish(scale, cap);
  } finally {
    scratch.free();
  }
}

/** table.argmax: the best row per hidden vector. */
export function argmax(table: EmbeddingTable, hidden: Float32Array, options: TopKOptions = {}): Int32Array {
  return topk(table, hidden, 1, options).ids;
}

// Fast mode: the lookup-table kernels leave each batch's logits in linear memory, where the heaps read them.
function pushHead(head: FastHead, xPtr: number, n: number, heaps: Heaps): void {
  head.projectAt(xPtr, n, ({ ptr, stride, v0, m }) => heaps.push({ ptr, stride, b0: v0, nb: m, r0: 0, rows: head.vocab }));
}

/**
 * The K best rows of a FastHead (one built with FastHead.fromBytes needs no table) per hidden vector, by
 * lookup tables: the logits never leave wasm memory. Same checks and results as table.topk in mode "fast".
 */
export function fastTopk(head: FastHead, hidden: Float32Array, k: number, options: Omit<TopKOptions, "mode"> = {}): TopK {
  if (!(head instanceof FastHead)) throw errors.notOurs("head", "a FastHead", head);
  head.ptr; // throws when disposed
  const rt = head.runtime;
  const { scale: scaleOption, softcap: capOption } = options ?? {};
  hidden = f32In(hidden, "hidden", rt.memory);
  const n = hiddenCount(hidden, head.dim);
  checkK(k, head.vocab);
  const { scale, cap } = checkPost(scaleOption, capOption);
  const scratch = rt.memory.scratch();
  try {
    const xPtr = copyHidden({ runtime: rt, dim: head.dim }, hidden, scratch);
    const heaps = new Heaps({ runtime: rt }, n, k, scratch);
    pushHead(head, xPtr, n, heaps);
    return heaps.finish(scale, cap);
  } finally {
    scratch.free();
  }
}

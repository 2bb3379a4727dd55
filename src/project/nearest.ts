// Nearest rows to a query vector (cosine, dot or Euclidean) and word analogies, over the packed table.
// Row norms are computed once per table, in wasm, on first use, and kept until the table is disposed.
// Keys: V vocab, D dim, K results.
import { errors } from "../core/errors.js";
import { snapshotIds, type Ids } from "../core/ids.js";
import { f32In } from "../core/arrays.js";
import { checkTable } from "../tables/brand.js";
import { checkK, checkMode, forEachSlice, Heaps, prepareHidden, type TopK } from "./project.js";
import type { EmbeddingTable } from "../tables/table.js";

export type Metric = "cosine" | "dot" | "l2";
export const METRICS: readonly Metric[] = Object.freeze(["cosine", "dot", "l2"]);

export interface NearestOptions {
  /** Default "cosine". Scores are cosine similarities, dot products, or Euclidean distances (ascending). */
  metric?: Metric;
  /** Row ids never returned (for instance the query's own id). */
  exclude?: Ids;
  /** How the dot products are computed: "exact", or "ggml" (integer dots over the query quantized as llama.cpp
   * quantizes activations, where the format has them). Default: "ggml" where that is the format's default
   * projection mode, else "exact". Row norms are exact either way. */
  mode?: "exact" | "ggml";
}

const TILE_BYTES = 1 << 14;

/** Pointer to V f32 row norms, computed on first call and cached on the table. */
export function rowNorms(table: EmbeddingTable): number {
  return table.rowNorms(() => computeRowNorms(table));
}

/** Rows decoded at a time for the row norms. */
export function normsTile(vocab: number, dim: number): number {
  return Math.min(vocab, Math.max(1, Math.floor(TILE_BYTES / (dim * 4))));
}

function computeRowNorms(table: EmbeddingTable): number {
  const { vocab, dim, rowBytes } = table;
  const mem = table.runtime.memory;
  const tile = normsTile(vocab, dim);
  const scratch = mem.scratch();
  try {
    const norms = scratch.alloc(vocab * 4);
    const rows = scratch.alloc(tile * dim * 4);
    const iota = scratch.alloc(tile * 4);
    const u32 = mem.u32();
    for (let i = 0; i < tile; i++) u32[(iota >>> 2) + i] = i;
    table.runtime.kernels.row_norms(table.info.id, table.ptr, rowBytes, vocab, dim, rows, iota, tile, norms);
    return scratch.keep(norms);
  } finally {
    scratch.free();
  }
}

function checkMetric(metric: unknown): Metric {
  if (metric === undefined) return "cosine";
  if (!METRICS.includes(metric as Metric)) throw errors.unknownMetric(metric, METRICS);
  return metric as Metric;
}

function checkExclude(exclude: unknown, vocab: number): Uint32Array {
  if (exclude === undefined) return new Uint32Array(0);
  return snapshotIds(exclude, vocab, "exclude").sort();
}

/** A nearest() call's checked inputs: what both the single-thread and the threaded calls run on. */
export interface NearestQuery {
  vector: Float32Array;
  metric: Metric;
  /** Excluded row ids, ascending. */
  exclude: Uint32Array;
  mode: "exact" | "ggml";
  /** |vector|^2, summed in f64 as the scores kernels expect it. */
  sq: number;
}

/** Check nearest()'s arguments, in the order the single-thread call always checked them. */
export function nearestQuery(table: EmbeddingTable, vector: Float32Array, k: number, options: NearestOptions = {}): NearestQuery {
  checkTable(table, "table");
  const { vocab, dim } = table;
  const { metric: metricOption, exclude: excludeOption, mode: modeOption } = options ?? {};
  vector = f32In(vector, "vector", table.runtime.memory);
  if (vector.length !== dim) throw errors.outLength("vector", vector.length, dim, `one vector of dim ${dim}`);
  checkK(k, vocab);
  const metric = checkMetric(metricOption);
  const exclude = checkExclude(excludeOption, vocab);
  const mode = checkMode(modeOption ?? (table.info.defaultMode === "ggml" ? "ggml" : "exact"), table.format) === "ggml" ? "ggml" : "exact";
  void table.ptr;
  let sq = 0;
  for (let j = 0; j < dim; j++) sq += vector[j] * vector[j];
  return { vector, metric, exclude, mode, sq };
}

/** The kernel that turns dot products into the metric's scores, in place (none for "dot"). */
export function metricCall(q: NearestQuery): { name: "scores_cosine" | "scores_l2"; x: number } | undefined {
  if (q.metric === "cosine") return { name: "scores_cosine", x: Math.fround(Math.sqrt(q.sq)) };
  if (q.metric === "l2") return { name: "scores_l2", x: Math.fround(q.sq) };
  return undefined;
}

/** Set the excluded rows among rows [r0, r0 + rows) of a scores block to NaN (never ranked); `e` the next exclusion. */
export function excludeRows(q: NearestQuery, f32: Float32Array, ptr: number, r0: number, rows: number, e: number): number {
  for (; e < q.exclude.length && q.exclude[e] < r0 + rows; e++) f32[(ptr >>> 2) + q.exclude[e] - r0] = NaN;
  return e;
}

/** The heaps read out; "l2": negated squared distances back to distances, ascending. */
export function nearestResult(q: NearestQuery, heaps: Heaps): TopK {
  const result = heaps.finish();
  if (q.metric === "l2") {
    const d = result.scores;
    for (let i = 0; i < d.length; i++) d[i] = Math.sqrt(Math.max(0, -d[i]));
  }
  return result;
}

/** table.nearest: the K rows nearest to `vector` (D values), best first. */
export function nearest(table: EmbeddingTable, vector: Float32Array, k: number, options: NearestOptions = {}): TopK {
  const q = nearestQuery(table, vector, k, options);
  const kernels = table.runtime.kernels;
  const mem = table.runtime.memory;
  const scratch = mem.scratch();
  try {
    const prepared = prepareHidden(table, q.vector, 1, q.mode, scratch, "vector");
    const norms = q.metric === "dot" ? 0 : rowNorms(table);
    const heaps = new Heaps(table, 1, k, scratch);
    const score = metricCall(q);
    let e = 0;
    forEachSlice(table, prepared, 1, (s) => {
      if (score) kernels[score.name](s.ptr, norms + s.r0 * 4, s.rows, score.x);
      e = excludeRows(q, mem.f32(), s.ptr, s.r0, s.rows, e);
      heaps.push(s);
    });
    return nearestResult(q, heaps);
  } finally {
    scratch.free();
  }
}

/** analogy()'s query: unit(a) - unit(b) + unit(c), with a, b and c checked. */
export function analogyVector(table: EmbeddingTable, a: number, b: number, c: number): Float32Array {
  checkTable(table, "table");
  const { vocab } = table;
  for (const [name, id] of [["a", a], ["b", b], ["c", c]] as const) {
    if (!(Number.isInteger(id) && id >= 0 && id < vocab)) throw errors.option(name, id, `a row id in [0, ${vocab - 1}]`);
  }
  const rows = table.lookup([a, b, c]);
  const { dim } = table;
  const v = new Float32Array(dim);
  [1, -1, 1].forEach((sign, i) => {
    const row = rows.subarray(i * dim, (i + 1) * dim);
    let sq = 0;
    for (let j = 0; j < dim; j++) sq += row[j] * row[j];
    const f = sq > 0 ? sign / Math.sqrt(sq) : 0;
    for (let j = 0; j < dim; j++) v[j] += row[j] * f;
  });
  return v;
}

/**
 * table.analogy: rows nearest (cosine) to unit(a) - unit(b) + unit(c), excluding a, b and c — "a is to b
 * as ? is to c" read as king - man + woman -> queen. Each input row is normalised first, as word2vec does.
 * see: Mikolov et al., "Linguistic Regularities in Continuous Space Word Representations" (2013), §4.
 */
export function analogy(table: EmbeddingTable, a: number, b: number, c: number, k: number): TopK {
  return nearest(table, analogyVector(table, a, b, c), k, { metric: "cosine", exclude: [a, b, c] });
}

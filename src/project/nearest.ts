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

function computeRowNorms(table: EmbeddingTable): number {
  const { vocab, dim, rowBytes } = table;
  const mem = table.runtime.memory;
  const tile = Math.min(vocab, Math.max(1, Math.floor(TILE_BYTES / (dim * 4))));
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

/** table.nearest: the K rows nearest to `vector` (D values), best first. */
export function nearest(table: EmbeddingTable, vector: Float32Array, k: number, options: NearestOptions = {}): TopK {
  checkTable(table, "table");
  const { vocab, dim } = table;
  const kernels = table.runtime.kernels;
  const mem = table.runtime.memory;
  const { metric: metricOption, exclude: excludeOption, mode: modeOption } = options ?? {};
  vector = f32In(vector, "vector", mem);
  if (vector.length !== dim) throw errors.outLength("vector", vector.length, dim, `one vector of dim ${dim}`);
  checkK(k, vocab);
  const metric = checkMetric(metricOption);
  const exclude = checkExclude(excludeOption, vocab);
  const mode = checkMode(modeOption ?? (table.info.defaultMode === "ggml" ? "ggml" : "exact"), table.format) === "ggml" ? "ggml" : "exact";
  void table.ptr;
  let sq = 0;
  for (let j = 0; j < dim; j++) sq += vector[j] * vector[j];
  const scratch = mem.scratch();
  try {
    const prepared = prepareHidden(table, vector, 1, mode, scratch, "vector");
    const norms = metric === "dot" ? 0 : rowNorms(table);
    const heaps = new Heaps(table, 1, k, scratch);
    let e = 0;
    forEachSlice(table, prepared, 1, (s) => {
      if (metric === "cosine") kernels.scores_cosine(s.ptr, norms + s.r0 * 4, s.rows, Math.fround(Math.sqrt(sq)));
      else if (metric === "l2") kernels.scores_l2(s.ptr, norms + s.r0 * 4, s.rows, Math.fround(sq));
      const f32 = mem.f32();
      for (; e < exclude.length && exclude[e] < s.r0 + s.rows; e++) f32[(s.ptr >>> 2) + exclude[e] - s.r0] = NaN;
      heaps.push(s);
    });
    const result = heaps.finish();
    if (metric === "l2") {
      // negated squared distances back to distances, ascending
      const d = result.scores;
      for (let i = 0; i < d.length; i++) d[i] = Math.sqrt(Math.max(0, -d[i]));
    }
    return result;
  } finally {
    scratch.free();
  }
}

/**
 * table.analogy: rows nearest (cosine) to unit(a) - unit(b) + unit(c), excluding a, b and c — "a is to b
 * as ? is to c" read as king - man + woman -> queen. Each input row is normalised first, as word2vec does.
 * see: Mikolov et al., "Linguistic Regularities in Continuous Space Word Representations" (2013), §4.
 */
export function analogy(table: EmbeddingTable, a: number, b: number, c: number, k: number): TopK {
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
  return nearest(table, v, k, { metric: "cosine", exclude: [a, b, c] });
}

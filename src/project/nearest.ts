// Nearest rows to a query vector (cosine, dot or Euclidean) and word analogies, over the packed table.
// Row norms are computed once per table, in wasm, on first use, and kept until the table is disposed.
// Keys: V vocab, D dim, K results.
import { errors } from "../core/errors.js";
import { checkIdsKind, type Ids } from "../core/ids.js";
import { checkK, copyHidden, forEachSlice, Heaps, type TopK } from "./project.js";
import type { EmbeddingTable } from "../tables/table.js";

export type Metric = "cosine" | "dot" | "l2";
export const METRICS: readonly Metric[] = Object.freeze(["cosine", "dot", "l2"]);

export interface NearestOptions {
  /** Default "cosine". Scores are cosine similarities, dot products, or Euclidean distances (ascending). */
  metric?: Metric;
  /** Row ids never returned (for instance the query's own id). */
  exclude?: Ids;
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
  const norms = mem.alloc(vocab * 4);
  const scratch = mem.alloc(tile * dim * 4);
  const iota = mem.alloc(tile * 4);
  try {
    const u32 = mem.u32();
    for (let i = 0; i < tile; i++) u32[(iota >>> 2) + i] = i;
    table.runtime.kernels.row_norms(table.info.id, table.ptr, rowBytes, vocab, dim, scratch, iota, tile, norms);
  } catch (e) {
    mem.dealloc(norms);
    throw e;
  } finally {
    mem.dealloc(scratch);
    mem.dealloc(iota);
  }
  return norms;
}

function checkMetric(metric: unknown): Metric {
  if (metric === undefined) return "cosine";
  if (!METRICS.includes(metric as Metric)) throw errors.unknownMetric(metric, METRICS);
  return metric as Metric;
}

function checkExclude(exclude: unknown, vocab: number): number[] {
  if (exclude === undefined) return [];
  checkIdsKind(exclude);
  const ids = Array.from(exclude as ArrayLike<number>);
  ids.forEach((id, i) => {
    if (!(Number.isInteger(id) && id >= 0 && id < vocab)) throw errors.idOutOfRange(id, i, vocab, "exclude");
  });
  return ids.sort((a, b) => a - b);
}

/** table.nearest: the K rows nearest to `vector` (D values), best first. */
export function nearest(table: EmbeddingTable, vector: Float32Array, k: number, options: NearestOptions = {}): TopK {
  table.ptr;
  const { vocab, dim } = table;
  if (!(vector instanceof Float32Array)) throw errors.outKind("vector", vector);
  if (vector.length !== dim) throw errors.outLength("vector", vector.length, dim, `one vector of dim ${dim}`);
  checkK(k, vocab);
  const metric = checkMetric(options.metric);
  const exclude = checkExclude(options.exclude, vocab);
  const kernels = table.runtime.kernels;
  const mem = table.runtime.memory;
  const norms = metric === "dot" ? 0 : rowNorms(table);
  let sq = 0;
  for (let j = 0; j < dim; j++) sq += vector[j] * vector[j];
  const xPtr = copyHidden(table, vector, "vector");
  const heaps = new Heaps(table, 1, k);
  try {
    let e = 0;
    forEachSlice(table, xPtr, 1, (s) => {
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
    heaps.free();
    mem.dealloc(xPtr);
  }
}

/**
 * table.analogy: rows nearest (cosine) to unit(a) - unit(b) + unit(c), excluding a, b and c — "a is to b
 * as ? is to c" read as king - man + woman -> queen. Each input row is normalised first, as word2vec does.
 * see: Mikolov et al., "Linguistic Regularities in Continuous Space Word Representations" (2013), §4.
 */
export function analogy(table: EmbeddingTable, a: number, b: number, c: number, k: number): TopK {
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

// nearestAsync and analogyAsync: table.nearest on the worker pool. The dot products are exactPasses' units
// (project_rows, or project_int in mode "ggml" with integer dots), each unit turning its rows' dots into the
// metric's scores (scores_cosine, scores_l2: one row at a time, so any cut gives the same bits); the caller
// marks the excluded rows and pushes all V scores into the same heap the single-thread call fills slice by
// slice (row order kept, so ties break the same way). Row norms, computed once per table, are cut into units
// of whole decode tiles. Calls that would run on the calling thread in projectAsync do so here too.
// Keys: V vocab, D dim, K results.
import { excludeRows, metricCall, nearest, nearestQuery, nearestResult, analogyVector, normsTile, type NearestOptions } from "../project/nearest.js";
import { Heaps, prepareHidden, type TopK } from "../project/project.js";
import type { EmbeddingTable } from "../tables/table.js";
import type { Call, WorkerPool } from "./pool.js";
import { exactPasses, poolFor } from "./project.js";
import { guidedLength, minUnit } from "./units.js";

/** table.nearestAsync: table.nearest's ids and scores, bit for bit (ties too), on the runtime's threads. */
export async function nearestAsync(table: EmbeddingTable, vector: Float32Array, k: number, options: NearestOptions = {}): Promise<TopK> {
  const q = nearestQuery(table, vector, k, options);
  const pool = poolFor(table, 1, q.mode);
  if (pool === undefined) return nearest(table, vector, k, options);
  const mem = table.runtime.memory;
  const { vocab } = table;
  const scratch = mem.scratch();
  try {
    const prepared = prepareHidden(table, q.vector, 1, q.mode, scratch, "vector");
    const norms = q.metric === "dot" ? 0 : await rowNormsAsync(table, pool);
    const heaps = new Heaps(table, 1, k, scratch);
    const score = metricCall(q);
    const after = (ptr: number, r0: number, rows: number): Call[] => (score ? [[score.name, ptr, norms + r0 * 4, rows, score.x]] : []);
    await exactPasses(table, prepared.x, prepared.act, 1, pool, after, (ptr) => {
      excludeRows(q, mem.f32(), ptr, 0, vocab, 0);
      heaps.push({ ptr, stride: vocab, b0: 0, nb: 1, r0: 0, rows: vocab });
    });
    return nearestResult(q, heaps);
  } finally {
    scratch.free();
  }
}

/** table.analogyAsync: table.analogy on the runtime's threads. */
export function analogyAsync(table: EmbeddingTable, a: number, b: number, c: number, k: number): Promise<TopK> {
  try {
    return nearestAsync(table, analogyVector(table, a, b, c), k, { metric: "cosine", exclude: [a, b, c] });
  } catch (e) {
    return Promise.reject(e);
  }
}

// The table's row norms (as rowNorms computes them), computed on the workers on first use.
async function rowNormsAsync(table: EmbeddingTable, pool: WorkerPool): Promise<number> {
  const have = table.derivedSoFar.norms;
  if (have !== undefined) return have;
  const { vocab, dim, rowBytes } = table;
  const mem = table.runtime.memory;
  const tile = normsTile(vocab, dim);
  const min = minUnit(vocab, pool.size);
  const norms = mem.alloc(vocab * 4);
  let iota = 0;
  try {
    iota = mem.alloc(tile * 4);
    const u32 = mem.u32();
    for (let i = 0; i < tile; i++) u32[(iota >>> 2) + i] = i;
    const units: Call[][] = [];
    for (let r0 = 0, rows = 0; r0 < vocab; r0 += rows) {
      rows = guidedLength(vocab - r0, pool.size, tile, min);
      units.push([["row_norms", table.info.id, table.ptr + r0 * rowBytes, rowBytes, rows, dim, "$0", iota, tile, norms + r0 * 4]]);
    }
    await pool.run(units, [tile * dim * 4]);
  } catch (e) {
    mem.dealloc(norms);
    throw e;
  } finally {
    if (iota) mem.dealloc(iota);
  }
  return table.adoptRowNorms(norms);
}

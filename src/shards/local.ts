// A shard's side of the merge, over the logits of its rows: local top-k (global ids, ties by lower id), max
// and sum exp((logit - max) / T) in float64, the local Gumbel-max winner, and localShard: a HeadShardLike over
// an in-process table holding rows [start, start + vocab) of a head.
// Mode: the table's default projection mode (fast where the format has lookup-table kernels, exact
// otherwise), or the one passed; a row's logit does not depend on which other rows share its table, so a
// sharded head gives the ids and scores one table gives in the same mode.
// Keys: R rows of the shard, K results.
import { errors } from "../core/errors.js";
import { checkMode, type ProjectMode } from "../project/project.js";
import type { EmbeddingTable } from "../tables/table.js";
import { gumbelNoise, seedOf, temperatureOf, type HeadShardLike, type SampleOptions, type ShardTopK, type ShardTopKOptions } from "./sharded.js";

/** The K best of R logits (rows start.. in global numbering), max and sum exp((logit - max) / T). */
export function shardTopk(logits: Float32Array, start: number, k: number, temperature = 1): ShardTopK {
  const rows = logits.length;
  const t = temperatureOf(temperature);
  let max = -Infinity;
  for (let r = 0; r < rows; r++) if (logits[r] > max) max = logits[r];
  let sumExp = 0;
  for (let r = 0; r < rows; r++) sumExp += Math.exp((logits[r] - max) / t);
  const n = Math.min(k, rows);
  // a min-heap of the n best so far: worst at the root (lower score, or equal score and higher id)
  const heap = new Int32Array(n);
  let size = 0;
  const worse = (a: number, b: number) => logits[a] < logits[b] || (logits[a] === logits[b] && a > b);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && worse(heap[l], heap[m])) m = l;
      if (r < size && worse(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let r = 0; r < rows; r++) {
    if (Number.isNaN(logits[r])) continue;
    if (size < n) {
      let i = size++;
      heap[i] = r;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(heap[i], heap[p])) break;
        [heap[i], heap[p]] = [heap[p], heap[i]];
        i = p;
      }
    } else if (worse(heap[0], r)) {
      heap[0] = r;
      down(0);
    }
  }
  const order = Array.from(heap.subarray(0, size)).sort((a, b) => logits[b] - logits[a] || a - b);
  return {
    ids: Int32Array.from(order, (r) => r + start),
    scores: Float32Array.from(order, (r) => logits[r]),
    max,
    sumExp,
  };
}

/** The Gumbel-max winner among R logits (rows start..): largest logit / T + gumbelNoise(seed, id), ties by lower id. */
export function shardSample(logits: Float32Array, start: number, opts: SampleOptions): { id: number; key: number } {
  const t = temperatureOf(opts?.temperature);
  const seed = seedOf(opts?.seed);
  let id = -1;
  let key = -Infinity;
  for (let r = 0; r < logits.length; r++) {
    const x = logits[r] / t + gumbelNoise(seed, start + r);
    if (x > key || id < 0) {
      key = x;
      id = start + r;
    }
  }
  return { id, key };
}

export interface LocalShardOptions {
  /** Projection mode (default: the table's default, "fast" where the format has it, else "exact"). */
  mode?: ProjectMode;
}

/** An in-process HeadShardLike over rows [start, start + table.vocab) of a head, held by `table`. */
export function localShard(table: EmbeddingTable, start: number, options: LocalShardOptions = {}): HeadShardLike & { mode: ProjectMode } {
  if (!(Number.isInteger(start) && start >= 0)) throw errors.option("start", start, "an integer >= 0");
  const mode = checkMode(options.mode, table.format);
  const end = start + table.vocab;
  const logits = (hidden: Float32Array, o: ShardTopKOptions) =>
    table.project(hidden, { mode, scale: o.scale, softcap: o.softcap });
  return {
    start,
    end,
    dim: table.dim,
    mode,
    async topk(hidden, k, opts = {}) {
      return shardTopk(logits(hidden, opts), start, k, opts.temperature);
    },
    async sample(hidden, opts) {
      return shardSample(logits(hidden, opts), start, opts);
    },
    async lookup(ids) {
      const local = new Int32Array(ids.length);
      for (let p = 0; p < ids.length; p++) {
        const id = ids[p];
        if (!(Number.isInteger(id) && id >= start && id < end)) throw errors.option(`ids[${p}]`, id, `a row of this shard, in [${start}, ${end})`);
        local[p] = id - start;
      }
      return table.lookup(local);
    },
  };
}

// Vocabulary-parallel LM heads: a coordinator (ShardedHead) over shards that each hold rows [start, end) of
// one head (Megatron's VocabParallelEmbedding, vLLM's vocab-parallel head). Each shard answers with its local
// top-k, its local max logit and sum of exp((logit - max) / T); the coordinator merges them exactly:
//   M = max_s max_s,   log sum_v exp(logit_v / T) = M / T + log sum_s sumExp_s * exp((max_s - M) / T)
// and the global top-k is the best k of the union of the local top-ks (ties by lower id), so ids and scores
// are those of one table, and probabilities are the global softmax's. Sampling is Gumbel-max: the key of row v
// is logit_v / T + g(seed, v), g a Gumbel(0, 1) draw that depends on the seed and the global id alone, so the
// largest key over shards is the largest key over the whole head: the same winner as one process.
// see: Megatron-LM (arXiv:1909.08053) §3 parallel vocab; Gumbel-max trick (Maddison et al., arXiv:1411.0080).
// Keys: V vocab (the union of the ranges), D dim, K results, T temperature.
import { errors } from "../core/errors.js";

/** What a shard's topk returns: its best rows (global ids, best first), its max logit, sum exp((logit - max) / T). */
export interface ShardTopK {
  ids: Int32Array;
  scores: Float32Array;
  max: number;
  sumExp: number;
}

export interface ShardTopKOptions {
  /** Softmax temperature (> 0; default 1). */
  temperature?: number;
  /** Multiply every logit by this before anything else (default 1). */
  scale?: number;
  /** Gemma-2 soft-capping after scaling (default: none). */
  softcap?: number;
}

export interface SampleOptions {
  /** > 0 (default 1). */
  temperature?: number;
  /** An integer in [0, 2^32): the same seed draws the same row. */
  seed: number;
  scale?: number;
  softcap?: number;
}

/**
 * Rows [start, end) of a head: a Durable Object stub (wrapped so start, end and dim are plain numbers), an
 * in-process shard (localShard), a worker thread, anything with these async methods.
 */
export interface HeadShardLike {
  readonly start: number;
  readonly end: number;
  readonly dim: number;
  topk(hidden: Float32Array, k: number, opts?: ShardTopKOptions): Promise<ShardTopK>;
  /** Rows of global `ids` (each in [start, end)), [ids.length x dim]. */
  lookup(ids: Int32Array): Promise<Float32Array>;
  /** The local Gumbel-max winner: its global id and key logit / T + g(seed, id). */
  sample(hidden: Float32Array, opts: SampleOptions): Promise<{ id: number; key: number }>;
}

export interface ShardedHeadOptions {
  /** Milliseconds a shard may take to answer one call before it counts as failed (default 30000). */
  timeoutMs?: number;
  /** Merge what the answering shards give when some fail, instead of throwing (default false). */
  allowPartial?: boolean;
}

export interface MissingRange {
  shard: number;
  start: number;
  end: number;
  error: string;
}

export interface ShardedTopK {
  /** K global ids, best first. */
  ids: Int32Array;
  scores: Float32Array;
  /** Global softmax probabilities exp(score / T - logSumExp) of those ids. */
  probs: Float32Array;
  /** log sum_v exp(logit_v / T) over the whole head (over the answering shards when some are missing). */
  logSumExp: number;
  /** With allowPartial: the ranges whose shard failed (empty when every shard answered). */
  missing: MissingRange[];
}

/** A coordinator over shards of one head: parallel fan-out, exact merge. */
export class ShardedHead {
  readonly vocab: number;
  readonly dim: number;
  readonly shards: readonly HeadShardLike[];
  private readonly timeoutMs: number;
  private readonly allowPartial: boolean;

  constructor(shards: readonly HeadShardLike[], options: ShardedHeadOptions = {}) {
    if (!Array.isArray(shards) || shards.length === 0) throw errors.shardRanges(`got ${describeList(shards)}`);
    const sorted = [...shards].sort((a, b) => a.start - b.start);
    let at = 0;
    const dim = sorted[0].dim;
    for (const s of sorted) {
      if (!(Number.isInteger(s.start) && Number.isInteger(s.end) && s.end > s.start)) {
        throw errors.shardRanges(`a shard holds [${s.start}, ${s.end})`);
      }
      if (s.start !== at) throw errors.shardRanges(`rows [${at}, ${s.start}) are ${s.start > at ? "in no shard" : "in two"}`);
      if (s.dim !== dim) throw errors.shardRanges(`shard [${s.start}, ${s.end}) has dim ${s.dim}, another ${dim}`);
      at = s.end;
    }
    if (!(Number.isInteger(dim) && dim > 0)) throw errors.notPositiveInt("dim", dim);
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!(typeof timeoutMs === "number" && timeoutMs > 0)) throw errors.option("timeoutMs", timeoutMs, "a number > 0");
    this.shards = Object.freeze(sorted);
    this.vocab = at;
    this.dim = dim;
    this.timeoutMs = timeoutMs;
    this.allowPartial = options.allowPartial ?? false;
  }

  /** The K best rows of one hidden vector over every shard, their global softmax probabilities and log-sum-exp. */
  async topk(
    hidden: Float32Array,
    k: number,
    opts: ShardTopKOptions & { allowPartial?: boolean; timeoutMs?: number } = {},
  ): Promise<ShardedTopK> {
    this.checkHidden(hidden);
    if (!(typeof k === "number" && Number.isInteger(k) && k >= 1 && k <= this.vocab)) {
      throw errors.option("k", k, `an integer in [1, ${this.vocab}] (the head's vocab)`);
    }
    const t = temperatureOf(opts.temperature);
    const shardOpts: ShardTopKOptions = { temperature: t };
    if (opts.scale !== undefined) shardOpts.scale = opts.scale;
    if (opts.softcap !== undefined) shardOpts.softcap = opts.softcap;
    const { answers, missing } = await this.fanOut(
      (s) => s.topk(hidden, k, shardOpts),
      opts,
    );
    // check each answer, then merge: the global max, the rescaled sums, the best K of the union
    let m = -Infinity;
    const ids: number[] = [];
    const scores: number[] = [];
    for (const [i, r] of answers) {
      const s = this.shards[i];
      const want = Math.min(k, s.end - s.start);
      if (!(r && r.ids instanceof Int32Array && r.scores instanceof Float32Array)) {
        throw errors.shardReply(i, s.start, s.end, "topk must return { ids: Int32Array, scores: Float32Array, max, sumExp }");
      }
      if (r.ids.length !== want || r.scores.length !== want) {
        throw errors.shardReply(i, s.start, s.end, `${r.ids.length} ids and ${r.scores.length} scores for k ${k}, expected ${want}`);
      }
      if (!(typeof r.max === "number" && typeof r.sumExp === "number" && r.sumExp >= 1 && Number.isFinite(r.sumExp))) {
        throw errors.shardReply(i, s.start, s.end, `max ${r.max} and sumExp ${r.sumExp} (sumExp counts the max row: >= 1)`);
      }
      for (let j = 0; j < want; j++) {
        const id = r.ids[j];
        if (!(id >= s.start && id < s.end)) throw errors.shardReply(i, s.start, s.end, `id ${id} is not in its range`);
        ids.push(id);
        scores.push(r.scores[j]);
      }
      if (r.max > m) m = r.max;
    }
    let sum = 0;
    for (const [, r] of answers) sum += r.sumExp * Math.exp((r.max - m) / t);
    const logSumExp = m / t + Math.log(sum);
    const order = ids.map((_, j) => j).sort((a, b) => scores[b] - scores[a] || ids[a] - ids[b]);
    const n = Math.min(k, order.length);
    const out: ShardedTopK = {
      ids: new Int32Array(n),
      scores: new Float32Array(n),
      probs: new Float32Array(n),
      logSumExp,
      missing,
    };
    for (let j = 0; j < n; j++) {
      out.ids[j] = ids[order[j]];
      out.scores[j] = scores[order[j]];
      out.probs[j] = Math.exp(scores[order[j]] / t - logSumExp);
    }
    return out;
  }

  /**
   * One row drawn from softmax(logits / T) over the whole head by Gumbel-max (gumbelNoise): the shards' winners
   * compared, the largest key wins (ties by lower id). Every shard must answer: a partial draw is not exact.
   */
  async sample(hidden: Float32Array, opts: SampleOptions & { timeoutMs?: number }): Promise<{ id: number; key: number }> {
    this.checkHidden(hidden);
    const t = temperatureOf(opts?.temperature);
    const seed = seedOf(opts?.seed);
    const shardOpts: SampleOptions = { temperature: t, seed };
    if (opts.scale !== undefined) shardOpts.scale = opts.scale;
    if (opts.softcap !== undefined) shardOpts.softcap = opts.softcap;
    const { answers } = await this.fanOut((s) => s.sample(hidden, shardOpts), { ...opts, allowPartial: false });
    let best = { id: -1, key: -Infinity };
    for (const [i, r] of answers) {
      const s = this.shards[i];
      if (!(r && Number.isInteger(r.id) && r.id >= s.start && r.id < s.end && typeof r.key === "number")) {
        throw errors.shardReply(i, s.start, s.end, `sample returned id ${r?.id}, key ${r?.key}`);
      }
      if (r.key > best.key || (r.key === best.key && r.id < best.id) || best.id < 0) best = { id: r.id, key: r.key };
    }
    return best;
  }

  /** Rows of global `ids`, [ids.length x dim]: each id asked of the shard holding it, the shards in parallel. */
  async lookup(ids: Int32Array | Uint32Array | readonly number[], opts: { timeoutMs?: number } = {}): Promise<Float32Array> {
    if (!(ids instanceof Int32Array || ids instanceof Uint32Array || Array.isArray(ids))) throw errors.idsKind(ids);
    const { dim, vocab, shards } = this;
    const owner = new Int32Array(ids.length);
    const per: number[][] = shards.map(() => []);
    for (let p = 0; p < ids.length; p++) {
      const id = ids[p];
      if (!(Number.isInteger(id) && id >= 0 && id < vocab)) throw errors.idOutOfRange(id, p, vocab);
      let lo = 0;
      let hi = shards.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (shards[mid].start <= id) lo = mid;
        else hi = mid - 1;
      }
      owner[p] = lo;
      per[lo].push(p);
    }
    const out = new Float32Array(ids.length * dim);
    const { answers } = await this.fanOut(
      (s, i) => (per[i].length ? s.lookup(Int32Array.from(per[i], (p) => ids[p])) : Promise.resolve(new Float32Array(0))),
      { ...opts, allowPartial: false },
      (i) => per[i].length > 0,
    );
    for (const [i, rows] of answers) {
      const s = shards[i];
      if (!(rows instanceof Float32Array) || rows.length !== per[i].length * dim) {
        throw errors.shardReply(i, s.start, s.end, `lookup of ${per[i].length} ids returned ${describeList(rows)}, expected Float32Array(${per[i].length * dim})`);
      }
      per[i].forEach((p, j) => out.set(rows.subarray(j * dim, (j + 1) * dim), p * dim));
    }
    return out;
  }

  private checkHidden(hidden: unknown): asserts hidden is Float32Array {
    if (!(hidden instanceof Float32Array)) throw errors.outKind("hidden", hidden);
    if (hidden.length !== this.dim) throw errors.outLength("hidden", hidden.length, this.dim, `one hidden vector of dim ${this.dim}`);
    for (let j = 0; j < hidden.length; j++) if (Number.isNaN(hidden[j])) throw errors.hiddenNaN("hidden", j, this.dim);
  }

  // Call every (chosen) shard at once, each under the timeout; failures named by shard and range.
  private async fanOut<R>(
    call: (s: HeadShardLike, i: number) => Promise<R>,
    opts: { allowPartial?: boolean; timeoutMs?: number },
    chosen: (i: number) => boolean = () => true,
  ): Promise<{ answers: [number, R][]; missing: MissingRange[] }> {
    const ms = opts.timeoutMs ?? this.timeoutMs;
    const allowPartial = opts.allowPartial ?? this.allowPartial;
    const idx = this.shards.map((_, i) => i).filter(chosen);
    const settled = await Promise.allSettled(idx.map((i) => this.withTimeout(i, ms, () => call(this.shards[i], i))));
    const answers: [number, R][] = [];
    const missing: MissingRange[] = [];
    const failures: Error[] = [];
    settled.forEach((r, j) => {
      const i = idx[j];
      if (r.status === "fulfilled") answers.push([i, r.value]);
      else {
        const { start, end } = this.shards[i];
        failures.push(r.reason as Error);
        missing.push({ shard: i, start, end, error: (r.reason as Error)?.message ?? String(r.reason) });
      }
    });
    if (failures.length > 0 && (!allowPartial || answers.length === 0)) {
      if (failures.length === 1) throw failures[0];
      throw errors.shardsFailed(failures.map((e) => e.message), idx.length);
    }
    return { answers, missing };
  }

  private withTimeout<R>(i: number, ms: number, call: () => Promise<R>): Promise<R> {
    const { start, end } = this.shards[i];
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => reject(errors.shardTimeout(i, start, end, ms)), ms);
      let p: Promise<R>;
      try {
        p = Promise.resolve(call());
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e) => {
          clearTimeout(timer);
          reject(errors.shardFailed(i, start, end, e));
        },
      );
    });
  }
}

function describeList(x: unknown): string {
  if (Array.isArray(x)) return `Array(${x.length})`;
  if (ArrayBuffer.isView(x)) return `${x.constructor.name}(${(x as unknown as { length: number }).length})`;
  return x === null ? "null" : typeof x;
}

export function temperatureOf(t: unknown): number {
  if (t === undefined) return 1;
  if (!(typeof t === "number" && Number.isFinite(t) && t > 0)) throw errors.option("temperature", t, "a finite number > 0");
  return t;
}

export function seedOf(seed: unknown): number {
  if (!(typeof seed === "number" && Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) {
    throw errors.option("seed", seed, "an integer in [0, 2^32)");
  }
  return seed;
}

// murmur3's 32-bit finaliser
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The Gumbel(0, 1) draw of global row `id` under `seed`: -log(-log(u)), u in (0, 1) from 53 bits of two
 * murmur3-finalised hashes of (seed, id). A function of (seed, id) alone: any split of the rows draws alike.
 */
export function gumbelNoise(seed: number, id: number): number {
  const a = fmix32((seed ^ fmix32(id + 0x9e3779b9)) >>> 0);
  const b = fmix32((a ^ 0x27d4eb2f ^ id) >>> 0);
  const u = ((a >>> 5) * 67108864 + (b >>> 6) + 0.5) / 9007199254740992; // (27 bits * 2^26 + 26 bits + 1/2) / 2^53
  return -Math.log(-Math.log(u));
}

// ShardedHead over in-process shards (localShard) against one table: every format, 1..5 shards with a ragged
// last shard, shards of one row and k larger than a shard. One table's topk gives the ids and scores (they
// must match bit for bit); its full logits in float64 give log-sum-exp and the probabilities; Gumbel-max over
// its full logits (gumbelNoise of each global id) gives the sampled row. Also: lookup routing, errors naming
// the failing shard and range, timeouts, allowPartial, planShards.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FORMAT_NAMES,
  ShardedHead,
  formatInfo,
  gumbelNoise,
  localShard,
  openShardRows,
  bucketSource,
  planShards,
  writeGGUF,
  readGGUF,
  type EmbeddingTable,
  type HeadShardLike,
  type Runtime,
} from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";
import { randomValues } from "./helpers/values.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

const VOCAB = 37;
const DIM = 300;
// row counts per shard, for 1..5 shards: shards of one row, a ragged last shard
const SPLITS = [[37], [1, 36], [16, 1, 20], [10, 10, 10, 7], [1, 1, 16, 16, 3]];

/** The rows [start, end) of `full` as a table of their own (its packed bytes, sliced). */
function slice(full: EmbeddingTable, start: number, end: number): EmbeddingTable {
  const bytes = full.bytes();
  const rowBytes = bytes.byteLength / full.vocab;
  return rt.table({ vocab: end - start, dim: full.dim, format: full.format, data: bytes.slice(start * rowBytes, end * rowBytes) });
}

function shardsOf(full: EmbeddingTable, sizes: number[]): { shards: HeadShardLike[]; tables: EmbeddingTable[] } {
  const tables: EmbeddingTable[] = [];
  const shards: HeadShardLike[] = [];
  let at = 0;
  for (const n of sizes) {
    const t = slice(full, at, at + n);
    tables.push(t);
    shards.push(localShard(t, at));
    at += n;
  }
  return { shards, tables };
}

/** log sum exp(x / T) in float64, the max subtracted first. */
function logSumExpRef(logits: Float32Array, t: number): number {
  let m = -Infinity;
  for (const x of logits) m = Math.max(m, x);
  let s = 0;
  for (const x of logits) s += Math.exp((x - m) / t);
  return m / t + Math.log(s);
}

function gumbelArgmaxRef(logits: Float32Array, t: number, seed: number): number {
  let best = -1;
  let key = -Infinity;
  for (let v = 0; v < logits.length; v++) {
    const x = logits[v] / t + gumbelNoise(seed, v);
    if (x > key) [best, key] = [v, x];
  }
  return best;
}

describe.each(FORMAT_NAMES)("%s sharded head", (format) => {
  let full: EmbeddingTable;
  beforeAll(() => {
    full = rt.tableFromF32(randomValues(VOCAB * DIM, 7), { vocab: VOCAB, dim: DIM, format });
  });
  afterAll(() => full.dispose());

  it.each(SPLITS.map((s) => [s.length, s] as const))("%i shards: top-k ids and scores as one table, log-sum-exp and probs within 1e-6, lookup the same rows", async (_, sizes) => {
    const { shards, tables } = shardsOf(full, sizes);
    try {
      const head = new ShardedHead(shards);
      expect(head.vocab).toBe(VOCAB);
      for (const [seed, t] of [[11, 1], [12, 0.7]] as const) {
        const hidden = randomValues(DIM, seed, 2);
        const logits = full.project(hidden); // the default mode, as localShard
        const lse = logSumExpRef(logits, t);
        for (const k of [1, 5, 20, VOCAB]) {
          const want = full.topk(hidden, k);
          const got = await head.topk(hidden, k, { temperature: t });
          expect(Array.from(got.ids)).toEqual(Array.from(want.ids));
          expect(Array.from(got.scores)).toEqual(Array.from(want.scores)); // toEqual on numbers: bit-identical f32
          expect(Math.abs(got.logSumExp - lse)).toBeLessThanOrEqual(1e-6 * Math.abs(lse));
          got.probs.forEach((p, j) => {
            const ref = Math.exp(want.scores[j] / t - lse);
            expect(Math.abs(p - ref)).toBeLessThanOrEqual(1e-6 * ref);
          });
          expect(got.missing).toEqual([]);
          if (k === VOCAB) expect(got.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        }
      }
      const ids = Int32Array.from([36, 0, 1, 17, 17, 16, 2, 35]);
      expect(await head.lookup(ids)).toEqual(full.lookup(ids));
    } finally {
      for (const t of tables) t.dispose();
    }
  });

  it("samples the single-process Gumbel-max winner for 100 seeds (3 and 5 shards)", async () => {
    for (const sizes of [SPLITS[2], SPLITS[4]]) {
      const { shards, tables } = shardsOf(full, sizes);
      try {
        const head = new ShardedHead(shards);
        const hidden = randomValues(DIM, 99, 4);
        const logits = full.project(hidden);
        const winners = new Set<number>();
        for (let seed = 0; seed < 100; seed++) {
          const t = seed % 2 ? 1 : 2.5;
          const got = await head.sample(hidden, { temperature: t, seed });
          expect(got.id).toBe(gumbelArgmaxRef(logits, t, seed));
          expect(got.key).toBe(logits[got.id] / t + gumbelNoise(seed, got.id));
          winners.add(got.id);
        }
        expect(winners.size).toBeGreaterThan(1); // draws, not an argmax
      } finally {
        for (const t of tables) t.dispose();
      }
    }
  });
});

describe("sampling", () => {
  it("draws rows with the softmax's frequencies (4 rows, 20000 seeds, within 4 standard errors)", async () => {
    const logits = Float32Array.from([0, 1, 2, -1]);
    const z = Array.from(logits, Math.exp).reduce((a, b) => a + b);
    const counts = [0, 0, 0, 0];
    const n = 20000;
    for (let seed = 0; seed < n; seed++) counts[gumbelArgmaxRef(logits, 1, seed)]++;
    counts.forEach((c, v) => {
      const q = Math.exp(logits[v]) / z;
      expect(Math.abs(c / n - q)).toBeLessThan(4 * Math.sqrt((q * (1 - q)) / n));
    });
  });
});

describe("ShardedHead errors", () => {
  let full: EmbeddingTable;
  beforeAll(() => {
    full = rt.tableFromF32(randomValues(VOCAB * 64, 3), { vocab: VOCAB, dim: 64, format: "q8_0" });
  });
  afterAll(() => full.dispose());

  it("names the failing shard and its row range; allowPartial merges the rest and lists what is missing", async () => {
    const { shards, tables } = shardsOf(full, [10, 10, 17]);
    try {
      const broken: HeadShardLike = { ...shards[1], topk: async () => { throw new Error("disk on fire"); } };
      const head = new ShardedHead([shards[0], broken, shards[2]]);
      const hidden = randomValues(64, 5);
      await expect(head.topk(hidden, 3)).rejects.toThrow("Shard 1 (rows [10, 20)) failed: disk on fire");
      const part = await head.topk(hidden, 3, { allowPartial: true });
      expect(part.missing).toEqual([{ shard: 1, start: 10, end: 20, error: "Shard 1 (rows [10, 20)) failed: disk on fire" }]);
      // the best 3 of rows outside [10, 20), by one table's logits
      const logits = full.project(hidden);
      const rest = Array.from({ length: VOCAB }, (_, v) => v).filter((v) => v < 10 || v >= 20);
      rest.sort((a, b) => logits[b] - logits[a] || a - b);
      expect(Array.from(part.ids)).toEqual(rest.slice(0, 3));
    } finally {
      for (const t of tables) t.dispose();
    }
  });

  it("times a shard out after timeoutMs, naming it", async () => {
    const { shards, tables } = shardsOf(full, [20, 17]);
    try {
      const slow: HeadShardLike = { ...shards[1], sample: () => new Promise(() => {}) };
      const head = new ShardedHead([shards[0], slow], { timeoutMs: 50 });
      await expect(head.sample(randomValues(64, 5), { seed: 1 })).rejects.toThrow("Shard 1 (rows [20, 37)) did not answer within `timeoutMs` 50 ms.");
    } finally {
      for (const t of tables) t.dispose();
    }
  });

  it("rejects gaps, overlaps, mixed dims, bad replies and bad arguments", async () => {
    const { shards, tables } = shardsOf(full, [20, 17]);
    try {
      expect(() => new ShardedHead([shards[1]])).toThrow("rows [0, 20) are in no shard");
      expect(() => new ShardedHead([shards[0], shards[0]])).toThrow("rows [20, 0) are in two");
      expect(() => new ShardedHead([shards[0], { ...shards[1], dim: 63 }])).toThrow("has dim 63");
      expect(() => new ShardedHead([])).toThrow(RangeError);
      const liar: HeadShardLike = { ...shards[1], topk: async () => ({ ids: Int32Array.of(3), scores: Float32Array.of(1), max: 1, sumExp: 1 }) };
      const head = new ShardedHead([shards[0], liar]);
      await expect(head.topk(randomValues(64, 1), 1)).rejects.toThrow("Shard 1 (rows [20, 37)) answered badly: id 3 is not in its range");
      await expect(head.topk(randomValues(64, 1), 38)).rejects.toThrow("`k` is 38; expected an integer in [1, 37]");
      await expect(head.topk(randomValues(63, 1), 1)).rejects.toThrow("`hidden` has length 63, expected 64");
      await expect(head.sample(randomValues(64, 1), { seed: -1 })).rejects.toThrow("`seed` is -1");
      await expect(head.lookup([37])).rejects.toThrow("`ids[0]` is 37");
    } finally {
      for (const t of tables) t.dispose();
    }
  });
});

describe("planShards", () => {
  const MiB = 2 ** 20;
  it("splits a 262144 x 5376 q1_0 head (198 MB) into 2 shards of whole tiles under 128 MiB each", () => {
    const plan = planShards({ vocab: 262144, dim: 5376, format: "q1_0", budgetBytes: 128 * MiB });
    expect(plan.rowBytes).toBe(42 * 18);
    expect(plan.mode).toBe("fast");
    expect(plan.shards).toBe(2);
    expect(plan.ranges).toEqual([{ start: 0, end: 131072 }, { start: 131072, end: 262144 }]);
    expect(plan.heldBytes).toBe(131072 * 756); // q1_0's tiled copy is the packed size
    expect(plan.peakBytes).toBeLessThanOrEqual(128 * MiB);
  });

  it.each(FORMAT_NAMES)("%s: ranges cover the vocab in whole tiles, each shard's peak within the budget", (format) => {
    for (const [vocab, dim] of [[151936, 4096], [128256, 4096], [262144, 5376], [1000, 64]]) {
      const plan = planShards({ vocab, dim, format, budgetBytes: 128 * MiB });
      expect(plan.ranges[0].start).toBe(0);
      expect(plan.ranges.at(-1)!.end).toBe(vocab);
      plan.ranges.forEach((r, i) => {
        if (i > 0) expect(r.start).toBe(plan.ranges[i - 1].end);
        if (i < plan.ranges.length - 1) expect((r.end - r.start) % 16).toBe(0);
      });
      expect(plan.peakBytes).toBeLessThanOrEqual(128 * MiB);
      const f = formatInfo(format);
      expect(plan.rowBytes).toBe(Math.ceil(dim / f.blockElems) * f.blockBytes);
      // one shard fewer would not fit
      const perRow = plan.heldBytes / plan.ranges[0].end + 8;
      if (plan.shards > 1) expect((vocab / (plan.shards - 1)) * perRow + 26 * MiB).toBeGreaterThan(128 * MiB);
    }
  });

  it("says when the budget cannot hold 16 rows", () => {
    expect(() => planShards({ vocab: 100, dim: 4096, format: "f32", budgetBytes: 25 * MiB })).toThrow("`budgetBytes` 26214400 cannot hold 16 f32 rows");
  });
});

describe.each(FORMAT_NAMES)("%s shard rows from a GGUF file", (format) => {
  it("3 shards read only their rows of output.weight; top-k, probs and lookup as one table", async () => {
    const vocab = 53;
    const dim = 96;
    using full = rt.tableFromF32(randomValues(vocab * dim, 21), { vocab, dim, format });
    using other = rt.tableFromF32(randomValues(5 * dim, 22), { vocab: 5, dim, format: "f32" });
    const file = writeGGUF({ tensors: [{ name: "token_embd.weight", table: other }, { name: "output.weight", table: full }] });
    // an R2-like bucket over the file, counting the bytes it hands out
    const reads: [number, number][] = [];
    const bucket = {
      async head() {
        return { size: file.byteLength };
      },
      async get(_key: string, { range }: { range: { offset: number; length: number } }) {
        reads.push([range.offset, range.length]);
        return { arrayBuffer: async () => file.slice(range.offset, range.offset + range.length).buffer };
      },
    };
    const ranges = [[0, 17], [17, 18], [18, 53]];
    const shardRt = await newRuntime();
    const shards = await Promise.all(
      ranges.map(async ([start, end], i) => openShardRows(shardRt, i === 2 ? await bucketSource(bucket, "head.gguf") : file, { start, end })),
    );
    try {
      const rowBytes = full.byteLength / vocab;
      // past the header, the bucket shard read rows [18, 53) of output.weight and nothing else
      const gguf = await readGGUF(file);
      const at = gguf.tensor("output.weight").offset;
      const data = reads.filter(([o]) => o >= gguf.dataOffset);
      expect(data.length).toBeGreaterThan(0);
      for (const [o, n] of data) {
        expect(o).toBeGreaterThanOrEqual(at + 18 * rowBytes);
        expect(o + n).toBeLessThanOrEqual(at + 53 * rowBytes);
      }
      expect(data.reduce((a, [, n]) => a + n, 0)).toBe(35 * rowBytes);
      expect(shards[0].mode).toBe(formatInfo(format).defaultMode);
      const head = new ShardedHead(shards);
      const hidden = randomValues(dim, 23, 2);
      const logits = full.project(hidden);
      for (const k of [1, 10, vocab]) {
        const want = full.topk(hidden, k);
        const got = await head.topk(hidden, k, { temperature: 0.8 });
        expect(Array.from(got.ids)).toEqual(Array.from(want.ids));
        expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
        const lse = logSumExpRef(logits, 0.8);
        expect(Math.abs(got.logSumExp - lse)).toBeLessThanOrEqual(1e-6 * Math.abs(lse));
      }
      for (let seed = 0; seed < 20; seed++) expect((await head.sample(hidden, { seed })).id).toBe(gumbelArgmaxRef(logits, 1, seed));
      const ids = Int32Array.from([52, 0, 17, 18, 17, 3]);
      expect(await head.lookup(ids)).toEqual(full.lookup(ids));
    } finally {
      for (const s of shards) s.dispose();
    }
    await expect(openShardRows(shardRt, file, { start: 50, end: 54 })).rejects.toThrow("Loading rows [50, 54) from bytes failed: `end` is 54; expected at most the head's vocab 53");
    // `using` frees a shard's rows when the scope ends
    const held = shardRt.bytesInUse;
    {
      using shard = await openShardRows(shardRt, file, { start: 3, end: 40 });
      expect(shardRt.bytesInUse).toBeGreaterThanOrEqual(held + shard.heldBytes);
    }
    expect(shardRt.bytesInUse).toBe(held);
  });
});

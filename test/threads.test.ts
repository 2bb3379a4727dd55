// Threads (src/parallel/): the *Async calls on 2 and 4 threads (the caller and 1 or 3 workers) against the single-thread calls of a one-thread
// runtime (the reference, itself checked by project/topk/fast/quant suites), bit for bit, for every format in
// exact, fast and ggml mode; quantizing likewise, byte for byte. Workers end with dispose and never keep Node alive;
// where threads cannot run, the calls run on one thread after one warning.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { FORMAT_NAMES, FORMATS, instantiate, RotatedTable, supportsFast, type EmbeddingTable, type Runtime } from "../src/index.js";
import { liveWorkers, type Call } from "../src/parallel/pool.js";
import { FastHead } from "../src/project/fast.js";
import { nonFiniteRows } from "../src/formats/nonfinite.js";
import { setMinParallelWork } from "../src/parallel/project.js";
import { newRuntime, testBuild } from "./helpers/runtime.js";
import { randomValues } from "./helpers/values.js";

const relaxed = testBuild === "relaxed";
const file = (r: boolean, shared?: boolean) =>
  readFileSync(new URL(`../build/bitembed${shared ? ".shared" : ""}${r ? ".relaxed" : ""}.wasm`, import.meta.url));

function threaded(threads: number | "auto"): Promise<Runtime> {
  return instantiate(undefined, async (r, shared) => file(r, shared), { threads, relaxedSimd: relaxed });
}

const bits = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

let one: Runtime;
const pools: Runtime[] = [];

beforeAll(async () => {
  one = await newRuntime({ relaxedSimd: relaxed });
  setMinParallelWork(0); // every call below goes to the workers, however small
});

afterAll(() => {
  setMinParallelWork();
  for (const rt of pools) rt.dispose();
});

for (const threads of [2, 4]) {
  describe(`${threads} threads`, () => {
    let rt: Runtime;
    beforeAll(async () => {
      rt = await threaded(threads);
      pools.push(rt);
    });

    it("runs that many threads, on the shared-memory build of the same kind", () => {
      expect(rt.threads).toBe(threads);
      expect(rt.relaxedSimd).toBe(one.relaxedSimd);
    });

    // vocab not a multiple of 16 (a partial tile) and several slices; dims around blocks (300: padded rows)
    for (const format of FORMAT_NAMES) {
      it(`${format}: projectAsync, topkAsync and tableFromF32Async are the single-thread results, bit for bit`, async () => {
        for (const [vocab, dim] of [[517, 256], [203, 300]] as const) {
          const values = randomValues(vocab * dim, vocab + dim, 2);
          const ref = one.tableFromF32(values, { vocab, dim, format });
          const table = await rt.tableFromF32Async(values, { vocab, dim, format });
          try {
            expect(bits(table.bytes())).toEqual(bits(ref.bytes()));
            expect(bits(await rt.quantizeAsync(values, { vocab, dim, format }))).toEqual(bits(ref.bytes()));
            for (const n of [1, 5]) {
              const hidden = randomValues(n * dim, n * 31 + dim, 1);
              // mode "ggml" where the format has integer dots: its workers run project_int
              const modes = ["exact", ...(supportsFast(format) ? ["fast"] : []), ...(FORMATS[format].intDot ? ["ggml"] : [])] as ("exact" | "fast" | "ggml")[];
              for (const mode of modes) {
                const expected = ref.project(hidden, { mode });
                expect(bits(await table.projectAsync(hidden, { mode })), `${mode} n=${n}`).toEqual(bits(expected));
                const k = 7;
                const top = ref.topk(hidden, k, { mode });
                const got = await table.topkAsync(hidden, k, { mode });
                expect(got.ids, `${mode} n=${n}`).toEqual(top.ids);
                expect(bits(got.scores)).toEqual(bits(top.scores));
              }
            }
            // nearest: every metric, in exact mode and (integer dots) ggml mode, rows excluded; row norms on the workers
            const query = randomValues(dim, dim + 1, 1);
            const exclude = [0, 3, vocab - 1];
            for (const mode of ["exact", ...(FORMATS[format].intDot ? ["ggml"] : [])] as ("exact" | "ggml")[]) {
              for (const metric of ["cosine", "dot", "l2"] as const) {
                const expected = ref.nearest(query, 9, { metric, mode, exclude });
                const got = await table.nearestAsync(query, 9, { metric, mode, exclude });
                expect(got.ids, `nearest ${metric} ${mode}`).toEqual(expected.ids);
                expect(bits(got.scores), `nearest ${metric} ${mode}`).toEqual(bits(expected.scores));
              }
            }
            const analogy = await table.analogyAsync(1, 2, 3, 4);
            const expected = ref.analogy(1, 2, 3, 4);
            expect(analogy.ids).toEqual(expected.ids);
            expect(bits(analogy.scores)).toEqual(bits(expected.scores));
          } finally {
            ref.dispose();
            table.dispose();
          }
        }
      });
    }

    // more 256 KiB slices than one round of slots holds (32 per worker: quantize.ts), padded rows, a last
    // round part full: the rounds pipeline (copy in, encode, copy out) gives the single-thread bytes
    it("quantizing over many rounds: the single-thread bytes", { timeout: 120_000 }, async () => {
      const [vocab, dim] = [16500 * (threads / 2), 300];
      const values = randomValues(vocab * dim, 77, 2);
      // megabytes: the first differing byte (toEqual walks them one by one, slowly)
      const firstDiff = (a: Uint8Array, b: Uint8Array) => (a.length !== b.length ? -2 : a.findIndex((v, i) => v !== b[i]));
      for (const format of ["q8_0", "q6_k"] as const) {
        const ref = one.quantize(values, { vocab, dim, format });
        expect(firstDiff(await rt.quantizeAsync(values, { vocab, dim, format }), ref), format).toBe(-1);
        const table = await rt.tableFromF32Async(values, { vocab, dim, format });
        try {
          expect(firstDiff(table.bytes(), ref), format).toBe(-1);
        } finally {
          table.dispose();
        }
      }
    });

    it("scale and soft-capping, and ties (rows repeated), as the single-thread calls give them", async () => {
      const vocab = 640;
      const dim = 128;
      const base = randomValues(40 * dim, 5, 1);
      const values = new Float32Array(vocab * dim);
      for (let r = 0; r < vocab; r++) values.set(base.subarray((r % 40) * dim, (r % 40 + 1) * dim), r * dim);
      for (const format of ["f32", "q4_0", "q1_0"] as const) {
        const ref = one.tableFromF32(values, { vocab, dim, format });
        const table = rt.tableFromF32(values, { vocab, dim, format });
        try {
          const hidden = randomValues(5 * dim, 9, 1);
          for (const mode of ["exact", "fast", "ggml"] as const) {
            const opts = { mode, scale: 0.7, softcap: 3 };
            expect(bits(await table.projectAsync(hidden, opts))).toEqual(bits(ref.project(hidden, opts)));
            const top = ref.topk(hidden, 50, opts);
            const got = await table.topkAsync(hidden, 50, opts);
            expect(got.ids).toEqual(top.ids);
            expect(bits(got.scores)).toEqual(bits(top.scores));
            expect(await table.argmaxAsync(hidden, { mode })).toEqual(ref.argmax(hidden, { mode }));
          }
          for (const metric of ["cosine", "dot", "l2"] as const) {
            const query = base.subarray(7 * dim, 8 * dim); // row 7's value, in 16 rows: ties at the top
            const expected = ref.nearest(query, 30, { metric, exclude: [47] });
            const got = await table.nearestAsync(query, 30, { metric, exclude: [47] });
            expect(got.ids, metric).toEqual(expected.ids);
            expect(bits(got.scores), metric).toEqual(bits(expected.scores));
          }
        } finally {
          ref.dispose();
          table.dispose();
        }
      }
    });

    // the first fast call of a big table tiles it on the workers (FastHead.tiledBy): the copy one thread makes
    it("the fast tiled copy built on the workers has one thread's bytes (rows with a non-finite scale kept apart)", async () => {
      const tiledBy = vi.spyOn(FastHead, "tiledBy");
      try {
        for (const format of FORMAT_NAMES.filter((f) => supportsFast(f))) {
          const vocab = 16 * 37 + 5; // a partial last tile
          const dim = 512;
          const bytes = one.quantize(randomValues(vocab * dim, 21, 1), { vocab, dim, format });
          const info = FORMATS[format];
          // row 40's first block scale (the f16 at the format's fast scaleOffset) set to +Inf: computed apart
          const rowBytes = bytes.byteLength / vocab;
          expect(nonFiniteRows(bytes, 0, rowBytes, vocab, info)).toEqual([]);
          const at = 40 * rowBytes + info.fast!.scaleOffset;
          bytes[at] = 0x00;
          bytes[at + 1] = 0x7c;
          expect(nonFiniteRows(bytes, 0, rowBytes, vocab, info), format).toEqual([40]);
          const ref = one.table({ vocab, dim, format, data: bytes });
          const table = rt.table({ vocab, dim, format, data: bytes });
          try {
            const hidden = randomValues(3 * dim, 5, 1);
            const calls = tiledBy.mock.calls.length;
            const [a, b] = await Promise.all([table.projectAsync(hidden, { mode: "fast" }), table.topkAsync(hidden, 5, { mode: "fast" })]);
            expect(tiledBy.mock.calls.length, "one build for both calls").toBe(calls + 1);
            const head = table.fastHead();
            const refHead = ref.fastHead();
            expect(head.byteLength).toBe(refHead.byteLength);
            expect(rt.memory.u8().slice(head.ptr, head.ptr + head.byteLength)).toEqual(one.memory.u8().slice(refHead.ptr, refHead.ptr + refHead.byteLength));
            expect(bits(a)).toEqual(bits(ref.project(hidden, { mode: "fast" })));
            expect(b.ids).toEqual(ref.topk(hidden, 5, { mode: "fast" }).ids);
            // nearest over a table with a non-finite row: the single-thread path, the same answer
            const query = hidden.subarray(0, dim);
            const near = await table.nearestAsync(query, 6, { metric: "dot", mode: "exact" });
            const nearRef = ref.nearest(query, 6, { metric: "dot", mode: "exact" });
            expect(near.ids).toEqual(nearRef.ids);
            expect(bits(near.scores)).toEqual(bits(nearRef.scores));
          } finally {
            ref.dispose();
            table.dispose();
          }
        }
      } finally {
        tiledBy.mockRestore();
      }
    });

    it("a table in Bonsai 2's rotated basis (RotatedTable): the async calls give its single-thread results", async () => {
      const vocab = 700;
      const dim = 256;
      const values = randomValues(vocab * dim, 31, 1);
      const rotation = { block: 128, signs: Float32Array.from({ length: dim }, (_, i) => (i % 3 ? 1 : -1)) };
      for (const format of ["pq2_0", "q8_0"] as const) {
        const ref = new RotatedTable(one.tableFromF32(values, { vocab, dim, format }), rotation);
        const table = new RotatedTable(rt.tableFromF32(values, { vocab, dim, format }), rotation);
        try {
          const hidden = randomValues(3 * dim, 32, 1);
          expect(bits(await table.projectAsync(hidden))).toEqual(bits(ref.project(hidden)));
          const top = await table.topkAsync(hidden, 6);
          expect(top.ids).toEqual(ref.topk(hidden, 6).ids);
          expect(bits(top.scores)).toEqual(bits(ref.topk(hidden, 6).scores));
          expect(await table.argmaxAsync(hidden)).toEqual(ref.argmax(hidden));
          const near = await table.nearestAsync(hidden.subarray(0, dim), 5, { metric: "l2" });
          expect(near.ids).toEqual(ref.nearest(hidden.subarray(0, dim), 5, { metric: "l2" }).ids);
          expect(bits(near.scores)).toEqual(bits(ref.nearest(hidden.subarray(0, dim), 5, { metric: "l2" }).scores));
          expect((await table.analogyAsync(1, 2, 3, 4)).ids).toEqual(ref.analogy(1, 2, 3, 4).ids);
          await expect(table.nearestAsync(new Float32Array(dim - 1), 3)).rejects.toThrow(/vector/);
          await expect(table.projectAsync(new Float32Array(dim + 1))).rejects.toThrow(/hidden/);
        } finally {
          ref.dispose();
          table.dispose();
        }
      }
    });

    it("concurrent calls queue and each gets its own results", async () => {
      const vocab = 500;
      const dim = 64;
      const table = rt.tableFromF32(randomValues(vocab * dim, 3, 1), { vocab, dim, format: "q8_0" });
      try {
        const hs = [1, 2, 3, 4].map((s) => randomValues(2 * dim, s, 1));
        const got = await Promise.all(hs.map((h) => table.projectAsync(h, { mode: "exact" })));
        hs.forEach((h, i) => expect(bits(got[i])).toEqual(bits(table.project(h, { mode: "exact" }))));
      } finally {
        table.dispose();
      }
    });

    it("checks its input as the single-thread calls do", async () => {
      const table = rt.tableFromF32(randomValues(64 * 32, 1, 1), { vocab: 64, dim: 32, format: "f32" });
      try {
        await expect(table.projectAsync(new Float32Array(31))).rejects.toThrow(/hidden/);
        await expect(table.topkAsync(new Float32Array(32), 0)).rejects.toThrow(/`k`/);
        await expect(table.nearestAsync(new Float32Array(31), 3)).rejects.toThrow(/vector/);
        await expect(table.nearestAsync(new Float32Array(32), 3, { metric: "manhattan" as "l2" })).rejects.toThrow(/metric/);
        await expect(table.nearestAsync(new Float32Array(32).fill(NaN), 3)).rejects.toThrow(/NaN/);
        await expect(table.analogyAsync(0, 1, 64, 3)).rejects.toThrow(/`c`/);
        // and the runtime stays usable
        const q = randomValues(32, 2, 1);
        expect((await table.nearestAsync(q, 3)).ids).toEqual(table.nearest(q, 3).ids);
      } finally {
        table.dispose();
      }
    });
  });
}

describe("a job's units on the caller and the workers", () => {
  // units that scale their own segment of a buffer by 2 (logits_post), one of them a call to no kernel: the
  // caller or the worker takes it, wherever it sits in the list; the job rejects either way, after every other
  // thread has settled, and the pool runs the next job in full
  it("a failing unit rejects its job, whichever thread took it; the next job runs every unit", async () => {
    const workersBefore = liveWorkers();
    const rt = await threaded(2);
    try {
      const pool = rt.pool!;
      const n = 64, per = 256;
      const ptr = rt.memory.alloc(n * per * 4);
      const units = (bad: number) =>
        Array.from({ length: n }, (_, u) => (u === bad ? [["no_such_kernel"]] : [["logits_post", ptr + u * per * 4, per, 2, 0]]) as [string, ...number[]][]);
      for (const bad of [0, 1, n >> 1, n - 1]) {
        await expect(pool.run(units(bad))).rejects.toThrow("bitembed has no kernel named no_such_kernel");
      }
      const f32 = () => rt.memory.f32().subarray(ptr >>> 2, (ptr >>> 2) + n * per);
      f32().set(randomValues(n * per, 5, 1));
      const before = Float32Array.from(f32());
      await pool.run(units(-1));
      expect(bits(f32())).toEqual(bits(before.map((v) => v * 2)));
      rt.memory.dealloc(ptr);
    } finally {
      rt.dispose();
    }
    await vi.waitFor(() => expect(liveWorkers()).toBe(workersBefore)); // the next test counts workers
  });
  // Tiny jobs (one to three units of 64 values) between large ones (32 units of 16K values): the caller finishes
  // a tiny job before the worker wakes, and the job ends without the worker's reply, which arrives during the
  // next job; in a large job the worker takes units, and the job must wait for exactly its reply. Each job is
  // checked as soon as it settles: its units all ran (each doubles its own segment), or it was a failing one.
  it("jobs the caller finishes alone end without the worker; its late replies settle no later job", async () => {
    const workersBefore = liveWorkers();
    const rt = await threaded(2);
    try {
      const pool = rt.pool!;
      const jobs = 200;
      const shape = (j: number) => (j % 2 === 0 ? { units: 1 + ((j >> 1) % 3), per: 64 } : { units: 32, per: 16384 });
      const failing = new Set([7, 9, 150, 151, 199]);
      const size = Math.max(...Array.from({ length: jobs }, (_, j) => shape(j).units * shape(j).per));
      const ptr = rt.memory.alloc(size * 4);
      const f32 = (n: number) => rt.memory.f32().subarray(ptr >>> 2, (ptr >>> 2) + n);
      for (let j = 0; j < jobs; j++) {
        const { units, per } = shape(j);
        f32(units * per).set(randomValues(units * per, j, 1));
        const before = Float32Array.from(f32(units * per));
        const calls = Array.from({ length: units }, (_, u) =>
          (failing.has(j) && u === units - 1 ? [["no_such_kernel"]] : [["logits_post", ptr + u * per * 4, per, 2, 0]]) as [string, ...number[]][]);
        const run = pool.run(calls);
        if (failing.has(j)) {
          await expect(run, `job ${j}`).rejects.toThrow("no kernel named no_such_kernel");
          continue;
        }
        await run;
        const got = new Uint32Array(f32(units * per).slice().buffer);
        const want = new Uint32Array(before.map((v) => v * 2).buffer);
        expect(got.findIndex((b, i) => b !== want[i]), `job ${j}: the first value not doubled`).toBe(-1);
      }
      // a tiny job takes microseconds on the caller while the worker sleeps: most end before it wakes
      expect(pool.endedAlone).toBeGreaterThan(0);
      rt.memory.dealloc(ptr);
    } finally {
      rt.dispose();
    }
    await vi.waitFor(() => expect(liveWorkers()).toBe(workersBefore)); // the next test counts workers
  });
});

// quantizeAsync's result is built by the first worker (pool.ts OutPart): each job copies bytes of linear memory
// into it before its units run, and takeOut hands it over. Two results built at once (interleaved jobs), a
// failing job in between, and a dropped result: each result holds exactly its copies, in its own places.
describe("a result the first worker builds", () => {
  it("interleaved results, each copied from its own places; a failed call's result is dropped", async () => {
    const workersBefore = liveWorkers();
    const rt = await threaded(2);
    try {
      const pool = rt.pool!;
      const n = 4096;
      const src = rt.memory.alloc(n);
      const fill = (seed: number) => {
        const u8 = rt.memory.u8().subarray(src, src + n);
        for (let i = 0; i < n; i++) u8[i] = (i * 31 + seed * 17) & 255;
        return Uint8Array.from(u8);
      };
      const noUnits: Call[][] = [];
      const a = pool.newOut();
      const b = pool.newOut();
      const c = pool.newOut();
      const wantA = new Uint8Array(3 * n);
      const wantB = new Uint8Array(2 * n + 5);
      // a: its first third from round 1, b: its second half from round 1 (the jobs run one at a time, in order)
      wantA.set(fill(1), 0);
      await pool.run(noUnits, [], undefined, { id: a, bytes: wantA.length, copies: [src, n, 0] });
      wantB.set(fill(2).subarray(0, n - 3), n + 8);
      await pool.run(noUnits, [], undefined, { id: b, bytes: wantB.length, copies: [src, n - 3, n + 8] });
      await pool.run(noUnits, [], undefined, { id: c, bytes: 64, copies: [] });
      // a job that fails after its copies: the call drops its result
      const failing = pool.run([[["no_such_kernel"]]], [], undefined, { id: c, copies: [src, 64, 0] });
      await expect(failing).rejects.toThrow("no kernel named no_such_kernel");
      await pool.dropOut(c);
      await expect(pool.takeOut(c, [])).rejects.toThrow(`holds no result ${c}`);
      wantA.set(fill(3), 2 * n);
      await pool.run(noUnits, [], undefined, { id: a, copies: [src, n, 2 * n] });
      wantB.set(fill(4).subarray(0, 8), 0);
      const gotB = await pool.takeOut(b, [src, 8, 0]);
      wantA.set(fill(5), n);
      const gotA = await pool.takeOut(a, [src, n, n]);
      expect(gotA).toEqual(wantA);
      expect(gotB).toEqual(wantB);
      // taken means gone from the worker
      await expect(pool.takeOut(a, [])).rejects.toThrow(`holds no result ${a}`);
      // the pool still runs jobs
      const values = randomValues(3000 * 64, 8, 1);
      const ref = one.quantize(values, { vocab: 3000, dim: 64, format: "q8_0" });
      expect(await rt.quantizeAsync(values, { vocab: 3000, dim: 64, format: "q8_0" })).toEqual(ref);
      rt.memory.dealloc(src);
    } finally {
      rt.dispose();
    }
    await vi.waitFor(() => expect(liveWorkers()).toBe(workersBefore)); // the next test counts workers
  });

  it("two quantizeAsync calls at once: each one's bytes; a call under way when the runtime is disposed rejects", { timeout: 60_000 }, async () => {
    const workersBefore = liveWorkers();
    const rt = await threaded(2);
    const dim = 320;
    const vocab = 9000; // 11 MB of f32: several rounds each
    const values = randomValues(vocab * dim, 12, 2);
    const [x, y] = await Promise.all([
      rt.quantizeAsync(values, { vocab, dim, format: "q8_0" }),
      rt.quantizeAsync(values, { vocab, dim, format: "q4_k" }),
    ]);
    const firstDiff = (p: Uint8Array, q: Uint8Array) => (p.length !== q.length ? -2 : p.findIndex((v, i) => v !== q[i]));
    expect(firstDiff(x, one.quantize(values, { vocab, dim, format: "q8_0" }))).toBe(-1);
    expect(firstDiff(y, one.quantize(values, { vocab, dim, format: "q4_k" }))).toBe(-1);
    // disposed as soon as the call has handed out its first round (the promise exists once it awaits the workers):
    // a timer here let the whole call finish first on a fast run, the caller's awaits resolving as microtasks
    const pending = rt.quantizeAsync(values, { vocab, dim, format: "q6_k" });
    rt.dispose();
    await expect(pending).rejects.toThrow(/terminated|disposed/);
    await vi.waitFor(() => expect(liveWorkers()).toBe(workersBefore)); // the next test counts workers
  });
});

describe("workers' lifetime", () => {
  it("threads: N is the caller and N - 1 workers; dispose ends every worker; init/dispose cycles leave none behind", async () => {
    const before = liveWorkers();
    for (let i = 0; i < 20; i++) {
      const n = 2 + (i % 2);
      const rt = await threaded(n);
      expect(rt.threads).toBe(n);
      expect(liveWorkers()).toBe(before + n - 1);
      rt.dispose();
      expect(() => rt.threads && rt.pool).toThrow(/disposed/);
    }
    await vi.waitFor(() => expect(liveWorkers()).toBe(before));
  });

  // 1,000 cycles, two at a time (each cycle starts 2 Node workers: ~25 ms of CPU each, Node's own start-up, so
  // ~50 s of CPU in all; two loops use both cores). Memory is read after a full collection, from cycle 100 on
  // (module code, the JIT and Node's worker machinery have warmed up by then).
  it("1,000 init/dispose cycles of a 2-thread runtime leave no worker and no memory behind", { timeout: 600_000 }, async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const module = await WebAssembly.compile(file(relaxed, true));
    const cycle = async () => {
      const rt = await instantiate(undefined, async () => module, { threads: 2, relaxedSimd: relaxed });
      expect(rt.threads).toBe(2);
      rt.dispose();
    };
    const before = liveWorkers();
    const settled = async () => {
      await vi.waitFor(() => expect(liveWorkers()).toBe(before), { timeout: 10_000 });
      gc();
      await new Promise((r) => setTimeout(r, 50)); // workers' native teardown runs after their exit event
      gc();
      return process.memoryUsage();
    };
    const loop = async (cycles: number) => {
      for (let i = 0; i < cycles; i++) await cycle();
    };
    await Promise.all([loop(50), loop(50)]);
    const warm = await settled();
    await Promise.all([loop(450), loop(450)]);
    const end = await settled();
    // A leaked runtime keeps its shared memory (1 MiB at least: 16 pages, plus the scratch blocks) and each leaked
    // worker a V8 isolate (several MiB): 900 leaked cycles would add more than 900 MiB. 64 MiB allows the
    // allocator's and the JIT's own drift while failing a leak of a tenth of that (~70 KB a cycle).
    const grew = (end.rss - warm.rss) / 2 ** 20;
    expect(grew, `RSS ${(warm.rss / 2 ** 20).toFixed(0)} -> ${(end.rss / 2 ** 20).toFixed(0)} MiB`).toBeLessThan(64);
    expect((end.heapUsed - warm.heapUsed) / 2 ** 20).toBeLessThan(16);
    expect((end.external - warm.external) / 2 ** 20).toBeLessThan(16);
  });

  it("a call under way when the runtime is disposed rejects", async () => {
    const rt = await threaded(2);
    const dim = 256;
    const table = rt.tableFromF32(randomValues(4000 * dim, 2, 1), { vocab: 4000, dim, format: "q4_0" });
    const pending = table.projectAsync(randomValues(8 * dim, 3, 1), { mode: "exact" });
    rt.dispose();
    await expect(pending).rejects.toThrow(/terminated|disposed/);
  });

  it("a fast call building the tiled copy when the runtime is disposed rejects", async () => {
    const rt = await threaded(2);
    const dim = 1024;
    const table = rt.tableFromF32(randomValues(8000 * dim, 4, 1), { vocab: 8000, dim, format: "q1_0" });
    const pending = table.projectAsync(randomValues(dim, 5, 1), { mode: "fast" });
    rt.dispose();
    await expect(pending).rejects.toThrow(/terminated|disposed/);
  });

  it("workers do not keep a Node process alive", () => {
    const entry = new URL("../build/node.js", import.meta.url).href;
    const script = `const { init } = await import(${JSON.stringify(entry)});
      const rt = await init(undefined, { threads: 2 });
      const t = rt.tableFromF32(new Float32Array(4096 * 64).fill(0.5), { vocab: 4096, dim: 64, format: "q8_0" });
      const top = await t.topkAsync(new Float32Array(64).fill(1), 1);
      console.log(rt.threads, top.ids[0]);`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { timeout: 20_000, encoding: "utf8" });
    expect(out.trim()).toBe("2 0");
  });
});

describe("one thread where threads cannot run", () => {
  it("no SharedArrayBuffer: rt.threads is 1, one warning says why, the async calls give the same results", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const g = globalThis as { SharedArrayBuffer?: unknown };
    const saved = g.SharedArrayBuffer;
    let rt: Runtime | undefined;
    let table: EmbeddingTable | undefined;
    try {
      delete g.SharedArrayBuffer;
      rt = await threaded(4);
      await (await threaded(3)).dispose();
      expect(rt.threads).toBe(1);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/`threads` 4 .*1 thread.*SharedArrayBuffer/);
      g.SharedArrayBuffer = saved;
      const values = randomValues(300 * 64, 4, 1);
      table = rt.tableFromF32(values, { vocab: 300, dim: 64, format: "q4_0" });
      const ref = one.tableFromF32(values, { vocab: 300, dim: 64, format: "q4_0" });
      const h = randomValues(64, 5, 1);
      expect(bits(await table.projectAsync(h))).toEqual(bits(ref.project(h)));
      expect((await table.topkAsync(h, 3)).ids).toEqual(ref.topk(h, 3).ids);
      expect(bits(await rt.quantizeAsync(values, { vocab: 300, dim: 64, format: "q4_0" }))).toEqual(bits(ref.bytes()));
      ref.dispose();
    } finally {
      g.SharedArrayBuffer = saved;
      table?.dispose();
      rt?.dispose();
      warn.mockRestore();
    }
  });

  it('"auto" where threads cannot run: one thread, quietly (nobody asked for a count)', async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const g = globalThis as { SharedArrayBuffer?: unknown };
    const saved = g.SharedArrayBuffer;
    vi.stubGlobal("navigator", { hardwareConcurrency: 8 }); // "auto" asks for min(4, 8 / 2) = 4
    try {
      delete g.SharedArrayBuffer;
      const rt = await threaded("auto");
      expect(rt.threads).toBe(1);
      rt.dispose();
      const own = await instantiate(file(false), () => Promise.reject(new Error("unused")), { threads: "auto" });
      expect(own.threads).toBe(1);
      own.dispose();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      g.SharedArrayBuffer = saved;
      vi.unstubAllGlobals();
      warn.mockRestore();
    }
  });

  it("a wasm source of one's own runs on one thread and says so", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const rt = await instantiate(file(false), () => Promise.reject(new Error("unused")), { threads: 2 });
      expect(rt.threads).toBe(1);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/source/);
      rt.dispose();
    } finally {
      warn.mockRestore();
    }
  });

  it("threads: 1 and a bad value", async () => {
    const rt = await threaded(1);
    expect(rt.threads).toBe(1);
    rt.dispose();
    await expect(threaded(0)).rejects.toThrow(/`threads`/);
    await expect(threaded(2.5 as number)).rejects.toThrow(/`threads`/);
  });
});

// A table disposed while one of its *Async calls runs on the workers (docs/DESIGN.md, "dispose during a
// call"): the call rejects naming it, and the table's memory (rows, row norms, the fast tiled copy) is given
// back only once the call has settled, so no worker job ever reads memory that was freed (or allocated again,
// to a new table filled right after dispose). Checked from the outside: every free of linear memory and every
// job posted to the pool, in one sequence of events; then the runtime answers as before.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { instantiate, type EmbeddingTable, type Runtime } from "../src/index.js";
import type { Call } from "../src/parallel/pool.js";
import { setMinParallelWork } from "../src/parallel/project.js";
import { readFileSync } from "node:fs";
import { newRuntime } from "./helpers/runtime.js";
import { randomValues } from "./helpers/values.js";

const file = (shared: boolean) => readFileSync(new URL(`../build/bitembed${shared ? ".shared" : ""}.wasm`, import.meta.url));

let rt: Runtime;
let one: Runtime;
beforeAll(async () => {
  rt = await instantiate(undefined, async (_r, shared) => file(shared === true), { threads: 2, relaxedSimd: false });
  one = await newRuntime({ relaxedSimd: false });
  setMinParallelWork(0); // every call below goes to the workers
});
afterAll(() => {
  setMinParallelWork();
  rt?.dispose();
  one?.dispose();
});

interface Job {
  pointers: number[];
  posted: number;
  settled: number;
}

/** Watches `rt`: frees and jobs, each stamped with the next number of one sequence. */
function watch(rt: Runtime) {
  let seq = 0;
  const frees: { ptr: number; size: number; at: number }[] = [];
  const jobs: Job[] = [];
  const mem = rt.memory;
  const pool = rt.pool!;
  const dealloc = mem.dealloc.bind(mem);
  const run = pool.run.bind(pool);
  const spies = [
    vi.spyOn(mem, "dealloc").mockImplementation((ptr: number) => {
      frees.push({ ptr, size: mem.sizeOf(ptr), at: seq++ });
      dealloc(ptr);
    }),
    vi.spyOn(pool, "run").mockImplementation((units: Call[][], scratch?: readonly number[]) => {
      const job: Job = { pointers: units.flat(2).filter((a): a is number => typeof a === "number"), posted: seq++, settled: Infinity };
      jobs.push(job);
      return run(units, scratch).finally(() => (job.settled = seq++));
    }),
  ];
  return {
    /** Jobs that held a pointer into a block freed before they settled. */
    violations(): string[] {
      const out: string[] = [];
      for (const f of frees) {
        for (const j of jobs) {
          if (j.settled < f.at) continue;
          const p = j.pointers.find((q) => q >= f.ptr && q < f.ptr + f.size);
          if (p !== undefined) out.push(`job posted at ${j.posted} (settled ${j.settled}) reads ${p} in block ${f.ptr} (+${f.size}) freed at ${f.at}`);
        }
      }
      return out;
    },
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe("a table disposed while an *Async call runs on the workers", () => {
  const vocab = 2000;
  const dim = 256;
  const format = "q4_0";
  const calls: [string, number, (t: EmbeddingTable, h: Float32Array) => Promise<unknown>][] = [
    ["projectAsync, exact (3 passes of vectors)", 150, (t, h) => t.projectAsync(h)],
    ["topkAsync, fast (the tiled copy built on the workers, 3 passes)", 24, (t, h) => t.topkAsync(h, 5, { mode: "fast" })],
    ["nearestAsync, cosine (row norms on the workers)", 1, (t, h) => t.nearestAsync(h, 5, { metric: "cosine" })],
  ];
  it.each(calls)("%s: rejects naming it; no job reads freed memory; a new table filled meanwhile is intact", async (_, n, call) => {
    const before = rt.bytesInUse;
    const values = randomValues(vocab * dim, 3, 1);
    const table = rt.tableFromF32(values, { vocab, dim, format });
    const w = watch(rt);
    let other: EmbeddingTable | undefined;
    try {
      const hidden = randomValues(n * dim, 9, 1);
      const pending = call(table, hidden);
      table.dispose();
      expect(() => table.lookup([0]), "the table is unusable at once").toThrow(/disposed/);
      // a new table right away: where the allocator would put it if the old rows were free already
      const fresh = randomValues(vocab * dim, 4, 1);
      other = rt.tableFromF32(fresh, { vocab, dim, format });
      const outcome = await pending.then(() => "resolved", (e: Error) => e.message);
      expect(w.violations()).toEqual([]);
      expect(outcome).toMatch(/table was disposed while .*Async was running/);
      // the runtime answers as before, on the new table
      using ref = one.tableFromF32(fresh, { vocab, dim, format });
      const h = randomValues(3 * dim, 5, 1);
      expect(bits(await other.projectAsync(h))).toEqual(bits(ref.project(h)));
      expect((await other.topkAsync(h, 4, { mode: "fast" })).ids).toEqual(ref.topk(h, 4, { mode: "fast" }).ids);
    } finally {
      w.restore();
      other?.dispose();
    }
    expect(rt.bytesInUse, "everything the old table held is given back").toBe(before);
  });

  it("the memory is given back when the call settles, not before; a call started after dispose throws at once", async () => {
    const before = rt.bytesInUse;
    const table = rt.tableFromF32(randomValues(vocab * dim, 3, 1), { vocab, dim, format });
    const pending = table.projectAsync(randomValues(150 * dim, 9, 1));
    const during = rt.bytesInUse;
    table.dispose();
    expect(rt.bytesInUse, "held while the call runs").toBe(during);
    await expect(table.projectAsync(randomValues(dim, 9, 1))).rejects.toThrow(/disposed/);
    await expect(pending).rejects.toThrow(/disposed/);
    expect(rt.bytesInUse).toBe(before);
    table.dispose(); // still a no-op
  });
});

// Out of memory in the middle of a call (issue 13, finding 4): for every public operation that allocates linear
// memory, make each of its allocations fail once in turn (the k-th call to LinearMemory.alloc throws, under a
// real `maxMemory`), and check that the call fails cleanly and gives back every block it took: bytesInUse
// returns to where it started, the tables made before are bit-identical, and the runtime still works. Then
// the same with real exhaustion of a 4 MiB memory rather than an injected failure.
import { beforeAll, describe, expect, it } from "vitest";
import {
  FastHead,
  RotatedTable,
  bytesSource,
  fastTopk,
  loadEmbeddingModel,
  readGGUF,
  readSafetensors,
  writeGGUF,
  writeSafetensors,
  type EmbeddingTable,
  type Runtime,
} from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";

const LIMIT = 4 * 2 ** 20;
const vocab = 50;
const dim = 160; // not a multiple of 32, 64, 128 or 256: every block format pads
const values = Float32Array.from({ length: vocab * dim }, (_, i) => Math.sin(i * 0.61) * 1.5);
const hidden = Float32Array.from({ length: 3 * dim }, (_, i) => Math.cos(i * 0.23));

const gguf = writeGGUF({
  metadata: { "general.architecture": "gpt2", "tokenizer.ggml.tokens": Array.from({ length: vocab }, (_, i) => `t${i}`) },
  tensors: [
    { name: "token_embd.weight", format: "f32", dims: [dim, vocab], data: values },
    { name: "output.weight", format: "f32", dims: [dim, vocab], data: values.map((x) => -x) },
    { name: "position_embd.weight", format: "f32", dims: [dim, vocab], data: values.map((x) => x / 2) },
  ],
});
const safetensors = writeSafetensors([{ name: "model.embed_tokens.weight", dtype: "F32", shape: [vocab, dim], data: values }]);

type Op = (rt: Runtime) => unknown;
const table = (rt: Runtime, format: Parameters<Runtime["tableFromF32"]>[1]["format"]) => rt.tableFromF32(values, { vocab, dim, format });

// Each operation makes what it needs and disposes it (also when it throws), so it must end where it began.
const OPS: [string, Op][] = [
  ["rt.table", (rt) => rt.table({ vocab, dim, format: "q8_0", data: rt.quantize(values, { vocab, dim, format: "q8_0" }) }).dispose()],
  ...(["f32", "f16", "q4_1", "q1_0", "tq1_0", "q6_k"] as const).map((f): [string, Op] => [`rt.tableFromF32 ${f}`, (rt) => table(rt, f).dispose()]),
  ["rt.quantize", (rt) => rt.quantize(values, { vocab, dim, format: "q2_0" })],
  ["rt.dequantize", (rt) => rt.dequantize(new Uint8Array(vocab * 170), { vocab, dim, format: "q8_0" })],
  ["rt.f32Buffer", (rt) => rt.f32Buffer(100).dispose()],
  ["lookup f32", (rt) => { using t = table(rt, "f32"); t.lookup([1, 49, 0]); }],
  ["lookup q4_0", (rt) => { using t = table(rt, "q4_0"); t.lookup([1, 49, 0]); }],
  ["lookup into an F32Buffer", (rt) => { using t = table(rt, "bf16"); using b = rt.f32Buffer(2 * dim); t.lookup([3, 4], b); }],
  ["embed with positions, types, sinusoid", (rt) => {
    using t = table(rt, "q8_0");
    using p = table(rt, "f16");
    using y = table(rt, "f32");
    t.embed([1, 2, 3], { positionTable: p, typeTable: y, tokenTypes: [0, 1, 0], sinusoidal: true, scale: "sqrt" });
  }],
  ["stats", (rt) => { using t = table(rt, "q4_0"); t.stats(values); }],
  ["bytes", (rt) => { using t = table(rt, "q1_0"); t.bytes(); }],
  ...(["exact", "fast", "ggml"] as const).map((mode): [string, Op] => [`project ${mode}`, (rt) => { using t = table(rt, "q2_0"); t.project(hidden, { mode, scale: 2, softcap: 30 }); }]),
  ["project q1_0 fast with an Inf scale row", (rt) => {
    const bytes = rt.quantize(values, { vocab, dim, format: "q1_0" });
    bytes[18 * 2 * 3 + 1] = 0x7c; // row 3's first block scale: +Inf
    using t = rt.table({ vocab, dim, format: "q1_0", data: bytes });
    t.project(hidden);
  }],
  ...(["exact", "fast"] as const).map((mode): [string, Op] => [`topk ${mode}`, (rt) => { using t = table(rt, "tq2_0"); t.topk(hidden, 5, { mode }); }]),
  ["argmax", (rt) => { using t = table(rt, "q4_0"); t.argmax(hidden); }],
  ...(["cosine", "dot", "l2"] as const).map((metric): [string, Op] => [`nearest ${metric}`, (rt) => { using t = table(rt, "q8_0"); t.nearest(hidden.subarray(0, dim), 4, { metric, exclude: [2, 7] }); }]),
  ["analogy", (rt) => { using t = table(rt, "f16"); t.analogy(1, 2, 3, 2); }],
  ["rope.apply", (rt) => { using r = rt.rope({ headDim: 32, base: 10000, pairing: "neox" }); r.apply(hidden.slice(0, 320), [3, 1000, 7, 2, 9], 2); }],
  ["rope.cache, then apply from it", (rt) => { using r = rt.rope({ headDim: 32, base: 10000, pairing: "norm", rotaryDim: 16 }); r.cache(64); r.apply(hidden.slice(0, 320), [3, 63, 7, 2, 9], 2); }],
  ["rope yarn", (rt) => { using r = rt.rope({ headDim: 32, base: 10000, pairing: "neox", scaling: { type: "yarn", factor: 4, originalContext: 512 } }); r.apply(hidden.slice(0, 64), [700, 2000], 1); }],
  ["FastHead.fromBytes + fastTopk", (rt) => {
    using h = FastHead.fromBytes(rt, { vocab, dim, format: "q4_0", data: rt.quantize(values, { vocab, dim, format: "q4_0" }), chunkRows: 16 });
    fastTopk(h, hidden, 3);
  }],
  ["FastHead.fromStream", async (rt) => {
    const data = rt.quantize(values, { vocab, dim, format: "q1_0" });
    (await FastHead.fromStream(rt, { vocab, dim, format: "q1_0", chunkRows: 16 }, [data.subarray(0, 100), data.subarray(100)])).dispose();
  }],
  ["FastHead.of(table) + fastTopk, releaseFast", (rt) => {
    using t = table(rt, "tq1_0");
    using h = FastHead.of(t);
    fastTopk(h, hidden, 2);
    t.project(hidden);
    t.releaseFast();
  }],
  ["RotatedTable: lookup, into a buffer, pool, project, stats", (rt) => {
    using latent = table(rt, "q8_0"); // the rotated table takes it over; disposed twice is fine
    using r = new RotatedTable(latent, { block: 32, signs: Float32Array.from({ length: dim }, (_, i) => (i % 3 ? 1 : -1)) });
    r.lookup([1, 2, 3]);
    using b = rt.f32Buffer(2 * dim);
    r.lookup([4, 5], b);
    r.pool([1, 2, 3], [0, 1], { mode: "sum" });
    r.project(hidden);
    r.stats(values);
  }],
  ["pool with weights and padding", (rt) => { using t = table(rt, "q4_1"); t.pool([1, 2, 3, 4, 5], [0, 2], { mode: "mean", weights: [1, 2, 3, 4, 5], paddingId: 3, normalize: true }); }],
  ["poolInto an F32Buffer", (rt) => { using t = table(rt, "f16"); using b = rt.f32Buffer(2 * dim); t.poolInto([1, 2, 3], [0, 1], b, { mode: "max" }); }],
  ["readGGUF loadTable", async (rt) => (await (await readGGUF(gguf)).loadTable(rt, "output.weight")).dispose()],
  ["readSafetensors loadTable", async (rt) => (await (await readSafetensors(safetensors)).loadTable(rt, "model.embed_tokens.weight")).dispose()],
  ["loadEmbeddingModel (three tables)", async (rt) => (await loadEmbeddingModel(rt, bytesSource(gguf))).dispose()],
];

/** Make the k-th allocation (1-based) fail; returns the count of allocations made and a restore function. */
function failAt(rt: Runtime, k: number): { count: () => number; restore: () => void } {
  const mem = rt.memory;
  const alloc = mem.alloc.bind(mem);
  let n = 0;
  mem.alloc = (bytes: number, align?: number) => {
    if (++n === k) throw new RangeError(`Out of wasm memory: injected failure of allocation ${k} (${bytes} bytes)`);
    return alloc(bytes, align);
  };
  return { count: () => n, restore: () => void delete (mem as { alloc?: unknown }).alloc };
}

let rt: Runtime;
let sentinel: EmbeddingTable;
let sentinelBytes: Uint8Array;
let sentinelRow: Float32Array;
beforeAll(async () => {
  rt = await newRuntime({ maxMemory: LIMIT });
  sentinel = rt.tableFromF32(values, { vocab, dim, format: "q4_1" });
  sentinelBytes = sentinel.bytes();
  sentinelRow = sentinel.lookup([vocab - 1]);
});

function expectIntact(label: string): void {
  expect(Buffer.from(sentinel.bytes()).equals(Buffer.from(sentinelBytes)), `${label}: earlier table's bytes`).toBe(true);
  expect(Array.from(sentinel.lookup([vocab - 1])), `${label}: earlier table still answers`).toEqual(Array.from(sentinelRow));
}

describe("every allocation of every public operation fails once", () => {
  it.each(OPS)("%s", async (name, op) => {
    const start = rt.bytesInUse;
    const probe = failAt(rt, Infinity);
    try {
      await op(rt);
    } finally {
      probe.restore();
    }
    const total = probe.count();
    expect(total, `${name} allocates`).toBeGreaterThan(0);
    expect(rt.bytesInUse, `${name}: after a clean run`).toBe(start);
    for (let k = 1; k <= total; k++) {
      const f = failAt(rt, k);
      let error: unknown;
      try {
        await op(rt);
      } catch (e) {
        error = e;
      } finally {
        f.restore();
      }
      expect((error as Error)?.message, `${name}, allocation ${k} of ${total}`).toMatch(/^(Loading .*: )?Out of wasm memory: injected/);
      expect(rt.bytesInUse, `${name}: bytes in use after allocation ${k} of ${total} failed`).toBe(start);
      expectIntact(`${name}, allocation ${k}`);
    }
  });
});

describe("real exhaustion of a 4 MiB memory", () => {
  // Fill memory so that exactly `free` bytes remain above the top; returns the filler to free.
  function leave(r: Runtime, free: number): number {
    const mem = r.memory;
    const probe = mem.alloc(16);
    mem.dealloc(probe);
    return mem.alloc(mem.maxBytes - probe - free);
  }

  it("stats with room for its first 256 KiB block but not the next (once it left 262,144 bytes in use)", async () => {
    const r = await newRuntime({ maxMemory: LIMIT });
    const big = Float32Array.from({ length: 256 * 1024 }, (_, i) => Math.sin(i));
    using t = r.tableFromF32(big, { vocab: 256, dim: 1024, format: "q8_0" });
    const start = r.bytesInUse;
    const filler = leave(r, 262144);
    expect(() => t.stats(big)).toThrow(/^Out of wasm memory: asked for \d+ bytes/);
    r.memory.dealloc(filler);
    expect(r.bytesInUse).toBe(start);
    expect(t.stats(big).meanCosine).toBeGreaterThan(0.9999);
  });

  it("every operation, with 0 to 160 KiB left in steps of 4 KiB: it works or gives all back", async () => {
    const r = await newRuntime({ maxMemory: LIMIT });
    using t = r.tableFromF32(values, { vocab, dim, format: "q4_0" });
    const start = r.bytesInUse;
    let failed = 0;
    for (let free = 0; free <= 160 * 1024; free += 4096) {
      const filler = leave(r, free);
      for (const [name, op] of OPS) {
        const before = r.bytesInUse;
        try {
          await op(r);
        } catch (e) {
          expect((e as Error).message, name).toMatch(/Out of wasm memory: asked for \d+ bytes/);
          failed++;
        }
        expect(r.bytesInUse, `${name} with ${free} bytes left`).toBe(before);
      }
      r.memory.dealloc(filler);
    }
    expect(failed).toBeGreaterThan(100);
    expect(r.bytesInUse).toBe(start);
    expect(Array.from(t.lookup([3]))).toEqual(Array.from(r.dequantize(t.bytes(), { vocab, dim, format: "q4_0" }).subarray(3 * dim, 4 * dim)));
  });
});

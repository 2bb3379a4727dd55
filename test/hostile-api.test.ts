// Hostile calls through the public API (issue 13, findings 3 and 6): buffers of another runtime, Proxies and
// subclasses whose length changes between reads, element getters that allocate, grow memory or dispose the
// table mid-call, and views of linear memory passed back in across a call that grows memory. Each must end in
// the right result or a clean error, with every earlier table bit-identical and no block leaked.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { F32Buffer, RotatedTable, type EmbeddingTable, type Runtime } from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";
import { expectSameBits } from "./helpers/close.js";

const vocab = 40;
const dim = 64;
const values = Float32Array.from({ length: vocab * dim }, (_, i) => Math.sin(i * 0.37) * 2);

let rt: Runtime;
let sentinel: EmbeddingTable; // made first: its bytes sit right after whatever a stray write would hit
let sentinelBytes: Uint8Array;
let table: EmbeddingTable;
let start: number;

beforeEach(async () => {
  rt = await newRuntime({ maxMemory: 64 * 2 ** 20 });
  sentinel = rt.tableFromF32(values, { vocab, dim, format: "q8_0" });
  sentinelBytes = sentinel.bytes();
  table = rt.tableFromF32(values, { vocab, dim, format: "q4_0" });
  start = rt.bytesInUse;
});

afterEach(() => {
  // earlier tables bit-identical, the runtime usable, and nothing of the call left behind
  expect(Buffer.from(sentinel.bytes()).equals(Buffer.from(sentinelBytes)), "sentinel table bytes").toBe(true);
  expectSameBits(sentinel.lookup([vocab - 1]), rt.dequantize(sentinelBytes, { vocab, dim, format: "q8_0" }).subarray((vocab - 1) * dim), "sentinel row");
});

/** Every allocation first grows memory by a page: every view of linear memory taken before it is detached. */
function growOnEveryAlloc(r: Runtime): () => void {
  const mem = r.memory;
  const alloc = mem.alloc.bind(mem);
  mem.alloc = (bytes: number, align?: number) => {
    mem.memory.grow(1);
    return alloc(bytes, align);
  };
  return () => {
    delete (mem as { alloc?: unknown }).alloc;
  };
}

const plainLookup = (t: EmbeddingTable, ids: number[]) => t.lookup(Int32Array.from(ids));

describe("buffers and tables of another runtime", () => {
  it("lookup into an F32Buffer of another runtime is refused (it would write at that runtime's pointer here)", async () => {
    const other = await newRuntime();
    const buf = other.f32Buffer(2 * dim);
    expect(() => table.lookup([1, 2], buf)).toThrow(/`out` is an F32Buffer of another runtime/);
    expect(rt.bytesInUse).toBe(start);
    buf.dispose();
  });

  it("embed with a position table of another runtime is refused", async () => {
    const other = await newRuntime();
    using pos = other.tableFromF32(values, { vocab, dim, format: "f32" });
    expect(() => table.embed([1], { positionTable: pos })).toThrow(/`positionTable` is a table of another runtime/);
  });

  it("a Proxy of a table, or of an F32Buffer, is refused before any field is read", () => {
    const liar = new Proxy(table, { get: (t, k) => (k === "ptr" ? 0 : Reflect.get(t, k, t)) });
    expect(() => liar.lookup([1])).toThrow(/must be an EmbeddingTable, got Object/);
    expect(() => sentinel.embed([1], { positionTable: liar })).toThrow(/`positionTable` must be an EmbeddingTable/);
    const buf = rt.f32Buffer(dim);
    const fake = new Proxy(buf, { get: (b, k) => (k === "ptr" ? sentinel.ptr : Reflect.get(b, k, b)) });
    expect(() => table.lookup([1], fake)).toThrow(/`out` must be an F32Buffer made by bitembed/);
    buf.dispose();
    expect(rt.bytesInUse).toBe(start);
  });
});

describe("ids read once", () => {
  it("a Proxy whose length says 1, then 40, copies one id (once 160 bytes went into a 16-byte block)", () => {
    // a 16-byte hole right below a table: where the one-id block goes, so an overflow would hit the table
    const hole = rt.f32Buffer(4);
    using victim = rt.tableFromF32(values, { vocab, dim, format: "f32" });
    const victimBytes = victim.bytes();
    hole.dispose();
    let reads = 0;
    const ids = new Proxy([3], { get: (t, k) => (k === "length" ? (reads++ === 0 ? 1 : 40) : typeof k === "string" ? 3 : Reflect.get(t, k)) });
    expectSameBits(table.lookup(ids), plainLookup(table, [3]), "rows");
    expect(reads).toBe(1);
    expect(Buffer.from(victim.bytes()).equals(Buffer.from(victimBytes)), "the table after the hole").toBe(true);
  });

  it("a subclass of Int32Array whose length getter lies is read by its real length", () => {
    class Liar extends Int32Array {
      override get length() {
        return 1;
      }
    }
    const ids = new Liar([5, 6, 7, 8]);
    expectSameBits(table.lookup(ids), plainLookup(table, [5, 6, 7, 8]), "rows");
    expect(() => table.lookup(new Liar([5, 6, 7, 8]), new Float32Array(dim))).toThrow(/`out` has length 64, expected 256/);
  });

  it("a Proxy of an Int32Array is refused as not an array of ids", () => {
    expect(() => table.lookup(new Proxy(new Int32Array([1]), {}) as unknown as Int32Array)).toThrow(TypeError);
  });

  it.each(["f32", "q4_0"] as const)("%s: an element getter that allocates and grows memory mid-copy changes nothing", (format) => {
    using t = rt.tableFromF32(values, { vocab, dim, format });
    const big: EmbeddingTable[] = [];
    const ids = [1, 2, 3, 4];
    Object.defineProperty(ids, 2, {
      get() {
        big.push(rt.tableFromF32(new Float32Array(2048 * 1024), { vocab: 2048, dim: 1024, format: "f32" }));
        return 3;
      },
    });
    const before = rt.memory.byteLength;
    const rows = t.lookup(ids);
    expect(rt.memory.byteLength).toBeGreaterThan(before);
    expectSameBits(rows, plainLookup(t, [1, 2, 3, 4]), "rows");
    expect(big[0].lookup([2047]).every((x) => x === 0)).toBe(true);
    big.forEach((b) => b.dispose());
  });

  it.each(["f32", "q4_0"] as const)("%s: an element getter that disposes the table gives a clean error, no read of freed memory", (format) => {
    const t = rt.tableFromF32(values, { vocab, dim, format });
    const ids = [1, 2];
    Object.defineProperty(ids, 1, {
      get() {
        t.dispose();
        return 2;
      },
    });
    expect(() => t.lookup(ids)).toThrow("This table was disposed");
    expect(rt.bytesInUse).toBe(start);
  });

  it("positions and token types are read once too (embed, rope)", () => {
    using pos = rt.tableFromF32(values, { vocab, dim, format: "f16" });
    let reads = 0;
    const positions = new Proxy([0, 1], { get: (t, k) => (k === "length" ? (reads++ === 0 ? 2 : 1000) : Reflect.get(t, k)) });
    const got = table.embed([4, 5], { positionTable: pos, positions });
    expectSameBits(got, table.embed([4, 5], { positionTable: pos, positions: [0, 1] }), "embed");
    using rope = rt.rope({ headDim: 8, base: 10000, pairing: "neox" });
    const x = Float32Array.from({ length: 16 }, (_, i) => i + 1);
    const y = x.slice();
    reads = 0;
    rope.apply(x, new Proxy([7, 9], { get: (t, k) => (k === "length" ? (reads++ === 0 ? 2 : 99) : Reflect.get(t, k)) }), 1);
    expectSameBits(x, rope.apply(y, [7, 9], 1), "rope");
  });

  it("nearest's `exclude` is read once, by index: a length that grows on every read is read once", () => {
    // its iterator would read the length before every step (capped here so that a regression cannot hang)
    let reads = 0;
    const exclude = new Proxy([0], {
      get: (t, k) => (k === "length" ? Math.min(1 + reads++, 1000) : typeof k === "symbol" ? Reflect.get(t, k) : 0),
    });
    const r = table.nearest(table.lookup([0]), 3, { exclude: exclude as unknown as number[] });
    expect(Array.from(r.ids)).not.toContain(0);
    expect(reads).toBe(1);
  });
});

describe("pool reads ids, offsets and weights once", () => {
  it("offsets that pass the checks and then point past `ids` (once: writes past the ids block) are read once", () => {
    let reads = 0;
    // checked as [0, 1], then (were they read again) [0, 1000]
    const offsets = new Proxy([0, 1], { get: (t, k) => (k === "1" && reads++ > 0 ? 1000 : Reflect.get(t, k)) });
    const got = table.pool([1, 2, 3], offsets, { mode: "sum" });
    expectSameBits(got, table.pool([1, 2, 3], [0, 1], { mode: "sum" }), "bags");
    expect(rt.bytesInUse).toBe(start);
  });

  it("an id getter that disposes the table gives a clean error; an F32Buffer of another runtime is refused", async () => {
    const t = rt.tableFromF32(values, { vocab, dim, format: "q8_0" });
    const ids = [1, 2];
    Object.defineProperty(ids, 1, { get: () => (t.dispose(), 2) });
    expect(() => t.pool(ids, [0])).toThrow("This table was disposed");
    const other = await newRuntime();
    using buf = other.f32Buffer(dim);
    expect(() => table.poolInto([1, 2], [0], buf)).toThrow(/`out` is an F32Buffer of another runtime/);
    expect(rt.bytesInUse).toBe(start);
  });
});

describe("RotatedTable reads ids and offsets once", () => {
  it("a Proxy whose length grows restores only the rows written (once: past the F32Buffer)", () => {
    using r = new RotatedTable(rt.tableFromF32(values, { vocab, dim, format: "f16" }), { block: 16 });
    using buf = rt.f32Buffer(dim);
    const after = rt.f32Buffer(dim); // the block right after the buffer: a restore of 2 rows would rewrite it
    after.view().fill(7);
    let reads = 0;
    const ids = new Proxy([5], { get: (t, k) => (k === "length" ? (reads++ === 0 ? 1 : 2) : typeof k === "string" ? 5 : Reflect.get(t, k)) });
    expectSameBits(r.lookup(ids, buf), r.lookup([5]), "row 5");
    expect(after.view().every((x) => x === 7)).toBe(true);
    let offReads = 0;
    const offsets = new Proxy([0], { get: (t, k) => (k === "length" ? (offReads++ === 0 ? 1 : 2) : Reflect.get(t, k)) });
    expectSameBits(r.pool([1, 2], offsets, { mode: "sum", out: buf }), r.pool([1, 2], [0], { mode: "sum" }), "one bag");
    expect(after.view().every((x) => x === 7)).toBe(true);
    after.dispose();
  });
});

describe("views of linear memory passed back in", () => {
  it("lookup(ids, rt.f32Buffer(n)) as project's input, across a call that grows memory", () => {
    using buf = rt.f32Buffer(2 * dim);
    const hidden = table.lookup([3, 9], buf).slice();
    const expected = table.project(hidden);
    const restore = growOnEveryAlloc(rt);
    try {
      expectSameBits(table.project(table.lookup([3, 9], buf)), expected, "project");
      const tk = table.topk(table.lookup([3, 9], buf), 4);
      expect(Array.from(tk.ids)).toEqual(Array.from(table.topk(hidden, 4).ids));
      const nn = table.nearest(table.lookup([3], rt.f32Buffer(dim)), 2);
      expect(nn.ids[0]).toBe(3);
    } finally {
      restore();
    }
  });

  it("an F32Buffer's view as `out` is filled and handed back as a fresh view when memory grew", () => {
    using hiddenBuf = rt.f32Buffer(dim);
    using outBuf = rt.f32Buffer(vocab);
    void [hiddenBuf, outBuf];
    const expected = table.project(table.lookup([7]));
    start = rt.bytesInUse; // the first projection built the table's fast-mode copy (a cache kept with it)
    const restore = growOnEveryAlloc(rt);
    try {
      const hidden = table.lookup([7], hiddenBuf);
      const out = outBuf.view();
      const got = table.project(hidden, { out });
      expect(out.length).toBe(0); // detached by the growth
      expectSameBits(got, expected, "logits");
      expectSameBits(outBuf.view(), expected, "the buffer holds them");
    } finally {
      restore();
    }
    expect(rt.bytesInUse).toBe(start); // the two buffers were made before `start`
  });

  it("rope.apply on an F32Buffer's view, tableFromF32 and quantize of one, across growth", () => {
    using buf = rt.f32Buffer(dim);
    using rope = rt.rope({ headDim: dim, base: 10000, pairing: "norm" });
    const x = table.lookup([11], buf);
    const expected = rope.apply(x.slice(), [5], 1);
    const restore = growOnEveryAlloc(rt);
    try {
      expectSameBits(rope.apply(buf.view(), [5], 1), expected, "rotated in place");
      expectSameBits(buf.view(), expected, "the buffer holds them");
      using copy = rt.tableFromF32(buf.view(), { vocab: 1, dim, format: "f32" });
      expectSameBits(copy.lookup([0]), expected, "table from a view");
      expect(rt.quantize(buf.view(), { vocab: 1, dim, format: "q8_0" })).toEqual(rt.quantize(expected, { vocab: 1, dim, format: "q8_0" }));
    } finally {
      restore();
    }
  });

  it("a view of a disposed F32Buffer, or of a table's bytes, is refused (writing it would corrupt whatever lives there)", () => {
    const buf = rt.f32Buffer(vocab);
    const stale = buf.view();
    buf.dispose();
    expect(() => table.project(table.lookup([1]), { out: stale })).toThrow(/`out` views bytes \d+-\d+ of this runtime's linear memory, outside any live F32Buffer/);
    const onSentinel = rt.memory.f32().subarray(sentinel.ptr >>> 2, (sentinel.ptr >>> 2) + vocab);
    expect(() => table.project(table.lookup([1]), { out: onSentinel })).toThrow(/outside any live F32Buffer/);
    expect(() => table.lookup([1], rt.memory.f32().subarray(sentinel.ptr >>> 2, (sentinel.ptr >>> 2) + dim))).toThrow(/outside any live F32Buffer/);
    expect(rt.bytesInUse).toBe(start);
  });

  it("a Float32Array subclass whose length lies cannot size a copy into wasm (once it overflowed the block)", () => {
    class Liar extends Float32Array {
      override get length() {
        return dim;
      }
    }
    const hidden = new Liar(dim * 3);
    hidden.set(table.lookup([1, 2, 3]));
    const expected = table.project(table.lookup([1, 2, 3]));
    start = rt.bytesInUse; // the fast-mode copy the first projection built and kept
    expectSameBits(table.project(hidden), expected, "three vectors, not one");
    expect(rt.bytesInUse).toBe(start);
  });

  it("F32Buffer is the documented way in: its view survives for lookups that do not grow memory", () => {
    using buf = rt.f32Buffer(dim);
    const v = table.lookup([2], buf);
    expect(v).toBeInstanceOf(Float32Array);
    expect(buf).toBeInstanceOf(F32Buffer);
    expectSameBits(v, plainLookup(table, [2]), "row");
  });
});

// FastHead.fromBytes tiles JS bytes chunk by chunk: same logits as the head built from a table in wasm memory,
// for vocab not a multiple of 16 nor of the chunk; wasm memory holds the tiled copy and one chunk only;
// fastTopk ranks a head's rows as table.topk does in mode "fast".
import { beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../src/core/runtime.js";
import { FAST_FORMAT_NAMES, type Format } from "../src/formats/registry.js";
import { FastHead } from "../src/project/fast.js";
import { fastTopk } from "../src/project/project.js";
import { newRuntime } from "./helpers/runtime.js";
import { expectSameBits } from "./helpers/close.js";
import { randomPacked as randomTable, randomValues } from "./helpers/values.js";
import { fastSpec } from "./reference/fast.js";

const FORMATS = [...FAST_FORMAT_NAMES];

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

// Per tile of 16 rows and block: the code bits of every plane, then the rows' scales (16 f16 for the signs
// kernel, 16 f32 for the planes kernel).
function tiledBytes(format: Format, vocab: number, dim: number): number {
  const spec = fastSpec(format);
  return Math.ceil(vocab / 16) * Math.ceil(dim / spec.blockElems) * (spec.planes * (spec.blockElems / 8) * 16 + (spec.kernel === "signs" ? 32 : 64));
}

describe.each(FORMATS)("FastHead.fromBytes %s", (format) => {
  // vocab: one partial tile, several chunks with a partial last one, a chunk of exactly one tile
  it.each([
    [7, 256, 16],
    [87, 200, 32],
    [333, 130, 48],
    [333, 130, undefined],
  ])("vocab %i dim %i chunkRows %s: bit-identical to the head of a table in wasm", (vocab, dim, chunkRows) => {
    const data = randomTable(format, vocab, dim, vocab + dim);
    const n = 3;
    const hidden = randomValues(n * dim, dim, 2);
    const before = rt.memory.bytesInUse;
    using table = rt.table({ vocab, dim, format, data });
    const want = new Float32Array(n * vocab);
    table.fastHead().project(hidden, n, want);
    table.releaseFast();
    using head = FastHead.fromBytes(rt, { vocab, dim, format, data, chunkRows });
    expect(head.byteLength).toBe(tiledBytes(format, vocab, dim));
    const got = new Float32Array(n * vocab);
    head.project(hidden, n, got);
    expectSameBits(got, want, `${format} ${vocab} x ${dim} chunk ${chunkRows}`);
    head.dispose();
    table.dispose();
    expect(rt.memory.bytesInUse).toBe(before);
  });

  it("fastTopk gives table.topk's ids and scores (mode fast), scaled and capped", () => {
    const vocab = 301;
    const dim = 192;
    const data = randomTable(format, vocab, dim, 5);
    const hidden = randomValues(11 * dim, 6, 2); // 11 vectors: two passes of FAST_BATCH
    using table = rt.table({ vocab, dim, format, data });
    using head = FastHead.fromBytes(rt, { vocab, dim, format, data, chunkRows: 64 });
    for (const options of [{}, { scale: 0.5, softcap: 3 }]) {
      const want = table.topk(hidden, 7, { mode: "fast", ...options });
      const got = fastTopk(head, hidden, 7, options);
      expect(Array.from(got.ids)).toEqual(Array.from(want.ids));
      expectSameBits(got.scores, want.scores, `${format} topk ${JSON.stringify(options)}`);
    }
  });
});

/** `data` cut into pieces of the given sizes, cycling (the last piece takes what is left). */
function pieces(data: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length], data.length - at);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe.each(FORMATS)("FastHead.fromStream %s", (format) => {
  it("pieces of any size (async iterable, ReadableStream, plain iterable): the same logits as fromBytes", async () => {
    const vocab = 203;
    const dim = 256;
    const data = randomTable(format, vocab, dim, 21);
    const hidden = randomValues(2 * dim, 22, 2);
    const before = rt.memory.bytesInUse;
    using ref = FastHead.fromBytes(rt, { vocab, dim, format, data, chunkRows: 32 });
    const want = new Float32Array(2 * vocab);
    ref.project(hidden, 2, want);
    const parts = pieces(data, [1, 7, 3000, 0, 577, 20000]);
    async function* gen() {
      for (const p of parts) yield p;
    }
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(p.slice());
        c.close();
      },
    });
    const sources = [gen(), stream, parts.map((p) => p.slice().buffer)];
    for (const [i, source] of sources.entries()) {
      using head = await FastHead.fromStream(rt, { vocab, dim, format, chunkRows: 32 }, source);
      const got = new Float32Array(2 * vocab);
      head.project(hidden, 2, got);
      expectSameBits(got, want, `${format} source ${i}`);
    }
    ref.dispose();
    expect(rt.memory.bytesInUse).toBe(before);
  });

  it("too few or too many bytes, or a piece that is not bytes: an error, nothing left allocated", async () => {
    const vocab = 40;
    const dim = 128;
    const data = randomTable(format, vocab, dim, 23);
    const before = rt.memory.bytesInUse;
    const opts = { vocab, dim, format, chunkRows: 16 };
    await expect(FastHead.fromStream(rt, opts, [data.subarray(0, data.length - 1)])).rejects.toThrow(RangeError);
    await expect(FastHead.fromStream(rt, opts, [data, new Uint8Array(1)])).rejects.toThrow(RangeError);
    await expect(FastHead.fromStream(rt, opts, [data.subarray(0, 10), "bytes" as unknown as Uint8Array])).rejects.toThrow(TypeError);
    expect(() => FastHead.fromBytes(rt, { ...opts, data: data.subarray(1) })).toThrow(RangeError);
    expect(rt.memory.bytesInUse).toBe(before);
  });
});

describe("FastHead.fromBytes memory", () => {
  it("peak wasm memory stays below packed + tiled; only the tiled copy stays in use", async () => {
    const vocab = 8005;
    const dim = 4096;
    const format = "q1_0";
    const data = randomTable(format, vocab, dim, 9);
    const tiled = tiledBytes(format, vocab, dim);
    const fresh = await newRuntime();
    const start = fresh.memory.byteLength;
    const head = FastHead.fromBytes(fresh, { vocab, dim, format, data });
    expect(fresh.memory.bytesInUse).toBe(Math.ceil(tiled / 16) * 16);
    // the old path held both copies at once: start + packed + tiled
    expect(fresh.memory.byteLength).toBeLessThan(start + data.length + tiled);
    expect(fresh.memory.byteLength).toBeLessThanOrEqual(Math.ceil((start + tiled + (1 << 20)) * 1.25));
    const r = fastTopk(head, randomValues(dim, 3, 1), 5);
    expect(r.ids.every((id) => id >= 0 && id < vocab)).toBe(true);
    head.dispose();
    expect(fresh.memory.bytesInUse).toBe(0);
  });

  it("a cap that fits the tiled copy but not the scratch: RangeError, nothing left allocated", async () => {
    const vocab = 100;
    const dim = 512;
    const data = randomTable("q4_0", vocab, dim, 4);
    const probe = await newRuntime();
    const base = probe.memory.alloc(16, 64); // where the tiled copy will start
    const max = base + tiledBytes("q4_0", vocab, dim) + 64;
    const capped = await newRuntime({ maxMemory: max });
    expect(() => FastHead.fromBytes(capped, { vocab, dim, format: "q4_0", data, chunkRows: 96 })).toThrow(RangeError);
    expect(capped.memory.bytesInUse).toBe(0);
  });

  it("refuses a chunkRows that is not a positive multiple of 16", () => {
    const data = randomTable("q1_0", 20, 128, 1);
    for (const chunkRows of [0, 8, 17, 1.5 * 16, -16]) {
      expect(() => FastHead.fromBytes(rt, { vocab: 20, dim: 128, format: "q1_0", data, chunkRows })).toThrow(RangeError);
    }
  });

  it("fastTopk checks k, hidden and NaN, and refuses a disposed head", () => {
    const data = randomTable("q1_0", 20, 128, 2);
    const head = FastHead.fromBytes(rt, { vocab: 20, dim: 128, format: "q1_0", data });
    expect(() => fastTopk(head, new Float32Array(128), 21)).toThrow(RangeError);
    expect(() => fastTopk(head, new Float32Array(127), 1)).toThrow(RangeError);
    const nan = new Float32Array(128);
    nan[5] = NaN;
    expect(() => fastTopk(head, nan, 1)).toThrow(/NaN/);
    head.dispose();
    expect(() => fastTopk(head, new Float32Array(128), 1)).toThrow(/disposed/);
  });
});

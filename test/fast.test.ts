// Projection mode "fast" (T-MAC tables): against the plain reference of the same algorithm (to f32 rounding),
// against float64 over the dequantized rows (within the derived bound), batch = one at a time, golden tables.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Runtime } from "../src/core/runtime.js";
import { FAST_FORMAT_NAMES, FORMAT_NAMES, type Format } from "../src/formats/registry.js";
import { goldenUrl } from "./helpers/golden.js";
import { FastHead, supportsFast, type PackedTable } from "../src/project/fast.js";
import { EmbeddingTable } from "../src/tables/table.js";
import { newRuntime } from "./helpers/runtime.js";
import { expectClose, expectSameBits } from "./helpers/close.js";
import { randomPacked as randomTable, randomValues } from "./helpers/values.js";
import { deqRow, exactRef, fastBound, fastRef, fastSpec } from "./reference/fast.js";
import { REFERENCES } from "./reference/formats/index.js";

const FORMATS = [...FAST_FORMAT_NAMES];
const fixture = (name: string) => readFileSync(goldenUrl(name));

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

/** Packed rows in wasm memory, not held by a table. */
function packed(format: Format, vocab: number, dim: number, data: Uint8Array): PackedTable & { free(): void } {
  const spec = fastSpec(format);
  const rowBytes = Math.ceil(dim / spec.blockElems) * spec.blockBytes;
  expect(data.length).toBe(rowBytes * vocab);
  const ptr = rt.memory.alloc(data.length);
  rt.memory.u8().set(data, ptr);
  return { runtime: rt, ptr, rowBytes, vocab, dim, format, free: () => rt.memory.dealloc(ptr) };
}

// A table projects through the head it owns; bare packed rows through a head tiled for the call.
function fast(t: PackedTable, hidden: Float32Array, n: number): Float32Array {
  if (t instanceof EmbeddingTable) return t.project(hidden.subarray(0, n * t.dim), { mode: "fast" });
  const out = new Float32Array(n * t.vocab);
  using head = FastHead.of(t);
  head.project(hidden, n, out);
  return out;
}

/** Every logit matches the reference to f32 rounding, and lies within the bound of float64 truth. */
function checkAgainstReferences(format: Format, data: Uint8Array, vocab: number, dim: number, hidden: Float32Array, n: number, got: Float32Array, label: string) {
  const spec = fastSpec(format);
  const blocks = Math.ceil(dim / spec.blockElems);
  for (let v = 0; v < n; v++) {
    const h = hidden.subarray(v * dim, (v + 1) * dim);
    const ref = fastRef(spec, data, vocab, dim, h);
    const exact = exactRef(spec, data, vocab, dim, h);
    const { bound, magnitude } = fastBound(spec, data, vocab, dim, h);
    const logits = got.subarray(v * vocab, (v + 1) * vocab);
    // rows with an infinite d (golden row 7: 131008 overflows f16) stay non-finite; the others are compared
    const finite = Array.from({ length: vocab }, (_, r) => r).filter((r) => Number.isFinite(ref[r]));
    const infinite = Array.from({ length: vocab }, (_, r) => r).filter((r) => !Number.isFinite(ref[r]));
    expect(infinite.filter((r) => Number.isFinite(logits[r])), `${label}: vector ${v}: finite logits of non-finite rows`).toEqual([]);
    const pick = (a: ArrayLike<number>) => finite.map((r) => a[r]);
    const rows = `${label}: vector ${v} (rows ${finite.length < vocab ? "with finite d" : "all"})`;
    expectClose(pick(logits), pick(ref), { rtol: (blocks + 4) * 4 * 2 ** -24, scale: pick(magnitude) }, `${rows} against the reference`);
    expectClose(pick(logits), pick(exact), { rtol: 1, scale: pick(bound) }, `${rows} within the bound of float64 truth`);
  }
}

describe("supportsFast", () => {
  it("names exactly the formats whose reference gives element codes", () => {
    for (const f of FORMAT_NAMES) expect(supportsFast(f), f).toBe(REFERENCES[f].codes !== undefined);
    expect(FORMATS.length).toBeGreaterThan(0);
    for (const f of ["", "Q1_0", undefined, 41]) expect(supportsFast(f)).toBe(false);
  });
});

describe.each(FORMATS)("fast projection %s", (format) => {
  const spec = fastSpec(format);

  it("golden ggml table (64 x 2048): reference-exact, within the bound, batch = singles", () => {
    const data = new Uint8Array(fixture(`gauss2048.${format}.bin`));
    const hidden = new Float32Array(fixture("gauss2048.hidden.f32").buffer.slice(0));
    const t = packed(format, 64, 2048, data);
    try {
      const batch = fast(t, hidden, 4);
      checkAgainstReferences(format, data, 64, 2048, hidden, 4, batch, "golden");
      for (let v = 0; v < 4; v++) {
        const one = fast(t, hidden.subarray(v * 2048, (v + 1) * 2048), 1);
        expectSameBits(one, batch.subarray(v * 64, (v + 1) * 64), `vector ${v} alone vs in the batch`);
      }
      // the reference's codes, weighted by the registry's fast traits, are ggml's dequantization, every row
      const deq = new Float32Array(fixture(`gauss2048.${format}.deq.f32`).buffer.slice(0));
      for (let r = 0; r < 64; r++) {
        const row = Float32Array.from(deqRow(spec, data, t.rowBytes, r, 2048));
        expectSameBits(row, deq.subarray(r * 2048, (r + 1) * 2048), `row ${r}: d * weight(code)`);
      }
    } finally {
      t.free();
    }
  });

  // vocab around the 16-row tile, dims around the block (padding elements meet zero activations)
  const E = spec.blockElems;
  it.each([
    [1, E],
    [15, 2 * E],
    [16, E],
    [17, 3 * E],
    [33, E - 4],
    [31, 2 * E + 8],
  ])("random rows: vocab %i, dim %i", (vocab, dim) => {
    const data = randomTable(format, vocab, dim, vocab * 7 + dim);
    const n = 3;
    const hidden = randomValues(n * dim, dim + 5, 4);
    // one vector with a spike, as real hidden states have
    hidden[dim + 3] = 40;
    const t = packed(format, vocab, dim, data);
    try {
      const got = fast(t, hidden, n);
      checkAgainstReferences(format, data, vocab, dim, hidden, n, got, `V ${vocab} D ${dim}`);
    } finally {
      t.free();
    }
  });

  it("property: the bound holds for random tables and hidden states", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 1e6 }), fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (vocab, blocks, seed, spread) => {
        const dim = blocks * E;
        const data = randomTable(format, vocab, dim, seed);
        const hidden = randomValues(dim, seed + 9, spread);
        const t = packed(format, vocab, dim, data);
        try {
          checkAgainstReferences(format, data, vocab, dim, hidden, 1, fast(t, hidden, 1), `seed ${seed}`);
        } finally {
              t.free();
        }
      }),
      { numRuns: 12 },
    );
  });

  it("zero hidden gives zero logits; batches above the pass size match singles", () => {
    const vocab = 40;
    const dim = 2 * E;
    const data = randomTable(format, vocab, dim, 3);
    const t = packed(format, vocab, dim, data);
    try {
      expect(Array.from(fast(t, new Float32Array(dim), 1))).toEqual(new Array(vocab).fill(0));
      const n = 11; // > FAST_BATCH: two passes
      const hidden = randomValues(n * dim, 77, 2);
      const all = fast(t, hidden, n);
      for (const v of [0, 7, 8, 10]) {
        expectSameBits(fast(t, hidden.subarray(v * dim, (v + 1) * dim), 1), all.subarray(v * vocab, (v + 1) * vocab), `vector ${v}`);
      }
    } finally {
      t.free();
    }
  });
});

describe("fast q1_0: non-finite block scales", () => {
  it("rows with an Inf, -Inf or NaN d come out Inf or NaN, the others as without them", () => {
    const vocab = 37;
    const dim = 3 * 128;
    const data = randomTable("q1_0", vocab, dim, 21);
    const clean = data.slice();
    const setD = (row: number, block: number, h: number) => {
      data[(row * 3 + block) * 18] = h & 255;
      data[(row * 3 + block) * 18 + 1] = h >> 8;
    };
    setD(3, 1, 0x7e00); // NaN
    setD(17, 0, 0xfc00); // -Inf
    setD(36, 2, 0x7c00); // Inf, in the last, partial tile
    setD(20, 0, 0x7c00); // Inf and -Inf in one row: NaN
    setD(20, 2, 0xfc00);
    const n = 3;
    const hidden = randomValues(n * dim, 22, 2);
    const special = [3, 17, 20, 36];
    for (const chunkRows of [16, undefined]) {
      using head = FastHead.fromBytes(rt, { vocab, dim, format: "q1_0", data, chunkRows });
      using cleanHead = FastHead.fromBytes(rt, { vocab, dim, format: "q1_0", data: clean });
      const got = new Float32Array(n * vocab);
      const base = new Float32Array(n * vocab);
      head.project(hidden, n, got);
      cleanHead.project(hidden, n, base);
      for (let v = 0; v < n; v++) {
        const exact = exactRef(fastSpec("q1_0"), data, vocab, dim, hidden.subarray(v * dim, (v + 1) * dim));
        for (let r = 0; r < vocab; r++) {
          const g = got[v * vocab + r];
          if (special.includes(r)) {
            // as ggml's q1_0 dot product gives them: d * (sum of +-x) per block; a NaN d gives NaN
            expect(Number.isFinite(exact[r])).toBe(false);
            if (r === 3) expect(g).toBeNaN();
            else if (r === 20) expect(Number.isFinite(g)).toBe(false);
            else expect(Math.abs(g)).toBe(Infinity);
          } else {
            expect(Object.is(g, base[v * vocab + r])).toBe(true);
          }
        }
      }
    }
  });
});

describe("FastHead", () => {
  it("fromBytes keeps only the tiled copy and gives the same logits", () => {
    const data = randomTable("q1_0", 50, 256, 11);
    const hidden = randomValues(2 * 256, 12, 2);
    const t = packed("q1_0", 50, 256, data);
    const before = rt.memory.bytesInUse;
    const head = FastHead.fromBytes(rt, { vocab: 50, dim: 256, format: "q1_0", data });
    expect(rt.memory.bytesInUse - before).toBe(Math.ceil(head.byteLength / 16) * 16);
    const a = new Float32Array(100);
    head.project(hidden, 2, a);
    expectSameBits(a, fast(t, hidden, 2), "fromBytes vs table");
    head.dispose();
    expect(rt.memory.bytesInUse).toBe(before);
    t.free();
    expect(() => head.project(hidden, 2, a)).toThrow(/disposed/);
  });

  it("refuses formats without fast kernels and rows of the wrong size, leaving nothing allocated", () => {
    const data = randomTable("q4_0", 4, 64, 1);
    const t = packed("q4_0", 4, 64, data);
    const before = rt.memory.bytesInUse;
    try {
      expect(() => FastHead.of({ ...t, format: "q8_0" })).toThrow(TypeError);
      expect(() => FastHead.of({ ...t, rowBytes: t.rowBytes + 2 })).toThrow(RangeError);
      expect(rt.memory.bytesInUse).toBe(before);
    } finally {
      t.free();
    }
  });
});

describe("fast head of an EmbeddingTable", () => {
  it.each(FORMATS)("%s: built once, kept with the table, freed by its dispose", (format) => {
    const vocab = 20;
    const dim = 2 * fastSpec(format).blockElems;
    const data = randomTable(format, vocab, dim, 5);
    const before = rt.memory.bytesInUse;
    const table = rt.table({ vocab, dim, format, data });
    const hidden = randomValues(2 * dim, 6, 2);
    const a = fast(table, hidden, 2);
    const held = rt.memory.bytesInUse;
    expect(table.fastHead()).toBe(table.fastHead());
    const b = fast(table, hidden, 2);
    expect(rt.memory.bytesInUse).toBe(held);
    expectSameBits(b, a, "second call");
    // releaseFast frees the tiled copy now; the next call builds it again, with the same logits
    const headBytes = (table.fastHead().byteLength + 15) & ~15;
    table.releaseFast();
    expect(rt.memory.bytesInUse).toBe(held - headBytes);
    expectSameBits(fast(table, hidden, 2), a, "after releaseFast");
    checkAgainstReferences(format, data, vocab, dim, hidden, 2, a, "EmbeddingTable");
    table.dispose();
    expect(rt.memory.bytesInUse).toBe(before);
    expect(() => fast(table, hidden, 2)).toThrow(/disposed/);
  });
});

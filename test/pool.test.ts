// table.pool (nn.EmbeddingBag) against the float64 reference (test/reference/pool.ts) over the dequantized
// table: every format, every mode, weights, padding, empty bags, normalize, dims around the SIMD and block
// boundaries, random bags (fast-check), poolInto, and bad input that names the bag, id and offset.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMAT_NAMES, type EmbeddingTable, type Format, type Runtime } from "../src/index.js";
import { expectClose, expectSameBits } from "./helpers/close.js";
import { newRuntime } from "./helpers/runtime.js";
import { randomValues } from "./helpers/values.js";
import { poolRef, type PoolRefOptions } from "./reference/pool.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

/** The table as the decoder sees it: V * D f32 (lookup is checked against each format's reference elsewhere). */
function dequantized(table: EmbeddingTable): Float32Array {
  return table.lookup(Int32Array.from({ length: table.vocab }, (_, i) => i));
}

/**
 * f32 accumulation against float64: |got - ref| <= 2^-23 * (count + 4) * sum|w_i x_i| (+ the smallest normal);
 * max mode picks values, so it matches exactly unless normalized.
 */
function expectPool(got: Float32Array, table: Float32Array, dim: number, ids: ArrayLike<number>, offsets: ArrayLike<number>, o: PoolRefOptions, label: string): void {
  const { values, magnitude, counts } = poolRef(table, dim, ids, offsets, o);
  const scale = Float64Array.from(values, (e, i) =>
    o.mode === "max" ? (o.normalize ? 4e-7 * Math.abs(e) : 0) : 2 ** -23 * (counts[Math.floor(i / dim)] + 4) * magnitude[i],
  );
  expectClose(got, values, { rtol: 1, scale, atol: o.mode === "max" ? 0 : 1.2e-38, nan: true }, `${label} (dim ${dim})`);
}

const DIMS = [1, 3, 4, 5, 8, 31, 32, 33, 64, 100, 128, 129, 257];
// bags: [0, 3) [3, 3) empty [3, 9) [9, 9) empty [9, 10) [10, 14) (padding id 2 appears; bag 5 is only padding)
const IDS = [0, 12, 5, 2, 7, 7, 12, 2, 1, 4, 9, 3, 11, 6, 2, 2];
const OFFSETS = [0, 3, 3, 9, 9, 10, 14];
const WEIGHTS = IDS.map((_, i) => ((i * 7) % 5) - 1.5);

describe.each(FORMAT_NAMES)("%s pool", (format: Format) => {
  it.each(DIMS)("dim %i: every mode, weights, padding, empty bags and normalize match the reference", (dim) => {
    const vocab = 13;
    using table = rt.tableFromF32(randomValues(vocab * dim, dim * 3 + 1, 2), { vocab, dim, format });
    const deq = dequantized(table);
    for (const mode of ["sum", "mean", "max"] as const) {
      for (const weights of mode === "max" ? [undefined] : [undefined, WEIGHTS]) {
        for (const paddingId of [undefined, 2]) {
          for (const normalize of [false, true]) {
            const o = { mode, weights, paddingId, normalize };
            const label = `${format} dim ${dim} ${JSON.stringify({ ...o, weights: !!weights })}`;
            expectPool(table.pool(IDS, OFFSETS, o), deq, dim, IDS, OFFSETS, o, label);
          }
        }
      }
    }
  });

  it("random bags (fast-check): any dim, vocab, bag sizes, mode, weights, padding", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.array(fc.nat(), { maxLength: 12 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom("sum", "mean", "max"),
        fc.boolean(),
        fc.option(fc.nat(), { nil: undefined }),
        fc.boolean(),
        fc.integer(),
        (dim, vocab, rawBags, mode, weighted, rawPad, normalize, seed) => {
          const bags = rawBags.map((b) => b.map((x) => x % vocab));
          const ids = Int32Array.from(bags.flat());
          const offsets = Uint32Array.from(bags.map((_, b) => bags.slice(0, b).reduce((s, x) => s + x.length, 0)));
          const weights = weighted && mode !== "max" ? randomValues(ids.length, seed + 1, 4) : undefined;
          const paddingId = rawPad === undefined ? undefined : rawPad % vocab;
          using table = rt.tableFromF32(randomValues(vocab * dim, seed, 2), { vocab, dim, format });
          const o = { mode, weights, paddingId, normalize };
          const out = new Float32Array(bags.length * dim);
          expect(table.pool(ids, offsets, { ...o, out })).toBe(out);
          expectPool(out, dequantized(table), dim, ids, offsets, o, `${format} dim ${dim} vocab ${vocab} ${mode}`);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("poolInto an F32Buffer: the same bits, left in linear memory", () => {
    const vocab = 40;
    const dim = 96;
    using table = rt.tableFromF32(randomValues(vocab * dim, 5), { vocab, dim, format });
    const ids = [39, 0, 7, 7, 23, 1, 2];
    const offsets = [0, 2, 2, 5];
    using buf = rt.f32Buffer(offsets.length * dim);
    const view = table.poolInto(ids, offsets, buf, { mode: "sum" });
    expect(view.buffer).toBe(rt.memory.memory.buffer);
    expectSameBits(view, table.pool(ids, offsets, { mode: "sum" }), format);
  });
});

describe("pool semantics", () => {
  it("mean is the default mode; a bag of one id is that row; empty bags and all-padding bags are zeros", () => {
    const vocab = 6;
    const dim = 5;
    const values = randomValues(vocab * dim, 9);
    using table = rt.tableFromF32(values, { vocab, dim, format: "f32" });
    const got = table.pool([4, 1, 3, 3, 3], [0, 1, 1, 2], { paddingId: 3 });
    expectSameBits(got.subarray(0, dim), values.subarray(4 * dim, 5 * dim), "one id");
    expect(Array.from(got.subarray(dim, 2 * dim)), "empty bag").toEqual(new Array(dim).fill(0));
    expectSameBits(got.subarray(2 * dim, 3 * dim), values.subarray(dim, 2 * dim), "[1]");
    expect(Array.from(got.subarray(3 * dim)), "only padding").toEqual(new Array(dim).fill(0));
    expect(table.pool([], [0, 0]).length).toBe(2 * dim);
    expect(table.pool([], []).length).toBe(0);
  });

  it("a bag's mean with padding divides by the ids kept (EmbeddingBag excludes padding from the count)", () => {
    using table = rt.tableFromF32(Float32Array.from([2, 4, 100, 100, 6, 8]), { vocab: 3, dim: 2, format: "f32" });
    expect(Array.from(table.pool([0, 1, 2, 1], [0], { paddingId: 1 }))).toEqual([4, 6]);
    expect(Array.from(table.pool([0, 1, 2, 1], [0], { mode: "sum", weights: [1, 5, 0.5, 5], paddingId: 1 }))).toEqual([5, 8]);
    // mean with weights: the weighted rows averaged over the count, as model2vec does
    expect(Array.from(table.pool([0, 2], [0], { mode: "mean", weights: [1, 0.5] }))).toEqual([2.5, 4]);
    expect(Array.from(table.pool([0, 2], [0], { mode: "max", normalize: true }))).toEqual([0.6, 0.8].map(Math.fround));
  });

  it("max keeps NaN and infinities; a sum with an infinity is infinite", () => {
    using table = rt.tableFromF32(Float32Array.from([NaN, 1, -Infinity, 2, 3, Infinity]), { vocab: 3, dim: 2, format: "f32" });
    const max = table.pool([0, 1, 1, 2], [0, 2], { mode: "max" });
    expect(Number.isNaN(max[0])).toBe(true);
    expect(Array.from(max.subarray(1))).toEqual([2, 3, Infinity]);
    expect(Array.from(table.pool([1, 2], [0], { mode: "sum" }))).toEqual([-Infinity, Infinity]);
  });
});

describe("pool: bad input names the problem and leaves the runtime usable", () => {
  const vocab = 10;
  const dim = 4;
  it.each([
    [[0, 1, 2], [1], "`offsets[0]` is 1: the first bag must start at 0"],
    [[0, 1, 2], [0, 2, 1], "`offsets[2]` is 1: smaller than offsets[1] = 2"],
    [[0, 1, 2], [0, 4], "`offsets[1]` is 4: past the end of `ids` (3 ids)"],
    [[0, 1, 2], [0, 1.5], "`offsets[1]` is 1.5: expected a non-negative integer"],
    [[0, 1, 2], [], "`offsets` is empty but `ids` holds 3 ids"],
    [[0, 1, 10], [0, 2], "`ids[2]` (bag 1) is 10: not an integer in [0, 9]"],
    [[0, -1, 3], [0, 1], "`ids[1]` (bag 1) is -1"],
  ])("ids %j offsets %j: %s", (ids, offsets, message) => {
    using table = rt.tableFromF32(randomValues(vocab * dim, 2), { vocab, dim, format: "q8_0" });
    const before = rt.bytesInUse;
    expect(() => table.pool(ids, offsets)).toThrow(RangeError);
    expect(() => table.pool(ids, offsets)).toThrow(message);
    expect(rt.bytesInUse).toBe(before);
    expect(table.pool([1, 2], [0]).length).toBe(dim);
  });

  it("options", () => {
    using table = rt.tableFromF32(randomValues(vocab * dim, 2), { vocab, dim, format: "f16" });
    const before = rt.bytesInUse;
    expect(() => table.pool([1, 2], [0], { mode: "max", weights: [1, 2] })).toThrow('`weights` work with `mode` "sum" or "mean", not "max"');
    expect(() => table.pool([1, 2], [0], { mode: "sum", weights: [1] })).toThrow("`weights` has length 1, expected 2 (one per id)");
    expect(() => table.pool([1, 2], [0], { mode: "sum", weights: [1, "2" as unknown as number] })).toThrow('`weights[1]` (bag 0) is "2"');
    expect(() => table.pool([1, 2], [0], { mode: "sum", weights: new Int8Array(2) as unknown as number[] })).toThrow(TypeError);
    expect(() => table.pool([1, 2], [0], { mode: "median" as "sum" })).toThrow('Unknown `mode` "median". Expected one of: mean, sum, max');
    expect(() => table.pool([1, 2], [0], { paddingId: 10 })).toThrow("`paddingId` is 10; expected an integer in [0, 9]");
    expect(() => table.pool([1, 2], [0, 1], { out: new Float32Array(4) })).toThrow("`out` has length 4, expected 8 (2 bags x dim 4)");
    expect(() => table.pool([1, 2], new Float32Array([0]) as unknown as number[])).toThrow("`offsets` must be an Int32Array");
    expect(() => table.poolInto([1, 2], [0], new Float32Array(4) as never)).toThrow("`out` is Float32Array(4); expected an F32Buffer");
    expect(rt.bytesInUse).toBe(before);
  });
});

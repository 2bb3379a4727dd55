// Lookup of every registry format against its plain reference (test/reference/formats/): dims around every
// SIMD and block boundary (rows padded to whole blocks), ids at the bounds, every ids kind, `out`, and the
// errors that leave the runtime usable.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, FORMAT_NAMES, type Format, type Runtime } from "../src/index.js";
import { expectSameBits, expectSameBytes } from "./helpers/close.js";
import { newRuntime } from "./helpers/runtime.js";
import { wideValues as randomValues } from "./helpers/values.js";
import { lookupRef, packRef } from "./reference/lookup.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

// around the SIMD widths (4, 8, 16 values), and around the format's block and its multiples
const SIMD_DIMS = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 127, 128, 129];
const dimsOf = (E: number) => [...new Set([...SIMD_DIMS, E - 1, E, E + 1, 2 * E + 1, 255, 256, 257, 300, 513])].filter((d) => d > 0).sort((a, b) => a - b);

describe.each(FORMAT_NAMES)("%s lookup", (format: Format) => {
  // one value per block (f32, f16, bf16): many short rows; block formats: fewer rows, each spanning blocks (and
  // their reference quantizers are slow)
  const floats = FORMATS[format].blockElems === 1;
  it.each(dimsOf(FORMATS[format].blockElems))("dim %i: tableFromF32 and table(bytes) both match the reference", (dim) => {
    const vocab = floats ? 37 : 9;
    const values = randomValues(vocab * dim, dim * 7 + 1);
    const packed = packRef(format, values, vocab, dim);
    const ids = [0, vocab - 1, 5, 5, 17, 36, 1, 3].map((i) => i % vocab); // the bounds, repeats, out of order
    using fromF32 = rt.tableFromF32(values, { vocab, dim, format });
    using fromBytes = rt.table({ vocab, dim, format, data: packed });
    expectSameBytes(fromF32.bytes(), packed, packed.length / vocab, `${format} dim ${dim} bytes`);
    const want = lookupRef(format, packed, dim, ids);
    expectSameBits(fromF32.lookup(ids), want, `${format} dim ${dim} fromF32`);
    expectSameBits(fromBytes.lookup(Int32Array.from(ids)), want, `${format} dim ${dim} bytes`);
  });

  it("random tables and ids (fast-check): matches the reference bit for bit, into `out` too", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(1, 65, 100), fc.integer({ min: 1, max: 600 })),
        fc.integer({ min: 1, max: floats ? 64 : 12 }),
        fc.array(fc.nat(), { minLength: 0, maxLength: 40 }),
        fc.integer(),
        (dim, vocab, rawIds, seed) => {
          const values = randomValues(vocab * dim, seed);
          const ids = Uint32Array.from(rawIds, (x) => x % vocab);
          using table = rt.tableFromF32(values, { vocab, dim, format });
          const packed = packRef(format, values, vocab, dim);
          expectSameBytes(table.bytes(), packed, packed.length / vocab, `${format} dim ${dim} bytes`);
          const want = lookupRef(format, packed, dim, ids);
          const out = new Float32Array(ids.length * dim);
          expect(table.lookup(ids, out)).toBe(out);
          expectSameBits(out, want, `${format} dim ${dim} vocab ${vocab}`);
        },
      ),
      { numRuns: floats ? 60 : 40 },
    );
  });

  it("keeps NaN, infinities, signed zeros and subnormals", () => {
    const special = Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 6e-8, 65504, 3.4e38]);
    using table = rt.tableFromF32(special, { vocab: 1, dim: special.length, format });
    expectSameBits(table.lookup([0]), lookupRef(format, packRef(format, special, 1, special.length), special.length, [0]), format);
  });
});

describe("bad input", () => {
  const vocab = 10;
  const dim = 4;
  let values: Float32Array;
  beforeAll(() => {
    values = randomValues(vocab * dim, 3);
  });

  it.each([
    [[0, 10], 1, "10"],
    [[3, -1], 1, "-1"],
    [[1.5], 0, "1.5"],
    [[2, 2, NaN], 2, "NaN"],
    [[0, "3" as unknown as number], 1, '"3"'],
    [Int32Array.from([4, -7]), 1, "-7"],
    [Uint32Array.from([1, 2, 4294967295]), 2, "4294967295"],
  ])("ids %j: RangeError naming position %i and the id", (ids, position, shown) => {
    using table = rt.tableFromF32(values, { vocab, dim, format: "f16" });
    const before = rt.bytesInUse;
    expect(() => table.lookup(ids as number[])).toThrow(RangeError);
    expect(() => table.lookup(ids as number[])).toThrow(`\`ids[${position}]\` is ${shown}`);
    // nothing leaked, and the table still works
    expect(rt.bytesInUse).toBe(before);
    expectSameBits(table.lookup([9]), lookupRef("f16", packRef("f16", values, vocab, dim), dim, [9]), "after error");
  });

  it("wrong kinds and lengths", () => {
    using table = rt.tableFromF32(values, { vocab, dim, format: "bf16" });
    expect(() => table.lookup(new Float64Array([1]) as unknown as number[])).toThrow(TypeError);
    expect(() => table.lookup([1, 2], new Float32Array(7))).toThrow("`out` has length 7, expected 8");
    expect(() => table.lookup([1], new Float64Array(4) as unknown as Float32Array)).toThrow(TypeError);
    expect(() => rt.table({ vocab, dim, format: "f16", data: new Uint8Array(79) })).toThrow(
      "`data` has 79 bytes, expected 80",
    );
    expect(() => rt.table({ vocab, dim, format: "q3" as "f16", data: new Uint8Array(80) })).toThrow(
      'Unknown `format` "q3". Expected one of: f32, f16, bf16',
    );
    expect(() => rt.tableFromF32(values, { vocab: 0, dim, format: "f32" })).toThrow("`vocab` must be a positive integer");
    expect(() => rt.tableFromF32(values, { vocab, dim: 3, format: "f32" })).toThrow("`values` has length 40, expected 30");
  });

  it("a disposed table refuses to work; dispose twice is harmless", () => {
    const table = rt.tableFromF32(values, { vocab, dim, format: "f32" });
    table.dispose();
    table.dispose();
    expect(() => table.lookup([0])).toThrow("disposed");
  });

  it("empty ids give an empty result", () => {
    using table = rt.tableFromF32(values, { vocab, dim, format: "f32" });
    expect(table.lookup([]).length).toBe(0);
  });
});

describe("lookup into an F32Buffer (no copy out of linear memory)", () => {
  it.each(FORMAT_NAMES)("%s: same bits as a lookup into a JS array", (format) => {
    const vocab = 50;
    const dim = 300;
    const values = randomValues(vocab * dim, 11);
    using table = rt.tableFromF32(values, { vocab, dim, format });
    const ids = [49, 0, 7, 7, 23];
    using buf = rt.f32Buffer(ids.length * dim);
    const view = table.lookup(ids, buf);
    expect(view.buffer).toBe(rt.memory.memory.buffer);
    expectSameBits(view, table.lookup(ids), format);
    expect(() => table.lookup([1], buf)).toThrow("`out` has length 1500, expected 300");
    expect(() => table.lookup([50], rt.f32Buffer(dim))).toThrow("`ids[0]` is 50");
  });
});

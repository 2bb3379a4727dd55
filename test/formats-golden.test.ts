// Every registry format against ggml's own outputs (test/fixtures/ggml/, 64 rows x 2048, edge rows 0-7
// included; test/fixtures/bonsai2/ for the formats ggml lacks): the wasm kernels through tableFromF32, quantize(), rt.table() + lookup and dequantize(),
// byte-identical and bit-identical on every row, in both builds. A format without golden files fails here.
// (The plain references are judged against the same files in reference-golden.test.ts, the CLI in cli.test.ts.)
import { existsSync } from "node:fs";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { FORMATS, FORMAT_NAMES, dequantize, quantize, type Format, type Runtime } from "../src/index.js";
import { expectSameBits, expectSameBytes } from "./helpers/close.js";
import { goldenBytes, goldenF32, NOT_IN_GGML } from "./helpers/golden.js";
import { newRuntime } from "./helpers/runtime.js";
import { packRef } from "./reference/lookup.js";

const V = 64;
const D = 2048;
// what rows 0-7 of the golden table hold (test/fixtures/ggml/README.md), for failure messages
const EDGE_ROWS = ["zeros", "all 0.5", "one outlier", "subnormals", "alternating", "negative", "x 1e4", "beyond f16"];

const bytesOf = (name: string) => goldenBytes(`gauss2048.${name}`);
const f32Of = (name: string) => goldenF32(`gauss2048.${name}`);

let rt: Runtime;
let source: Float32Array;
beforeAll(async () => {
  rt = await newRuntime();
  source = f32Of("f32");
});

describe.each(FORMAT_NAMES)("%s against ggml's golden files", (format: Format) => {
  const info = FORMATS[format];
  const rowBytes = (D / info.blockElems) * info.blockBytes;
  const allIds = Array.from({ length: V }, (_, i) => i);
  // read in each test, so that a missing file fails every check rather than a hook
  let gold: Uint8Array;
  let goldDeq: Float32Array;
  beforeEach(() => {
    gold ??= bytesOf(`${format}.bin`);
    goldDeq ??= f32Of(`${format}.deq.f32`);
  });

  it("has its golden files (ggml's, with the GGUF ggml writes, for every format ggml has)", () => {
    const files = NOT_IN_GGML.includes(format) ? ["bin", "deq.f32", "logits.f32"] : ["bin", "deq.f32", "logits.f32", "gguf"];
    const dir = NOT_IN_GGML.includes(format) ? "bonsai2" : "ggml";
    for (const ext of files) {
      const name = `gauss2048.${format}.${ext}`;
      expect(existsSync(new URL(`./fixtures/${dir}/${name}`, import.meta.url)), `test/fixtures/${dir}/${name}`).toBe(true);
    }
  });

  it("tableFromF32 stores ggml's bytes, every row, and looks them up as ggml dequantizes them", () => {
    using table = rt.tableFromF32(source, { vocab: V, dim: D, format });
    expectSameBytes(table.bytes(), gold, rowBytes, `tableFromF32 (rows 0-7: ${EDGE_ROWS.join(", ")})`);
    expectSameBits(table.lookup(allIds), goldDeq, "lookup of the quantized table");
  });

  it("quantize() and rt.quantize() return ggml's bytes", () => {
    expectSameBytes(quantize(source, { vocab: V, dim: D, format }), gold, rowBytes, "quantize");
    expectSameBytes(rt.quantize(source, { vocab: V, dim: D, format }), gold, rowBytes, "rt.quantize");
    expectSameBytes(quantize(source, { vocab: V, dim: D, format, runtime: rt }), gold, rowBytes, "quantize with runtime");
  });

  it("rt.table over ggml's bytes decodes to ggml's values, every row", () => {
    using table = rt.table({ vocab: V, dim: D, format, data: gold });
    expectSameBits(table.lookup(allIds), goldDeq, "lookup");
    // ids at the bounds, repeated, out of order, edge rows
    const ids = [V - 1, 0, 2, 3, 3, 7];
    expectSameBits(table.lookup(new Int32Array(ids)), rowsOf(goldDeq, ids), "lookup of bounds and edge rows");
    using buf = rt.f32Buffer(2 * D);
    expectSameBits(table.lookup([6, 1], buf).slice(), rowsOf(goldDeq, [6, 1]), "lookup into an F32Buffer");
  });

  it("rt.dequantize() and dequantize() return ggml's values", () => {
    expectSameBits(rt.dequantize(gold, { vocab: V, dim: D, format }), goldDeq, "rt.dequantize");
    expectSameBits(dequantize(gold.slice().buffer, { vocab: V, dim: D, format, runtime: rt }), goldDeq, "dequantize");
  });

  it("refuses packed bytes of the wrong length", () => {
    expect(() => rt.table({ vocab: V, dim: D, format, data: gold.subarray(1) })).toThrow(RangeError);
    expect(() => rt.table({ vocab: V, dim: D, format, data: gold.subarray(1) })).toThrow(
      `\`data\` has ${gold.length - 1} bytes, expected ${gold.length}`,
    );
    expect(() => rt.dequantize(gold.subarray(0, rowBytes), { vocab: V, dim: D, format })).toThrow(RangeError);
  });
});

/** The given rows of a V x D table, back to back. */
function rowsOf(values: Float32Array, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * D);
  rows.forEach((r, i) => out.set(values.subarray(r * D, (r + 1) * D), i * D));
  return out;
}

describe("format errors", () => {
  it("an unknown format name is refused with the valid choices", () => {
    const data = new Uint8Array(18);
    // @ts-expect-error: not a format
    expect(() => rt.table({ vocab: 1, dim: 128, format: "q3", data })).toThrow(TypeError);
    // @ts-expect-error: not a format
    expect(() => rt.table({ vocab: 1, dim: 128, format: "q3", data })).toThrow(/Unknown `format` "q3". Expected one of: .*q1_0/);
    // @ts-expect-error: not a format
    expect(() => quantize(new Float32Array(4), { vocab: 1, dim: 4, format: "Q8_0" })).toThrow(TypeError);
  });

  it("quantize refuses values of the wrong length or kind", () => {
    expect(() => rt.quantize(new Float32Array(5), { vocab: 2, dim: 2, format: "q8_0" })).toThrow(RangeError);
    expect(() => rt.quantize([1, 2] as unknown as Float32Array, { vocab: 1, dim: 2, format: "q8_0" })).toThrow(TypeError);
  });

  it("quantize() uses the newest runtime, and forgets it once disposed", async () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => i - 30);
    const rt2 = await newRuntime();
    const alloc = vi.spyOn(rt2.memory, "alloc");
    expect(quantize(values, { vocab: 2, dim: 32, format: "q8_0" })).toEqual(packRef("q8_0", values, 2, 32));
    expect(alloc).toHaveBeenCalled(); // the work ran in rt2's memory
    expect(rt2.bytesInUse).toBe(0); // and its slices were freed
    rt2.dispose();
    expect(() => quantize(values, { vocab: 2, dim: 32, format: "q8_0" })).toThrow(/needs an initialised runtime/);
    expect(quantize(values, { vocab: 2, dim: 32, format: "q8_0", runtime: rt })).toEqual(packRef("q8_0", values, 2, 32));
  });

  it("quantize without any runtime says how to get one", async () => {
    vi.resetModules();
    const fresh = await import("../src/formats/quantize.js");
    expect(() => fresh.quantize(new Float32Array(32), { vocab: 1, dim: 32, format: "q8_0" })).toThrow(/needs an initialised runtime/);
  });
});

// table.stats(source): quantization error against the f32 source, judged by a plain float64 reference over
// the reference dequantization, and by closed forms (f32 is exact; a zero row against a zero row is cosine 1).
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMAT_NAMES, type Format, type Runtime, type TableStats } from "../src/index.js";
import { expectClose } from "./helpers/close.js";
import { newRuntime } from "./helpers/runtime.js";
import { gaussianValues as gaussian } from "./helpers/values.js";
import { lookupRef, packRef } from "./reference/lookup.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

// The reference: quantize and dequantize each zero-padded row, then plain float64 sums.
function statsRef(format: Format, source: Float32Array, vocab: number, dim: number): TableStats {
  const all = Array.from({ length: vocab }, (_, r) => r);
  const table = lookupRef(format, packRef(format, source, vocab, dim), dim, all);
  let squared = 0;
  let signal = 0;
  let maxAbs = 0;
  let cosines = 0;
  for (let r = 0; r < vocab; r++) {
    const row = source.subarray(r * dim, (r + 1) * dim);
    const decoded = table.subarray(r * dim, (r + 1) * dim);
    let dot = 0;
    let ss = 0;
    let dd = 0;
    for (let j = 0; j < dim; j++) {
      const e = decoded[j] - row[j];
      squared += e * e;
      maxAbs = Math.max(maxAbs, Math.abs(e));
      dot += row[j] * decoded[j];
      ss += row[j] * row[j];
      dd += decoded[j] * decoded[j];
    }
    signal += ss;
    cosines += ss === 0 && dd === 0 ? 1 : ss === 0 || dd === 0 ? 0 : dot / Math.sqrt(ss * dd);
  }
  return {
    rmse: Math.sqrt(squared / (vocab * dim)),
    relativeRmse: Math.sqrt(squared / signal),
    maxAbsError: maxAbs,
    meanCosine: cosines / vocab,
  };
}

describe.each(FORMAT_NAMES)("%s stats", (format: Format) => {
  it.each([
    [7, 100],
    [3, 256],
    [600, 33],
  ])("match the reference for vocab %i x dim %i", (vocab, dim) => {
    const source = gaussian(vocab * dim, vocab * 31 + dim);
    source.fill(0, 0, dim); // a zero row stays zero in every format (q1_0 gives +-0)
    const table = rt.tableFromF32(source, { vocab, dim, format });
    const got = table.stats(source);
    const want = statsRef(format, source, vocab, dim);
    expectClose(
      [got.rmse, got.relativeRmse, got.maxAbsError, got.meanCosine],
      [want.rmse, want.relativeRmse, want.maxAbsError, want.meanCosine],
      { rtol: 1e-12 },
      `${format} stats`,
    );
    // a lossy format's mean cosine is below 1 (measured: 0.79 at worst, tq1_0 and tq2_0); a lossless one's is 1
    expect(got.meanCosine < 1, `cosine ${got.meanCosine}, max error ${got.maxAbsError}`).toBe(got.maxAbsError > 0);
    expect(got.meanCosine).toBeGreaterThan(0.7);
    table.dispose();
  });
});

describe("stats closed forms and errors", () => {
  it("an f32 table is exact: zero error, cosine 1", () => {
    const source = gaussian(50 * 64, 5);
    source.fill(0, 64, 128);
    const table = rt.tableFromF32(source, { vocab: 50, dim: 64, format: "f32" });
    expect(table.stats(source)).toEqual({ rmse: 0, relativeRmse: 0, maxAbsError: 0, meanCosine: 1 });
    table.dispose();
  });

  it("measures against ggml's golden table (rows 0-6; row 7, 131008, overflows f16)", () => {
    const buf = readFileSync(new URL("./fixtures/ggml/gauss2048.f32", import.meta.url));
    const source = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + 7 * 2048 * 4));
    for (const format of FORMAT_NAMES) {
      const table = rt.tableFromF32(source, { vocab: 7, dim: 2048, format });
      const got = table.stats(source);
      const want = statsRef(format, source, 7, 2048);
      expectClose([got.rmse, got.maxAbsError, got.meanCosine], [want.rmse, want.maxAbsError, want.meanCosine], { rtol: 1e-12 }, format);
      table.dispose();
    }
  });

  it("refuses a source of the wrong length or kind", () => {
    const table = rt.tableFromF32(new Float32Array(64), { vocab: 2, dim: 32, format: "q8_0" });
    expect(() => table.stats(new Float32Array(63))).toThrow(RangeError);
    expect(() => table.stats([0] as unknown as Float32Array)).toThrow(TypeError);
    table.dispose();
  });
});

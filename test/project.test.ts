// table.project in exact mode against a float64 reference over the dequantized table: every format, dims
// around the SIMD and block boundaries, batches around the groups of four, slices and passes, the golden
// ggml tables, post-processing, untied heads and bad input.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { FAST_FORMAT_NAMES, FORMATS, FORMAT_NAMES, type Format, type Runtime, type EmbeddingTable } from "../src/index.js";
import { newRuntime, testBuild } from "./helpers/runtime.js";
import { expectClose } from "./helpers/close.js";
import { randomValues } from "./helpers/values.js";
import { projectRef } from "./reference/project.js";
import { goldenBytes, goldenF32 } from "./helpers/golden.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});


/** The table as the decoder sees it: V * D f32 (block formats dequantized). */
function dequantized(table: EmbeddingTable): Float32Array {
  return table.lookup(Int32Array.from({ length: table.vocab }, (_, i) => i));
}

/** Exact-mode tolerance: 1e-5 of the sum of |products| (plus the smallest normal, for all-zero rows). */
function expectProjection(got: Float32Array, table: Float32Array, vocab: number, dim: number, hidden: Float32Array, label: string): void {
  const { logits, magnitude } = projectRef(table, vocab, dim, hidden);
  expectClose(got, logits, { atol: 1.2e-38, rtol: 1e-5, scale: magnitude, nan: true }, `${label}: logits (rtol of the sum |products|)`);
}

const DIMS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 128, 129, 257];
const BATCHES = [1, 2, 3, 4, 5, 8, 9];

describe.each(FORMAT_NAMES)("%s exact projection", (format: Format) => {
  it.each(DIMS)("dim %i, batches 1..9: matches the float64 reference", (dim) => {
    const vocab = 13;
    using table = rt.tableFromF32(randomValues(vocab * dim, dim + 11), { vocab, dim, format });
    const deq = dequantized(table);
    for (const n of BATCHES) {
      const hidden = randomValues(n * dim, n * 31 + dim, 4);
      expectProjection(table.project(hidden, { mode: "exact" }), deq, vocab, dim, hidden, `${format} dim ${dim} n ${n}`);
    }
  });

  it("several slices and several passes over the table", () => {
    // 70001 rows span two slices of scores; 37 vectors of dim 2048 need two passes
    for (const [vocab, dim, n] of [
      [70001, 9, 5],
      [23, 2048, 37],
      [50, 2049, 3], // long rows and a small batch: rows go four at a time
      [50, 1023, 1], // just under the four-row threshold
      [50, 1024, 2], // the shortest rows that go four at a time
    ]) {
      using table = rt.tableFromF32(randomValues(vocab * dim, vocab), { vocab, dim, format });
      const hidden = randomValues(n * dim, dim);
      expectProjection(table.project(hidden, { mode: "exact" }), dequantized(table), vocab, dim, hidden, `${format} ${vocab}x${dim} n ${n}`);
    }
  });

  it("golden ggml table (gauss2048, 64 x 2048, edge rows included) against its dequantization", () => {
    const [vocab, dim] = [64, 2048];
    using table = rt.table({ vocab, dim, format, data: goldenBytes(`gauss2048.${format}.bin`) });
    const hidden = goldenF32("gauss2048.hidden.f32");
    const deq = goldenF32(`gauss2048.${format}.deq.f32`);
    expectProjection(table.project(hidden, { mode: "exact" }), deq, vocab, dim, hidden, `${format} golden`);
    // one vector takes the formats' direct dot kernels where they have them
    const one = hidden.subarray(dim, 2 * dim);
    expectProjection(table.project(one, { mode: "exact" }), deq, vocab, dim, one, `${format} golden, one vector`);
  });
});

describe(`the build under test (${testBuild})`, () => {
  // w0 x0 = -(1 + 2^-11) sits in an accumulator lane when w16 x16 = (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 arrives
  // in the same lane (dot kernels sum elements 16 apart in one lane): rounding the product first loses the
  // 2^-24, a fused multiply-add keeps it, and the float64 value is 2^-24.
  it("exact-mode dots: separate multiply and add in the baseline build, fused in the relaxed one (CPUs with FMA)", () => {
    expect(rt.relaxedSimd).toBe(testBuild === "relaxed");
    const dim = 32;
    const w = new Float32Array(dim);
    const x = new Float32Array(dim);
    w[0] = -(1 + 2 ** -11);
    x[0] = 1;
    w[16] = x[16] = 1 + 2 ** -12;
    using table = rt.tableFromF32(w, { vocab: 1, dim, format: "f32" });
    const [logit] = table.project(x);
    const cpuinfo = (() => {
      try {
        return readFileSync("/proc/cpuinfo", "utf8");
      } catch {
        return "";
      }
    })();
    // x86 CPUs without FMA (pre-Haswell) make V8 lower relaxed_madd to a multiply and an add
    const fusedHere = testBuild === "relaxed" && !(process.arch === "x64" && cpuinfo !== "" && !/\bfma\b/.test(cpuinfo));
    expect(logit).toBe(fusedHere ? 2 ** -24 : 0);
  });
});

// the float formats (one value per block): inf and NaN reach the dots as they are
describe.each(FORMAT_NAMES.filter((f) => FORMATS[f].blockElems === 1))("%s special values", (format) => {
  // dim 1029: rows go four at a time in the direct half dots (rows 0-3 and 4-7 hold inf or NaN, 8-11 do not)
  it.each([21, 1029])("inf, NaN, subnormals and values beyond f16 give the reference's inf, NaN and sums (dim %i, batches 1 and 5)", (dim) => {
    const vocab = 13;
    const values = randomValues(vocab * dim, 77, 4);
    const specials: [number, number][] = [[0, Infinity], [dim + 3, -Infinity], [2 * dim + 5, NaN], [3 * dim, 1e-40], [4 * dim + 20, 1e5], [5 * dim + 1, Infinity], [5 * dim + 2, -Infinity]];
    // subnormal and largest halves in rows without inf or NaN (the direct f16 dots convert them without their
    // special path), one of them in the scalar tail of dim 1029
    specials.push([8 * dim + 4, 3e-5], [8 * dim + 5, -1e-6], [8 * dim + 6, 6e-8], [8 * dim + 7, -0], [9 * dim + 7, 65504], [9 * dim + 8, -65504], [10 * dim - 1, 2e-6]);
    for (const [at, v] of specials) values[at] = v;
    using table = rt.tableFromF32(values, { vocab, dim, format });
    for (const n of [1, 5]) {
      const hidden = randomValues(n * dim, n, 2);
      expectProjection(table.project(hidden), dequantized(table), vocab, dim, hidden, `${format} specials dim ${dim} n ${n}`);
    }
  });
});

// f32 rows against 1..3 vectors go in four long row streams (assembly/project.ts dotBlocks4): the rows of a call
// are cut into four blocks whose length depends on the call's row count, and the rows left over go in fours or
// alone. Every path sums a row in one order, so a row's logit cannot depend on which rows share its call (the
// threaded calls cut the rows differently) nor on how many of 1..3 vectors ride along.
describe("f32 exact, 1..3 vectors: one summation order per row", () => {
  it.each([5, 64, 131, 1031])("dim %i: any window of rows and any batch of 1..3 gives the full table's bits", (dim) => {
    const vocab = 53;
    const values = randomValues(vocab * dim, dim + 5);
    using full = rt.tableFromF32(values, { vocab, dim, format: "f32" });
    const hidden = randomValues(3 * dim, dim + 6, 4);
    const all = full.project(hidden, { mode: "exact" });
    const deq = dequantized(full);
    expectProjection(all, deq, vocab, dim, hidden, `f32 dim ${dim} n 3`);
    for (let b = 0; b < 3; b++) {
      const one = hidden.subarray(b * dim, (b + 1) * dim);
      // window lengths: 1..3 rows alone, four-row groups with 0..3 left over, even and odd block lengths
      for (const [r0, rows] of [[0, 1], [7, 3], [1, 4], [2, 7], [3, 8], [4, 11], [5, 16], [0, 17], [9, 24], [6, 33], [0, vocab]]) {
        using part = rt.tableFromF32(values.subarray(r0 * dim, (r0 + rows) * dim), { vocab: rows, dim, format: "f32" });
        const got = part.project(one, { mode: "exact" });
        const want = all.subarray(b * vocab + r0, b * vocab + r0 + rows);
        expect(Array.from(new Uint32Array(got.buffer, got.byteOffset, rows)), `dim ${dim} vector ${b} rows ${r0}..${r0 + rows - 1}`).toEqual(
          Array.from(new Uint32Array(want.buffer.slice(want.byteOffset, want.byteOffset + rows * 4))),
        );
      }
    }
  });
});

describe("options", () => {
  const [vocab, dim, n] = [300, 64, 3];
  const values = randomValues(vocab * dim, 5);
  const hidden = randomValues(n * dim, 6, 8);

  it("`out` is filled and returned; a second call overwrites it", () => {
    using table = rt.tableFromF32(values, { vocab, dim, format: "f16" });
    const out = new Float32Array(n * vocab).fill(NaN);
    expect(table.project(hidden, { out })).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(table.project(hidden)));
  });

  it("scale then soft-cap equal the plain formulas on the exact logits", () => {
    using table = rt.tableFromF32(values, { vocab, dim, format: "f32" });
    const plain = table.project(hidden);
    const scaled = table.project(hidden, { scale: 0.25 });
    const capped = table.project(hidden, { scale: 0.5, softcap: 3 });
    expect(Array.from(scaled)).toEqual(Array.from(plain, (x) => Math.fround(x * 0.25)));
    expectClose(capped, Array.from(plain, (x) => 3 * Math.tanh(Math.fround(x * 0.5) / 3)), { atol: 3 * 2 ** -22 }, "soft-capped");
  });

  it('mode "fast" is accepted for every format and stays close to exact', () => {
    for (const format of FORMAT_NAMES) {
      using table = rt.tableFromF32(values, { vocab, dim, format });
      const exact = table.project(hidden, { mode: "exact" });
      const fast = table.project(hidden, { mode: "fast" });
      const scale = exact.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expectClose(fast, exact, { atol: 0.05 * scale }, `${format} fast vs exact`);
    }
  });
});

describe("default mode", () => {
  const [vocab, dim, n] = [200, 256, 3];
  const values = randomValues(vocab * dim, 12);
  const hidden = randomValues(n * dim, 13, 4);

  it.each(FORMAT_NAMES)("%s: the registry's default mode (fast, ggml or exact); NaN still refused", (format) => {
    using table = rt.tableFromF32(values, { vocab, dim, format });
    const byDefault = table.project(hidden);
    const exact = table.project(hidden, { mode: "exact" });
    const fast = table.project(hidden, { mode: "fast" });
    const ggml = table.project(hidden, { mode: "ggml" });
    const lowBit = FAST_FORMAT_NAMES.includes(format);
    const intDot = FORMATS[format].defaultMode === "ggml";
    expect(FORMATS[format].defaultMode).toBe(lowBit ? "fast" : intDot ? "ggml" : "exact");
    // "ggml" is the default only where the format has integer dots (and where they measured faster than exact)
    if (intDot) expect(FORMATS[format].intDot && !lowBit).toBe(true);
    expect(Array.from(byDefault)).toEqual(Array.from(lowBit ? fast : intDot ? ggml : exact));
    if (lowBit) expect(Array.from(fast)).not.toEqual(Array.from(exact));
    if (FORMATS[format].intDot) expect(Array.from(ggml)).not.toEqual(Array.from(exact));
    const scaled = table.project(hidden, { scale: 0.5, softcap: 2 });
    expectClose(scaled, Array.from(byDefault, (x) => 2 * Math.tanh((x * 0.5) / 2)), { atol: 1e-6 }, `${format} scaled and capped`);
    const bad = hidden.slice();
    bad[dim + 5] = NaN;
    expect(() => table.project(bad)).toThrow(`\`hidden[${dim + 5}]\` is NaN (vector 1, element 5)`);
  });
});

describe("untied heads", () => {
  it("a separate head table of another vocab projects the same way", () => {
    const dim = 48;
    using embed = rt.tableFromF32(randomValues(100 * dim, 1), { vocab: 100, dim, format: "bf16" });
    const headValues = randomValues(517 * dim, 2);
    using head = rt.tableFromF32(headValues, { vocab: 517, dim, format: "f32" });
    // hidden states taken from the embedding table, logits from the head
    const hidden = embed.lookup([3, 99, 0]);
    const logits = head.project(hidden);
    expect(logits.length).toBe(3 * 517);
    expectProjection(logits, headValues, 517, dim, hidden, "head");
    const best = head.argmax(hidden);
    for (let b = 0; b < 3; b++) {
      const row = logits.subarray(b * 517, (b + 1) * 517);
      expect(best[b]).toBe(row.indexOf(Math.max(...row)));
    }
  });
});

describe("bad input", () => {
  const [vocab, dim] = [10, 4];
  const values = randomValues(vocab * dim, 3);

  it("wrong kinds, lengths, modes and options name the parameter", () => {
    using table = rt.tableFromF32(values, { vocab, dim, format: "f32" });
    const before = rt.bytesInUse;
    expect(() => table.project(new Float64Array(4) as unknown as Float32Array)).toThrow(TypeError);
    expect(() => table.project(new Float32Array(6))).toThrow("`hidden` has length 6, expected a positive multiple of dim 4");
    expect(() => table.project(new Float32Array(0))).toThrow(RangeError);
    expect(() => table.project(new Float32Array(8), { out: new Float32Array(19) })).toThrow("`out` has length 19, expected 20");
    expect(() => table.project(new Float32Array(4), { mode: "turbo" as "exact" })).toThrow('Unknown `mode` "turbo"');
    expect(() => table.project(new Float32Array(4), { scale: 0 })).toThrow("`scale` is 0");
    expect(() => table.project(new Float32Array(4), { softcap: -1 })).toThrow("`softcap` is -1");
    expect(rt.bytesInUse).toBe(before);
  });

  it("NaN in hidden: a RangeError naming the position, nothing leaked", () => {
    using table = rt.tableFromF32(values, { vocab, dim, format: "f16" });
    const before = rt.bytesInUse;
    for (const at of [0, 3, 6, 11]) {
      const hidden = new Float32Array(12).fill(1);
      hidden[at] = NaN;
      const where = `\`hidden[${at}]\` is NaN (vector ${Math.floor(at / 4)}, element ${at % 4})`;
      expect(() => table.project(hidden)).toThrow(where);
      expect(() => table.topk(hidden, 2)).toThrow(where);
    }
    expect(rt.bytesInUse).toBe(before);
  });

  it("a disposed table refuses", () => {
    const table = rt.tableFromF32(values, { vocab, dim, format: "f32" });
    table.dispose();
    expect(() => table.project(new Float32Array(4))).toThrow("disposed");
    expect(() => table.topk(new Float32Array(4), 1)).toThrow("disposed");
    expect(() => table.nearest(new Float32Array(4), 1)).toThrow("disposed");
  });
});

describe.each(FORMAT_NAMES)('%s mode "ggml"', (format: Format) => {
  // (pq2_0 and ptq1_0: logits made from the fork's integer dot over Q8_0 activations, fixtures/bonsai2/README.md)
  it("reproduces ggml's golden logits (activations rounded as its CPU backend rounds them)", () => {
    const f32 = goldenF32;
    const [vocab, dim] = [64, 2048];
    using table = rt.table({ vocab, dim, format, data: goldenBytes(`gauss2048.${format}.bin`) });
    const hidden = f32("gauss2048.hidden.f32");
    const golden = f32(`gauss2048.${format}.logits.f32`);
    const { magnitude } = projectRef(f32(`gauss2048.${format}.deq.f32`), vocab, dim, hidden);
    // (q4_1's and q5_1's minimum term takes Q8_1's s = f16(d * sum q) per block, which rounded activations cannot
    // express: their integer dots, registry intDot, use it)
    const tol = 1e-5;
    const got = table.project(hidden, { mode: "ggml" });
    const exact = table.project(hidden, { mode: "exact" });
    let worstGgml = 0;
    let worstExact = 0;
    for (let i = 0; i < golden.length; i++) {
      if (!Number.isFinite(golden[i])) {
        expect(got[i]).toBe(golden[i]);
        continue;
      }
      // below the smallest normal, ggml's flush-to-zero decides (golden row 3 is all subnormal)
      const scale = magnitude[i] + 1.2e-38 / tol;
      worstGgml = Math.max(worstGgml, Math.abs(got[i] - golden[i]) / scale);
      worstExact = Math.max(worstExact, Math.abs(exact[i] - golden[i]) / scale);
    }
    expect(worstGgml, `worst error relative to sum |products| (exact mode: ${worstExact})`).toBeLessThanOrEqual(tol);
    // and the rounding is what brings it there: exact mode is further from ggml for rounded activations
    if (format !== "f32") expect(worstExact).toBeGreaterThan(worstGgml);
  });
});

// table.topk / argmax / nearest / analogy against plain references, and the logits helpers.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMAT_NAMES, logSoftmax, scaleLogits, softcap, softmax, type Runtime } from "../src/index.js";
import { expectClose } from "./helpers/close.js";
import { newRuntime } from "./helpers/runtime.js";
import { metricRef, topkRef } from "./reference/project.js";
import { randomValues } from "./helpers/values.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

describe.each(FORMAT_NAMES)("%s topk", (format) => {
  it("equals sorting the projected logits (ties by lower id), for k from 1 to vocab", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer(),
        (vocab, dim, n, seed) => {
          // duplicated rows make exact ties
          const values = randomValues(vocab * dim, seed);
          values.copyWithin(0, dim * Math.floor(vocab / 2), dim * (Math.floor(vocab / 2) + 1));
          using table = rt.tableFromF32(values, { vocab, dim, format });
          const hidden = randomValues(n * dim, seed + 1);
          // the default mode ("fast" for low-bit formats) and "exact"
          for (const mode of [undefined, "exact"] as const) {
            const logits = table.project(hidden, { mode });
            for (const k of new Set([1, Math.min(2, vocab), Math.min(5, vocab), vocab])) {
              const got = table.topk(hidden, k, { mode });
              const want = topkRef(logits, n, vocab, k);
              expect(Array.from(got.ids)).toEqual(want.ids.flat());
              expect(Array.from(got.scores)).toEqual(want.scores.flat());
            }
            expect(Array.from(table.argmax(hidden, { mode }))).toEqual(topkRef(logits, n, vocab, 1).ids.flat());
          }
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe("topk", () => {
  it("over many slices, with scale and soft-cap applied to the kept scores", () => {
    const [vocab, dim, n] = [150001, 8, 3];
    using table = rt.tableFromF32(randomValues(vocab * dim, 9), { vocab, dim, format: "f32" });
    const hidden = randomValues(n * dim, 10, 10);
    const logits = table.project(hidden);
    const want = topkRef(logits, n, vocab, 40);
    const got = table.topk(hidden, 40, { scale: 0.5, softcap: 2 });
    expect(Array.from(got.ids)).toEqual(want.ids.flat());
    const capped = want.scores.flat().map((x) => 2 * Math.tanh(Math.fround(x * 0.5) / 2));
    expectClose(got.scores, capped, { atol: 2 * 2 ** -22 }, "capped scores");
  });

  it("batches past one pass (exact: 37 vectors of dim 2048; fast: 11 vectors in groups of 8)", () => {
    for (const [format, vocab, dim, n] of [
      ["f32", 40, 2048, 37],
      ["q1_0", 3000, 256, 11],
    ] as const) {
      using table = rt.tableFromF32(randomValues(vocab * dim, 21), { vocab, dim, format });
      const hidden = randomValues(n * dim, 22);
      const want = topkRef(table.project(hidden), n, vocab, 7);
      const got = table.topk(hidden, 7);
      expect(Array.from(got.ids)).toEqual(want.ids.flat());
      expect(Array.from(got.scores)).toEqual(want.scores.flat());
    }
  });

  it("rejects k out of [1, vocab]", () => {
    using table = rt.tableFromF32(randomValues(40, 1), { vocab: 10, dim: 4, format: "f32" });
    const before = rt.bytesInUse;
    for (const k of [0, 11, 1.5, -1, NaN]) expect(() => table.topk(new Float32Array(4), k)).toThrow("`k` is");
    expect(rt.bytesInUse).toBe(before);
  });
});

describe.each(FORMAT_NAMES)("%s nearest", (format) => {
  it.each(["cosine", "dot", "l2"] as const)("%s: the K best by the float64 metric, exclusions honoured", (metric) => {
    const [vocab, dim] = [500, 33];
    using table = rt.tableFromF32(randomValues(vocab * dim, 4), { vocab, dim, format });
    const deq = table.lookup(Int32Array.from({ length: vocab }, (_, i) => i));
    const v = randomValues(dim, 5);
    const exclude = [7, 499, 0];
    const k = 10;
    const got = table.nearest(v, k, { metric, exclude, mode: "exact" });
    const ref = metricRef(deq, vocab, dim, v, metric);
    const sign = metric === "l2" ? 1 : -1;
    const order = Array.from({ length: vocab }, (_, i) => i)
      .filter((i) => !exclude.includes(i))
      .sort((a, b) => sign * (ref[a] - ref[b]));
    // ranks may swap only between rows whose scores agree within the tolerance
    const tol = 1e-4 * Math.max(...Array.from(ref, Math.abs));
    const refOfGot = Array.from(got.ids, (id) => ref[id]);
    for (const id of got.ids) expect(exclude).not.toContain(id);
    expectClose(refOfGot, order.slice(0, k).map((id) => ref[id]), { atol: tol }, `${metric}: reference scores of the ranks`);
    expectClose(got.scores, refOfGot, { atol: tol }, `${metric}: scores`);
  });
});

describe("nearest and analogy", () => {
  it("a row's nearest by cosine is itself, unless excluded; norms are cached and freed", () => {
    const [vocab, dim] = [64, 20];
    const table = rt.tableFromF32(randomValues(vocab * dim, 8), { vocab, dim, format: "f32" });
    const row = table.lookup([17]);
    expect(table.nearest(row, 1).ids[0]).toBe(17);
    const inUse = rt.bytesInUse;
    expect(table.nearest(row, 2, { exclude: [17] }).ids).not.toContain(17);
    expect(rt.bytesInUse).toBe(inUse); // the norms were computed once
    table.dispose();
    expect(rt.bytesInUse).toBe(inUse - table.byteLength - Math.ceil((vocab * 4) / 16) * 16);
  });

  it("fewer candidates than k (exclusions, zero rows under cosine) pad with -1 and NaN", () => {
    const values = new Float32Array(4 * 2);
    values.set([1, 0, 0, 1]);
    using table = rt.tableFromF32(values, { vocab: 4, dim: 2, format: "f32" });
    const got = table.nearest(Float32Array.from([1, 0.5]), 4, { exclude: [1] });
    expect(Array.from(got.ids)).toEqual([0, -1, -1, -1]);
    expect(Number.isNaN(got.scores[1])).toBe(true);
  });

  it("analogy: a - b + c on a built table, inputs excluded", () => {
    // 0 king = royal + male, 1 man = male, 2 woman = female, 3 queen = royal + female, 4 noise
    const rows = [
      [1, 1, 0, 0.1],
      [0, 1, 0, 0.1],
      [0, 0, 1, 0.1],
      [1, 0, 1, 0.1],
      [0.2, 0.3, 0.3, 1],
    ];
    using table = rt.tableFromF32(Float32Array.from(rows.flat()), { vocab: 5, dim: 4, format: "f32" });
    const got = table.analogy(0, 1, 2, 2);
    expect(Array.from(got.ids)).toEqual([3, 4]);
  });

  it("bad metric, vector and exclude", () => {
    using table = rt.tableFromF32(randomValues(40, 1), { vocab: 10, dim: 4, format: "f32" });
    expect(() => table.nearest(new Float32Array(4), 1, { metric: "manhattan" as "l2" })).toThrow('Unknown `metric` "manhattan"');
    expect(() => table.nearest(new Float32Array(5), 1)).toThrow("`vector` has length 5, expected 4");
    expect(() => table.nearest(Float32Array.from([0, NaN, 0, 0]), 1)).toThrow("`vector[1]` is NaN");
    expect(() => table.nearest(new Float32Array(4), 1, { exclude: [3, 10] })).toThrow("`exclude[1]` is 10");
    expect(() => table.analogy(1, 10, 2)).toThrow("`b` is 10; expected a row id in [0, 9]");
    expect(() => table.analogy(1, 2, 3, 0)).toThrow("`k` is 0");
  });
});

describe("logits helpers", () => {
  const logits = () => Float32Array.from([1, 2, 3, -1, 1000, 999, 0, -Infinity]);

  it("softmax and logSoftmax per row, with temperature, equal float64 formulas", () => {
    for (const t of [1, 0.5, 3]) {
      const x = logits();
      const p = softmax(x.slice(), { temperature: t, size: 4 });
      const lp = logSoftmax(x.slice(), { temperature: t, size: 4 });
      for (let at = 0; at < 8; at += 4) {
        const row = Array.from(x.subarray(at, at + 4));
        const max = Math.max(...row);
        const lse = Math.log(row.reduce((s, v) => s + Math.exp((v - max) / t), 0));
        const wantLog = row.map((v) => (v - max) / t - lse);
        expectClose(lp.subarray(at, at + 4), wantLog, { rtol: 1e-6, atol: 1e-6 }, `logSoftmax t ${t}`);
        expectClose(p.subarray(at, at + 4), wantLog.map(Math.exp), { rtol: 1e-6, atol: 1e-9 }, `softmax t ${t}`);
      }
    }
  });

  it("work in place and return their argument; scale and softcap", () => {
    const x = logits();
    expect(softmax(x)).toBe(x);
    const y = Float32Array.from([-100, -1, 0, 2, 60]);
    expect(softcap(y, 30)).toBe(y);
    expectClose(y, [-100, -1, 0, 2, 60].map((v) => 30 * Math.tanh(v / 30)), { rtol: 1e-6 }, "softcap");
    expect(Array.from(scaleLogits(Float32Array.from([1, -2]), 0.5))).toEqual([0.5, -1]);
    expect(() => softmax(x, { temperature: 0 })).toThrow("`temperature` is 0");
    expect(() => softmax(x, { size: 3 })).toThrow("`size` is 3");
  });
});

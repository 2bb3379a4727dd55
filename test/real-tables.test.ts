// The real-table loaders the quantization report (and the demos) read: shapes, order and sane values.
import { describe, expect, it } from "vitest";
// @ts-ignore: a plain .mjs script without types
import { loadGlove, loadSentencePiece } from "../scripts/real-tables.mjs";

interface RealTable {
  vocab: number;
  dim: number;
  values: Float32Array;
  words: string[];
}

function rowNorm(t: RealTable, r: number): number {
  let s = 0;
  for (let j = 0; j < t.dim; j++) s += t.values[r * t.dim + j] ** 2;
  return Math.sqrt(s);
}

describe("real tables", () => {
  it("sentence-piece: 8002 x 256 finite f32 values, pieces as words", () => {
    const t: RealTable = loadSentencePiece();
    expect([t.vocab, t.dim, t.values.length, t.words.length]).toEqual([8002, 256, 8002 * 256, 8002]);
    expect(t.values.every(Number.isFinite)).toBe(true);
    expect(t.words[9]).toBe("\u2581the");
    // an embedding table, not zeros or garbage: row norms of ordinary tokens are of one order
    const norms = [9, 100, 5000].map((r) => rowNorm(t, r));
    for (const n of norms) expect(n).toBeGreaterThan(0.1), expect(n).toBeLessThan(100);
  });

  it("GloVe: the first `limit` words in frequency order, 100 values each, as the file stores them", () => {
    const t: RealTable = loadGlove({ limit: 1000 });
    expect([t.vocab, t.dim, t.values.length, t.words.length]).toEqual([1000, 100, 100000, 1000]);
    expect(t.words.slice(0, 4)).toEqual(["the", ",", ".", "of"]);
    // the file's first vector ("the") starts -0.038194, -0.24487, 0.72812
    expect(Array.from(t.values.subarray(0, 3))).toEqual([-0.038194, -0.24487, 0.72812].map(Math.fround));
    // the file carries each vector's l2 norm; the loader keeps the 100 values it is the norm of
    expect(rowNorm(t, 0)).toBeCloseTo(5.821154, 4);
  });
});

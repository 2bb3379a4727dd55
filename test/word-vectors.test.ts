// readGloveText / readGloveJSON: the word-vector inputs of `bitembed convert`.
import { describe, expect, it } from "vitest";
import { readGloveJSON, readGloveText } from "../src/index.js";

describe("readGloveText", () => {
  it("reads GloVe lines in order, skipping word2vec's count line, up to a limit", () => {
    const w = readGloveText("3 2\nthe 0.5 -1\nof 2 3e-1\n\nand 1 1\n", { limit: 2 });
    expect(w.words).toEqual(["the", "of"]);
    expect(w.dim).toBe(2);
    expect(Array.from(w.values)).toEqual([0.5, -1, 2, Math.fround(0.3)]);
  });
  it("names the line whose width differs", () => {
    expect(() => readGloveText("a 1 2\nb 1 2 3\n")).toThrow(/line 2 has 3 numbers .* expected 2/);
    expect(() => readGloveText("a 1 x\n")).toThrow(/line 1/);
    expect(() => readGloveText("\n\n")).toThrow(/no word vectors/);
  });
});

describe("readGloveJSON", () => {
  it("reads wink's layout (extra norm and index dropped) and plain maps", () => {
    const wink = readGloveJSON(JSON.stringify({ dimensions: 2, words: ["x", "y"], vectors: { y: [3, 4, 5, 1], x: [1, 0, 1, 0] } }));
    expect(wink.words).toEqual(["x", "y"]);
    expect(Array.from(wink.values)).toEqual([1, 0, 3, 4]);
    const plain = readGloveJSON(JSON.stringify({ a: [1, 2], b: [3, 4] }));
    expect([plain.words, plain.dim]).toEqual([["a", "b"], 2]);
  });
  it("refuses what is not JSON", () => {
    expect(() => readGloveJSON("{")).toThrow(/not JSON/);
  });
});

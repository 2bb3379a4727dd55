// loadEmbeddingModel on GGUF files shaped like llama.cpp's Q4_K_M / Q5_K_M files of a Llama-3.1-style model:
// token_embd in q4_k (or q5_k), output.weight in q6_k, llama-3 metadata (rope_freqs, a 128k context, GQA
// heads, a BPE vocabulary), transformer blocks the loader must not read; and the tied variant without
// output.weight. Built here with writeGGUF from small deterministic tables packed by the plain references,
// then checked against the plain references: lookups bit for bit, head logits within exact mode's tolerance.
import { beforeAll, describe, expect, it } from "vitest";
import { bytesSource, loadEmbeddingModel, writeGGUF, type GGUFTensorInput, type Runtime } from "../src/index.js";
import { countingSource } from "../src/io/source.js";
import { newRuntime } from "./helpers/runtime.js";
import { expectSameBits } from "./helpers/close.js";
import { randomValues } from "./helpers/values.js";
import { REFERENCES } from "./reference/formats/index.js";
import { projectRef } from "./reference/project.js";

// Keys: V vocab, D embedding length (three blocks of 256), H heads of 64, 128k context as in Llama 3.1
const V = 300;
const D = 768;
const HEADS = D / 64;
let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

const TOKEN_FORMATS = [
  { format: "q4_k", fileType: 15, ref: REFERENCES.q4_k }, // LLAMA_FTYPE_MOSTLY_Q4_K_M
  { format: "q5_k", fileType: 17, ref: REFERENCES.q5_k }, // LLAMA_FTYPE_MOSTLY_Q5_K_M
] as const;

/** Llama 3.1's frequency divisors for a head of 64 (low_freq_factor 1, high 4, factor 8, original 8192). */
function llama31RopeFreqs(): Float32Array {
  const half = 32;
  const out = new Float32Array(half);
  const lowWavelen = 8192 / 1;
  const highWavelen = 8192 / 4;
  for (let i = 0; i < half; i++) {
    const wavelen = 2 * Math.PI * 500000 ** ((2 * i) / 64);
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = 8;
    else {
      const smooth = (8192 / wavelen - 1) / (4 - 1);
      out[i] = 1 / ((1 - smooth) / 8 + smooth);
    }
  }
  return out;
}

function llamaMetadata(fileType: number) {
  const tokens = Array.from({ length: V }, (_, i) => (i < 256 ? `<0x${i.toString(16).toUpperCase().padStart(2, "0")}>` : `Ġtok${i}`));
  tokens[V - 2] = "<|begin_of_text|>";
  tokens[V - 1] = "<|eot_id|>";
  return {
    metadata: {
      "general.architecture": "llama",
      "general.type": "model",
      "general.name": "Tiny Llama 3.1 Test",
      "general.file_type": fileType,
      "general.quantization_version": 2,
      "llama.block_count": 2,
      "llama.context_length": 131072,
      "llama.embedding_length": D,
      "llama.feed_forward_length": 4 * D,
      "llama.attention.head_count": HEADS,
      "llama.attention.head_count_kv": 4,
      "llama.rope.freq_base": 500000,
      "llama.attention.layer_norm_rms_epsilon": 1e-5,
      "llama.rope.dimension_count": 64,
      "llama.vocab_size": V,
      "tokenizer.ggml.model": "gpt2",
      "tokenizer.ggml.pre": "llama-bpe",
      "tokenizer.ggml.tokens": tokens,
      "tokenizer.ggml.token_type": Int32Array.from({ length: V }, (_, i) => (i >= V - 2 ? 3 : 1)),
      "tokenizer.ggml.merges": ["Ġ t", "Ġt o", "Ġto k"],
      "tokenizer.ggml.bos_token_id": V - 2,
      "tokenizer.ggml.eos_token_id": V - 1,
    },
    types: {
      "general.file_type": "u32",
      "general.quantization_version": "u32",
      "llama.block_count": "u32",
      "llama.context_length": "u32",
      "llama.embedding_length": "u32",
      "llama.feed_forward_length": "u32",
      "llama.attention.head_count": "u32",
      "llama.attention.head_count_kv": "u32",
      "llama.rope.freq_base": "f32",
      "llama.attention.layer_norm_rms_epsilon": "f32",
      "llama.rope.dimension_count": "u32",
      "llama.vocab_size": "u32",
      "tokenizer.ggml.bos_token_id": "u32",
      "tokenizer.ggml.eos_token_id": "u32",
    },
  };
}

// Rows of different sizes and signs, deterministic: row r is noise of spread 1 + r % 7, shifted by r % 3 - 1.
function tableValues(seed: number): Float32Array {
  const values = randomValues(V * D, seed);
  for (let i = 0; i < values.length; i++) {
    const r = Math.floor(i / D);
    values[i] = Math.fround(values[i] * (1 + (r % 7)) + ((r % 3) - 1) * 0.25);
  }
  return values;
}

/** A Q4_K_M-shaped file: the embedding tables plus layers the loader must leave unread. */
function modelFile(format: "q4_k" | "q5_k", fileType: number, tokenBytes: Uint8Array, headBytes: Uint8Array | undefined): Uint8Array {
  const { metadata, types } = llamaMetadata(fileType);
  const block = new Uint8Array((D / 256) * 144 * D); // a D x D q4_k projection of zeros
  const tensors: GGUFTensorInput[] = [
    { name: "token_embd.weight", format, dims: [D, V], data: tokenBytes },
    { name: "rope_freqs.weight", format: "f32", dims: [32], data: llama31RopeFreqs() },
    { name: "blk.0.attn_q.weight", format: "q4_k", dims: [D, D], data: block },
    { name: "blk.0.attn_norm.weight", format: "f32", dims: [D], data: new Float32Array(D).fill(1) },
    { name: "blk.1.attn_q.weight", format: "q4_k", dims: [D, D], data: block },
    { name: "output_norm.weight", format: "f32", dims: [D], data: new Float32Array(D).fill(1) },
  ];
  if (headBytes) tensors.push({ name: "output.weight", format: "q6_k", dims: [D, V], data: headBytes });
  return writeGGUF({ metadata, types, tensors });
}

/** Exact-mode tolerance: within 1e-5 of sum |products| of a float64 projection over the decoded table. */
function expectLogits(got: Float32Array, table: Float32Array, hidden: Float32Array, label: string): void {
  const { logits, magnitude } = projectRef(table, V, D, hidden);
  expect(got.length).toBe(logits.length);
  let worst = 0;
  for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(got[i] - logits[i]) / (magnitude[i] + 1e-30));
  expect(worst, label).toBeLessThanOrEqual(1e-5);
}

/** The k best rows per vector by the float64 reference (best first), with the gap to the next one. */
function bestRows(table: Float32Array, hidden: Float32Array, k: number): { ids: number[]; gap: number }[] {
  const { logits } = projectRef(table, V, D, hidden);
  const n = hidden.length / D;
  return Array.from({ length: n }, (_, b) => {
    const row = Array.from(logits.subarray(b * V, (b + 1) * V));
    const order = row.map((_, i) => i).sort((a, c) => row[c] - row[a] || a - c);
    return { ids: order.slice(0, k), gap: row[order[k - 1]] - row[order[k]] };
  });
}

describe.each(TOKEN_FORMATS)("a Llama-3.1-style $format file", ({ format, fileType, ref }) => {
  const tokenBytes = ref.quantize(tableValues(1));
  const tokenValues = ref.dequantize(tokenBytes);
  const headBytes = REFERENCES.q6_k.quantize(tableValues(2));
  const headValues = REFERENCES.q6_k.dequantize(headBytes);

  it("untied (output.weight q6_k): loads both tables, reading nothing of the blocks", async () => {
    const file = modelFile(format, fileType, tokenBytes, headBytes);
    const source = countingSource(bytesSource(file));
    const m = await loadEmbeddingModel(rt, source);
    try {
      expect(m).toMatchObject({ kind: "gguf", architecture: "llama", tied: false });
      expect([m.tokens.vocab, m.tokens.dim, m.tokens.format]).toEqual([V, D, format]);
      expect([m.head.vocab, m.head.dim, m.head.format]).toEqual([V, D, "q6_k"]);
      expect(m.vocabulary?.length).toBe(V);
      expect(m.vocabulary?.[V - 2]).toBe("<|begin_of_text|>");
      expect(m.rope).toMatchObject({ headDim: 64, rotaryDim: 64, base: 500000, pairing: "norm" });
      expect(m.rope?.scaling).toMatchObject({ type: "freqs" });
      expect(Array.from((m.rope?.scaling as { divisors: ArrayLike<number> }).divisors)).toEqual(Array.from(llama31RopeFreqs()));
      // the two tables, the header window and rope_freqs; not the 2 x 221 KB of blocks
      const tables = tokenBytes.byteLength + headBytes.byteLength;
      expect(source.bytesRead).toBeLessThan(tables + (1 << 16) + 128 + 16 + 1); // + the 16 bytes that tell the kind
      expect(Buffer.from(m.tokens.bytes()).equals(Buffer.from(tokenBytes))).toBe(true);
      expect(Buffer.from(m.head.bytes()).equals(Buffer.from(headBytes))).toBe(true);
    } finally {
      m.dispose();
    }
  });

  it("untied: token lookups are the reference's values; head logits and top-k match a float64 projection", async () => {
    const m = await loadEmbeddingModel(rt, modelFile(format, fileType, tokenBytes, headBytes));
    try {
      const ids = [0, V - 1, 17, 17, 256, V - 2];
      const want = new Float32Array(ids.length * D);
      ids.forEach((id, i) => want.set(tokenValues.subarray(id * D, (id + 1) * D), i * D));
      expectSameBits(m.tokens.lookup(ids), want, "lookup");
      // hidden states: embeddings of a few tokens, then noise (1 vector takes the direct dots, 5 the decode path)
      const hidden = new Float32Array(5 * D);
      hidden.set(m.tokens.lookup([3, 200]));
      hidden.set(randomValues(3 * D, 9, 2), 2 * D);
      // exact mode against the float64 projection (the default for these formats is "ggml": test/ggml-mode.test.ts)
      expectLogits(m.head.project(hidden.subarray(0, D), { mode: "exact" }), headValues, hidden.subarray(0, D), "one vector");
      expectLogits(m.head.project(hidden, { mode: "exact" }), headValues, hidden, "five vectors");
      const top = m.head.topk(hidden, 5, { mode: "exact" });
      let checked = 0;
      bestRows(headValues, hidden, 5).forEach(({ ids: best, gap }, b) => {
        if (gap <= 1e-3) return; // a near tie at the cut: either order is right
        expect(Array.from(top.ids.subarray(b * 5, b * 5 + 5)), `vector ${b}`).toEqual(best);
        checked++;
      });
      expect(checked).toBeGreaterThanOrEqual(4);
    } finally {
      m.dispose();
    }
  });

  it(`tied (no output.weight): the ${format} token table is the head`, async () => {
    const m = await loadEmbeddingModel(rt, modelFile(format, fileType, tokenBytes, undefined));
    try {
      expect(m.tied).toBe(true);
      expect(m.head).toBe(m.tokens);
      expect(m.head.format).toBe(format);
      const hidden = randomValues(3 * D, 21, 2);
      expectLogits(m.head.project(hidden.subarray(0, D), { mode: "exact" }), tokenValues, hidden.subarray(0, D), "one vector");
      expectLogits(m.head.project(hidden, { mode: "exact" }), tokenValues, hidden, "three vectors");
      // top-1 for a row's own embedding, as the float64 reference ranks it (by default, mode "ggml", too)
      const self = m.tokens.lookup([42]);
      expect(m.head.topk(self, 1, { mode: "exact" }).ids[0]).toBe(bestRows(tokenValues, self, 1)[0].ids[0]);
      expect(m.head.topk(self, 1).ids[0]).toBe(bestRows(tokenValues, self, 1)[0].ids[0]);
    } finally {
      m.dispose();
    }
  });
});

// loadEmbeddingModel: the embedding layer of GGUF and safetensors files by family, reading only the
// tensors it returns (counted through the source).
import { beforeAll, describe, expect, it } from "vitest";
import { countingSource } from "../src/io/source.js";
import { bytesSource, loadEmbeddingModel, writeGGUF, writeSafetensors, type ModelTable, type Runtime } from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

const f32 = (n: number, seed: number) => new Float32Array(n).map((_, i) => Math.sin(i * 0.1 + seed));
const tensor = (name: string, dims: number[], seed: number) => ({
  name,
  format: "f32",
  dims,
  data: f32(dims.reduce((a, b) => a * b, 1), seed),
});

describe("GGUF", () => {
  it("reads only token_embd and output of a file with 50 MB of other tensors", async () => {
    const dim = 64;
    const vocab = 100;
    const big = new Uint8Array(25 << 20);
    const bytes = writeGGUF({
      metadata: {
        "general.architecture": "llama",
        "llama.embedding_length": dim,
        "llama.attention.head_count": 4,
        "llama.rope.freq_base": 500000,
        "llama.context_length": 2048,
        "tokenizer.ggml.tokens": Array.from({ length: vocab }, (_, i) => `tok${i}`),
      },
      tensors: [
        { name: "blk.0.attn_q.weight", format: "f32", dims: [1024, 6400], data: big },
        tensor("token_embd.weight", [dim, vocab], 1),
        { name: "blk.1.ffn_up.weight", format: "f32", dims: [1024, 6400], data: big },
        tensor("output.weight", [dim, vocab], 2),
      ],
    });
    expect(bytes.byteLength).toBeGreaterThan(50 << 20);
    const source = countingSource(bytesSource(bytes));
    const m = await loadEmbeddingModel(rt, source);
    const tableBytes = 2 * dim * vocab * 4;
    // header (a 64 KiB window at most) plus the two tables, nothing of the 50 MB
    expect(source.bytesRead).toBeLessThan(tableBytes + (1 << 16) + 16 + 1); // + the 16 bytes that tell the kind
    expect(m.tied).toBe(false);
    expect(m.head).not.toBe(m.tokens);
    expect(m.tokens.lookup([1])).toEqual(f32(dim * vocab, 1).subarray(dim, 2 * dim));
    expect(m.head.lookup([2])).toEqual(f32(dim * vocab, 2).subarray(2 * dim, 3 * dim));
    expect(m.rope).toMatchObject({ headDim: 16, rotaryDim: 16, base: 500000, pairing: "norm" });
    expect(m.vocabulary?.[7]).toBe("tok7");
    expect(m.positions).toBeUndefined();
    m.dispose();
  });

  it("ties the head when there is no output.weight, and reads the golden positions", async () => {
    const m = await loadEmbeddingModel(rt, new URL("./fixtures/ggml/gauss2048.f16.gguf", import.meta.url).pathname);
    expect(m.tied).toBe(true);
    expect(m.head).toBe(m.tokens);
    expect([m.tokens.vocab, m.tokens.dim, m.tokens.format]).toEqual([64, 2048, "f16"]);
    expect([m.positions?.vocab, m.positions?.dim]).toEqual([16, 2048]);
    m.dispose();
  });

  it.each([
    ["gemma", {}, { embeddingScale: Math.fround(Math.sqrt(64)) }],
    ["granite", { "granite.embedding_scale": 12, "granite.logit_scale": 8 }, { embeddingScale: 12, logitScale: 1 / 8 }],
    ["command-r", { "command-r.logit_scale": 0.0625 }, { logitScale: 0.0625 }],
    ["gemma2", { "gemma2.final_logit_softcapping": 30 }, { softcap: 30, embeddingScale: 8 }],
  ])("%s: scales and softcap", async (arch, keys, expected) => {
    const m = await loadEmbeddingModel(
      rt,
      writeGGUF({
        metadata: { "general.architecture": arch, [`${arch}.embedding_length`]: 64, [`${arch}.attention.head_count`]: 4, ...keys },
        types: Object.fromEntries(Object.keys(keys).map((k) => [k, "f32"])),
        tensors: [tensor("token_embd.weight", [64, 10], 3)],
      }),
    );
    expect(m).toMatchObject({ architecture: arch, ...expected });
    m.dispose();
  });

  it("`using` frees every table when the scope ends (the tied head once), as dispose() does", async () => {
    const before = rt.bytesInUse;
    const path = new URL("./fixtures/ggml/gauss2048.f16.gguf", import.meta.url).pathname;
    let tokens: ModelTable | undefined;
    {
      using m = await loadEmbeddingModel(rt, path);
      tokens = m.tokens;
      expect(m.positions).toBeDefined();
      expect(rt.bytesInUse).toBeGreaterThanOrEqual(before + 64 * 2048 * 2 + 16 * 2048 * 4);
    }
    expect(rt.bytesInUse).toBe(before);
    expect(() => tokens?.lookup([0])).toThrow(/disposed/);
    // and the method is dispose() itself: calling both is harmless
    const m = await loadEmbeddingModel(rt, path);
    m[Symbol.dispose]();
    m.dispose();
    expect(rt.bytesInUse).toBe(before);
  });

  it("bert: positions and token types, no RoPE", async () => {
    const m = await loadEmbeddingModel(
      rt,
      writeGGUF({
        metadata: { "general.architecture": "bert", "bert.embedding_length": 32 },
        tensors: [tensor("token_embd.weight", [32, 10], 1), tensor("position_embd.weight", [32, 8], 2), tensor("token_types.weight", [32, 2], 3)],
      }),
    );
    expect([m.positions?.vocab, m.tokenTypes?.vocab, m.rope]).toEqual([8, 2, undefined]);
    m.dispose();
  });

  it("says which tensor is missing", async () => {
    await expect(loadEmbeddingModel(rt, writeGGUF({ tensors: [tensor("blk.0.x", [4, 4], 1)] }))).rejects.toThrow(
      /No tensor named "token_embd.weight". The file holds: blk.0.x/,
    );
  });
});

describe("safetensors", () => {
  it("llama with an untied head and a config: reads only the embedding tensors", async () => {
    const big = new Float32Array(4 << 20);
    const bytes = writeSafetensors([
      { name: "model.layers.0.mlp.up_proj.weight", dtype: "F32", shape: [4096, 1024], data: big },
      { name: "model.embed_tokens.weight", dtype: "F32", shape: [10, 32], data: f32(320, 1) },
      { name: "lm_head.weight", dtype: "F32", shape: [10, 32], data: f32(320, 2) },
    ]);
    const source = countingSource(bytesSource(bytes));
    const config = { model_type: "llama", tie_word_embeddings: false, hidden_size: 32, num_attention_heads: 2, rope_theta: 10000 };
    const m = await loadEmbeddingModel(rt, source, { config });
    expect(source.bytesRead).toBeLessThan(2 * 320 * 4 + (1 << 16) + 17);
    expect(m.tied).toBe(false);
    expect(m.head.lookup([3])).toEqual(f32(320, 2).subarray(96, 128));
    expect(m.rope).toMatchObject({ headDim: 16, base: 10000, pairing: "neox" });
    m.dispose();
  });

  it("gemma in bf16 rounds sqrt(2048) to 45.25 as transformers does", async () => {
    const bytes = writeSafetensors([{ name: "model.embed_tokens.weight", dtype: "BF16", shape: [2, 2048], data: new Uint16Array(4096) }]);
    const m = await loadEmbeddingModel(rt, bytes, { config: { model_type: "gemma", torch_dtype: "bfloat16", hidden_size: 2048, num_attention_heads: 8, head_dim: 256 } });
    expect(m.embeddingScale).toBe(45.25);
    expect(m.tied).toBe(true);
    m.dispose();
  });

  it("gpt2 and bert names", async () => {
    const gpt2 = await loadEmbeddingModel(
      rt,
      writeSafetensors([
        { name: "transformer.wte.weight", dtype: "F32", shape: [10, 8], data: f32(80, 1) },
        { name: "transformer.wpe.weight", dtype: "F32", shape: [4, 8], data: f32(32, 2) },
      ]),
    );
    expect([gpt2.tokens.vocab, gpt2.positions?.vocab, gpt2.tied]).toEqual([10, 4, true]);
    gpt2.dispose();
    const bert = await loadEmbeddingModel(
      rt,
      writeSafetensors([
        { name: "bert.embeddings.word_embeddings.weight", dtype: "F32", shape: [10, 8], data: f32(80, 1) },
        { name: "bert.embeddings.position_embeddings.weight", dtype: "F32", shape: [4, 8], data: f32(32, 2) },
        { name: "bert.embeddings.token_type_embeddings.weight", dtype: "F32", shape: [2, 8], data: f32(16, 3) },
      ]),
    );
    expect([bert.tokens.vocab, bert.positions?.vocab, bert.tokenTypes?.vocab]).toEqual([10, 4, 2]);
    bert.dispose();
  });

  it("an untied config without lm_head in the file is an error, not a silent tie", async () => {
    const bytes = writeSafetensors([{ name: "model.embed_tokens.weight", dtype: "F32", shape: [2, 4], data: f32(8, 1) }]);
    await expect(loadEmbeddingModel(rt, bytes, { config: { tie_word_embeddings: false } })).rejects.toThrow(/lm_head.weight/);
  });
});

describe("over HTTP", () => {
  it("loads the embedding layer with Range requests, fetching only the header and the tables", async () => {
    const { createServer } = await import("node:http");
    const dim = 64;
    const bytes = writeGGUF({
      metadata: { "general.architecture": "llama", "llama.embedding_length": dim, "llama.attention.head_count": 4 },
      tensors: [
        { name: "blk.0.attn_q.weight", format: "f32", dims: [1024, 2048], data: new Uint8Array(8 << 20) },
        tensor("token_embd.weight", [dim, 50], 1),
      ],
    });
    let served = 0;
    const server = createServer((req, res) => {
      const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "")!;
      const start = Number(m[1]);
      const end = Math.min(Number(m[2]), bytes.byteLength - 1);
      served += end - start + 1;
      res.writeHead(206, { "content-range": `bytes ${start}-${end}/${bytes.byteLength}` });
      res.end(Buffer.from(bytes.subarray(start, end + 1)));
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/model.gguf`;
      const m = await loadEmbeddingModel(rt, url);
      expect(m.tokens.lookup([3])).toEqual(f32(dim * 50, 1).subarray(3 * dim, 4 * dim));
      expect(served).toBeLessThan(dim * 50 * 4 + (1 << 16) + 20);
      m.dispose();
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });
});

// RoPE configs read from real models' metadata (fixtures in test/fixtures/rope, see its README): the
// expected configs are written from the models' published facts, not from the code under test.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  Rope,
  readGGUF,
  resolveRopeConfig,
  ropeConfigFromGGUF,
  ropeConfigFromHF,
  ropeFrequencies,
  writeGGUF,
  type Runtime,
} from "../src/index.js";
import { expectClose } from "./helpers/close.js";
import { newRuntime } from "./helpers/runtime.js";
import { refInvFreq, refRope } from "./reference/rope.js";

const fixture = (path: string) => JSON.parse(readFileSync(new URL(`./fixtures/rope/${path}`, import.meta.url), "utf8"));

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

// llama.cpp's convert_hf_to_gguf.py (LlamaModel.generate_extra_tensors): rope_freqs.weight for llama3 scaling
function llama3RopeFreqs(base: number, dim: number, factor: number, low: number, high: number, orig: number): Float32Array {
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    const freq = 1 / base ** ((2 * i) / dim);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < orig / high) out[i] = 1;
    else if (wavelen > orig / low) out[i] = factor;
    else {
      const smooth = (orig / wavelen - low) / (high - low);
      out[i] = 1 / ((1 - smooth) / factor + smooth);
    }
  }
  return out;
}

describe("configFromHF", () => {
  it.each([
    ["llama-3.1-8b.json", { headDim: 128, rotaryDim: 128, base: 500000, pairing: "neox", scaling: { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 8192 } }],
    ["qwen2.5-7b-instruct-yarn.json", { headDim: 128, rotaryDim: 128, base: 1000000, pairing: "neox", scaling: { type: "yarn", factor: 4, originalContext: 32768 } }],
    ["phi-2.json", { headDim: 80, rotaryDim: 32, base: 10000, pairing: "neox", scaling: { type: "none" } }],
    ["pythia-160m.json", { headDim: 64, rotaryDim: 16, base: 10000, pairing: "neox", scaling: { type: "none" } }],
    ["gemma-2b.json", { headDim: 256, rotaryDim: 256, base: 10000, pairing: "neox", scaling: { type: "none" } }],
    ["gemma-3-4b-it.json", { headDim: 256, rotaryDim: 256, base: 1000000, pairing: "neox", scaling: { type: "linear", factor: 8 } }],
  ])("%s", (file, expected) => {
    expect(ropeConfigFromHF(fixture(`hf/${file}`))).toEqual(expected);
    expect(Rope.configFromHF).toBe(ropeConfigFromHF);
  });

  it("Gemma 3 sliding layers use rope_local_base_freq and no scaling", () => {
    expect(ropeConfigFromHF(fixture("hf/gemma-3-4b-it.json"), { layerType: "sliding_attention" })).toEqual({
      headDim: 256, rotaryDim: 256, base: 10000, pairing: "neox", scaling: { type: "none" },
    });
  });

  it("reads transformers 5 rope_parameters, flat and per layer type", () => {
    const flat = { hidden_size: 4096, num_attention_heads: 32, max_position_embeddings: 131072, rope_parameters: { rope_type: "llama3", rope_theta: 500000, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } };
    expect(ropeConfigFromHF(flat)).toEqual(ropeConfigFromHF(fixture("hf/llama-3.1-8b.json")));
    const perLayer = { head_dim: 256, hidden_size: 2560, num_attention_heads: 8, rope_parameters: { full_attention: { rope_type: "linear", factor: 8, rope_theta: 1e6 }, sliding_attention: { rope_type: "default", rope_theta: 10000 } } };
    expect(ropeConfigFromHF(perLayer).scaling).toEqual({ type: "linear", factor: 8 });
    expect(ropeConfigFromHF(perLayer, { layerType: "sliding_attention" })).toMatchObject({ base: 10000, scaling: { type: "none" } });
  });

  it("maps dynamic, YaRN attention factors and LongRoPE", () => {
    const base = { hidden_size: 2048, num_attention_heads: 16, max_position_embeddings: 4096 };
    expect(ropeConfigFromHF({ ...base, rope_scaling: { type: "dynamic", factor: 2 } }).scaling).toEqual({ type: "dynamic", factor: 2, originalContext: 4096 });
    // HF: attention_factor replaces 0.1 ln(f) + 1, so the product of magnitudes is attention_factor
    const yarn = ropeConfigFromHF({ ...base, rope_scaling: { rope_type: "yarn", factor: 4, attention_factor: 1.5, beta_fast: 16, beta_slow: 2 } });
    expect(yarn.scaling).toMatchObject({ type: "yarn", factor: 4, originalContext: 4096, betaFast: 16, betaSlow: 2 });
    const rope = rt.rope(yarn);
    expect(rope.magnitude).toBeCloseTo(1.5, 12);
    rope.dispose();
    // gpt-oss: YaRN without rounding the ramp ends
    const oss = ropeConfigFromHF({ head_dim: 64, num_attention_heads: 64, max_position_embeddings: 131072, rope_theta: 150000, rope_scaling: { rope_type: "yarn", factor: 32, beta_fast: 32, beta_slow: 1, original_max_position_embeddings: 4096, truncate: false } });
    expect(oss.scaling).toEqual({ type: "yarn", factor: 32, originalContext: 4096, betaFast: 32, betaSlow: 1, truncate: false });
    expect(ropeConfigFromHF({ ...base, rope_scaling: { type: "mrope", mrope_section: [16, 24, 24] } }).scaling).toEqual({ type: "none" });
    // DeepSeek-V3 style: mscale = mscale_all_dim gives a magnitude of exactly 1
    const ds = rt.rope(ropeConfigFromHF({ ...base, rope_scaling: { type: "yarn", factor: 40, mscale: 1, mscale_all_dim: 1, original_max_position_embeddings: 4096 } }));
    expect(ds.magnitude).toBeCloseTo(1, 12);
    ds.dispose();
    // Phi-3 style LongRoPE: factors per frequency, magnitude sqrt(1 + ln(131072/4096) / ln(4096))
    const short = Array.from({ length: 64 }, (_, i) => 1 + i / 64);
    const long = Array.from({ length: 64 }, (_, i) => 2 + i / 8);
    const phi3 = { hidden_size: 3072, num_attention_heads: 24, max_position_embeddings: 131072, original_max_position_embeddings: 4096, rope_scaling: { type: "longrope", short_factor: short, long_factor: long } };
    const shortCfg = ropeConfigFromHF(phi3);
    const longCfg = ropeConfigFromHF(phi3, { longContext: true });
    expect(shortCfg.scaling).toEqual({ type: "freqs", divisors: short, attnFactor: Math.sqrt(1 + Math.log(32) / Math.log(4096)) });
    expect(longCfg.scaling).toMatchObject({ type: "freqs", divisors: long });
  });

  it("says what is missing", () => {
    expect(() => ropeConfigFromHF({ num_attention_heads: 8 })).toThrow(/`head_dim`/);
    expect(() => ropeConfigFromHF({ head_dim: 64, rope_scaling: { type: "linear" } })).toThrow(/`rope_scaling\.factor`/);
    expect(() => ropeConfigFromHF({ head_dim: 64, rope_scaling: { type: "mystery", factor: 2 } })).toThrow(/Unknown `rope_scaling\.rope_type` "mystery"/);
    expect(() => ropeConfigFromHF({ head_dim: 64, rope_theta: "big" })).toThrow(/`rope_theta` is "big"/);
  });
});

describe("configFromGGUF", () => {
  const llama3Freqs = llama3RopeFreqs(500000, 128, 8, 1, 4, 8192);

  it.each([
    ["llama-3.1-8b.json", { ropeFreqs: llama3Freqs }, { headDim: 128, rotaryDim: 128, base: 500000, pairing: "norm", scaling: { type: "freqs", divisors: llama3Freqs } }],
    ["qwen2.5-7b-instruct-yarn.json", {}, { headDim: 128, rotaryDim: 128, base: 1000000, pairing: "neox", scaling: { type: "yarn", factor: 4, originalContext: 32768 } }],
    ["gemma-2b.json", {}, { headDim: 256, rotaryDim: 256, base: 10000, pairing: "neox", scaling: { type: "none" } }],
    ["phi-2.json", {}, { headDim: 80, rotaryDim: 32, base: 10000, pairing: "neox", scaling: { type: "none" } }],
    ["pythia-160m.json", {}, { headDim: 64, rotaryDim: 16, base: 10000, pairing: "neox", scaling: { type: "none" } }],
    ["granite-3.0-2b.json", {}, { headDim: 64, rotaryDim: 64, base: 10000, pairing: "norm", scaling: { type: "none" } }],
  ])("%s", (file, options, expected) => {
    expect(ropeConfigFromGGUF(fixture(`gguf/${file}`), options)).toEqual(expected);
    expect(Rope.configFromGGUF).toBe(ropeConfigFromGGUF);
  });

  it("reads a GGUF file's metadata and rope_freqs tensor as readGGUF gives them", async () => {
    const meta = fixture("gguf/llama-3.1-8b.json");
    const bytes = writeGGUF({
      metadata: meta,
      types: { "llama.rope.freq_base": "f32", "llama.attention.layer_norm_rms_epsilon": "f32", "llama.context_length": "u64" },
      tensors: [{ name: "rope_freqs.weight", format: "f32", dims: [64], data: llama3Freqs }],
    });
    const file = await readGGUF(bytes);
    const ropeFreqs = new Float32Array((await file.readTensor("rope_freqs.weight")).buffer);
    expect(ropeConfigFromGGUF(file.metadata, { ropeFreqs })).toEqual(ropeConfigFromGGUF(meta, { ropeFreqs: llama3Freqs }));
  });

  it("accepts bigint integers (u64 keys), legacy linear scale and GGUF YaRN extras", () => {
    const meta = { ...fixture("gguf/qwen2.5-7b-instruct-yarn.json"), "qwen2.attention.head_count": 28n, "qwen2.embedding_length": 3584n };
    expect(ropeConfigFromGGUF(meta).headDim).toBe(128);
    const legacy = { "general.architecture": "llama", "llama.embedding_length": 4096, "llama.attention.head_count": 32, "llama.rope.scale_linear": 4 };
    expect(ropeConfigFromGGUF(legacy).scaling).toEqual({ type: "linear", factor: 4 });
    const yarn = { ...fixture("gguf/qwen2.5-7b-instruct-yarn.json"), "qwen2.rope.scaling.attn_factor": 0.9, "qwen2.rope.scaling.yarn_beta_fast": 24 };
    expect(ropeConfigFromGGUF(yarn).scaling).toEqual({ type: "yarn", factor: 4, originalContext: 32768, attnFactor: 0.9, betaFast: 24 });
  });

  it("errors name the key", () => {
    expect(() => ropeConfigFromGGUF({})).toThrow(/`general\.architecture`/);
    expect(() => ropeConfigFromGGUF({ "general.architecture": "llama", "llama.embedding_length": 4096 })).toThrow(/`llama\.attention\.head_count`/);
    expect(() => ropeConfigFromGGUF({ "general.architecture": "gpt2" })).toThrow(/No RoPE pairing known for `general\.architecture` "gpt2"/);
    const gguf = { "general.architecture": "newarch", "newarch.attention.key_length": 64 };
    expect(ropeConfigFromGGUF(gguf, { pairing: "neox" }).pairing).toBe("neox");
    expect(() => ropeConfigFromGGUF({ ...gguf, "newarch.rope.scaling.type": "longrope" }, { pairing: "norm" })).toThrow(/`rope_factors_long\.weight`/);
  });

  it("Llama 3.1 from GGUF (norm, rope_freqs) equals Llama 3.1 from HF (neox, llama3) up to the Q/K permutation", () => {
    const fromGGUF = ropeConfigFromGGUF(fixture("gguf/llama-3.1-8b.json"), { ropeFreqs: llama3Freqs });
    const fromHF = ropeConfigFromHF(fixture("hf/llama-3.1-8b.json"));
    // the divisors are f32 in the file: frequencies agree to f32 precision
    expectClose(ropeFrequencies(resolveRopeConfig(fromGGUF)), refInvFreq(fromHF, 1), { rtol: 1e-7 }, "inv_freq");
    // llama.cpp's converter permutes Q/K so that NORM on the permuted vector is NEOX on the original
    const x0 = new Float32Array(128 * 2);
    for (let i = 0; i < x0.length; i++) x0[i] = Math.sin(i * 12.9898) * 2;
    const permuted = new Float32Array(x0.length);
    for (let t = 0; t < 2; t++) for (let i = 0; i < 64; i++) {
      permuted[t * 128 + 2 * i] = x0[t * 128 + i];
      permuted[t * 128 + 2 * i + 1] = x0[t * 128 + i + 64];
    }
    const positions = [100000, 131071];
    const hf = refRope(x0, positions, 1, fromHF);
    const norm = rt.rope(fromGGUF);
    const y = norm.apply(permuted, positions, 1);
    norm.dispose();
    const back = new Float32Array(y.length);
    for (let t = 0; t < 2; t++) for (let i = 0; i < 64; i++) {
      back[t * 128 + i] = y[t * 128 + 2 * i];
      back[t * 128 + i + 64] = y[t * 128 + 2 * i + 1];
    }
    expectClose(back, hf, { atol: 5e-5 }, "norm(permuted) = neox");
  });
});

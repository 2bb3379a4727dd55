// RoPE configs read from model metadata: GGUF key/values and Hugging Face config.json.
// Pairing differs by source for the same model: llama.cpp's converter permutes the Q/K weights of
// llama-family models so that GGUF files use NORM (adjacent pairs), while every HF checkpoint uses NEOX
// (halves, `rotate_half`). GGUF Qwen, Gemma, Phi, GPT-NeoX, Falcon and BERT-likes keep NEOX.
// see: llama.cpp llama_model_rope_type(); transformers modeling_rope_utils.py; FORMATS.md (GGUF keys).
import { errors } from "../core/errors.js";
import type { RopeConfig, RopePairing, RopeScaling } from "./rope-freqs.js";

// GGUF architectures by pairing, from llama.cpp's llama_model_rope_type() (LLAMA_ROPE_TYPE_NORM / NEOX).
const GGUF_NORM = [
  "llama", "llama4", "mistral", "mistral3", "deci", "baichuan", "starcoder", "internlm2", "minicpm", "xverse",
  "command-r", "cohere2", "olmo", "arctic", "deepseek", "deepseek2", "plm", "chatglm", "glm4", "granite",
  "granitemoe", "granitehybrid", "chameleon", "bailingmoe", "neo-bert", "smollm3", "arcee", "ernie4_5",
  "ernie4_5-moe", "refact", "bitnet-25",
];
const GGUF_NEOX = [
  "falcon", "falcon-h1", "grok", "dbrx", "bert", "jina-bert-v3", "nomic-bert", "nomic-bert-moe", "modern-bert",
  "stablelm", "bitnet", "qwen", "qwen2", "qwen2moe", "qwen3", "qwen3moe", "olmo2", "olmoe", "phi2", "phi3",
  "phimoe", "plamo", "plamo2", "gemma", "gemma2", "gemma3", "gemma3n", "gemma-embedding", "starcoder2",
  "openelm", "gptneox", "codeshell", "orion", "exaone", "exaone4", "minicpm3", "dots1", "hunyuan-moe",
  "hunyuan-dense", "gpt-oss", "lfm2", "smallthinker", "glm4moe", "seed_oss", "apertus", "granite-embedding",
];

export const GGUF_ROPE_PAIRING: Readonly<Record<string, RopePairing>> = Object.freeze(
  Object.fromEntries([...GGUF_NORM.map((a) => [a, "norm"]), ...GGUF_NEOX.map((a) => [a, "neox"])]),
);

export interface GGUFRopeOptions {
  /** The `rope_freqs.weight` tensor (F f32 divisors), when the file has one (Llama 3.x). */
  ropeFreqs?: Float32Array | readonly number[];
  /** LongRoPE (`rope.scaling.type` "longrope"): the `rope_factors_long` or `_short` tensor to use. */
  longropeFactors?: Float32Array | readonly number[];
  /** Override the pairing chosen from `general.architecture`. */
  pairing?: RopePairing;
}

type Metadata = Readonly<Record<string, unknown>>;

/** A RoPE config from GGUF metadata (keys as in the file: `general.architecture`, `{arch}.rope.freq_base`...). */
export function ropeConfigFromGGUF(metadata: Metadata, options: GGUFRopeOptions = {}): RopeConfig {
  if (typeof metadata !== "object" || metadata === null) throw errors.configKind("metadata", metadata);
  const arch = metadata["general.architecture"];
  if (typeof arch !== "string") throw errors.missingKey("general.architecture", "the RoPE config");
  const num = (key: string): number | undefined => asNumber(metadata[`${arch}.${key}`], `${arch}.${key}`);
  const need = (key: string, what: string): number => {
    const v = num(key);
    if (v === undefined) throw errors.missingKey(`${arch}.${key}`, what);
    return v;
  };
  const pairing = options.pairing ?? GGUF_ROPE_PAIRING[arch];
  if (pairing === undefined) throw errors.unknownArchitecture(arch, Object.keys(GGUF_ROPE_PAIRING));
  const headDim =
    num("attention.key_length") ??
    need("embedding_length", "the head size") / need("attention.head_count", "the head size");
  const rotaryDim = num("rope.dimension_count") ?? headDim;
  const base = num("rope.freq_base") ?? 10000;
  const type = metadata[`${arch}.rope.scaling.type`];
  const factor = num("rope.scaling.factor") ?? num("rope.scale_linear"); // scale_linear: files before 2023-11
  const attnFactor = num("rope.scaling.attn_factor");
  const original = () => num("rope.scaling.original_context_length") ?? need("context_length", "YaRN scaling");
  let scaling: RopeScaling = { type: "none" };
  if (type === "linear" || (type === undefined && factor !== undefined && factor !== 1)) {
    scaling = { type: "linear", factor: factor ?? 1 };
  } else if (type === "yarn") {
    scaling = { type: "yarn", factor: factor ?? 1, originalContext: original() };
    const betaFast = num("rope.scaling.yarn_beta_fast");
    const betaSlow = num("rope.scaling.yarn_beta_slow");
    if (betaFast !== undefined) scaling.betaFast = betaFast;
    if (betaSlow !== undefined) scaling.betaSlow = betaSlow;
    if (attnFactor !== undefined) scaling.attnFactor = attnFactor;
  } else if (type === "longrope") {
    if (options.longropeFactors === undefined) throw errors.missingKey("rope_factors_long.weight", "LongRoPE (pass `longropeFactors`)");
    scaling = { type: "freqs", divisors: options.longropeFactors, attnFactor: attnFactor ?? 1 };
  } else if (type !== undefined && type !== "none") {
    throw errors.unknownChoice(`${arch}.rope.scaling.type`, type, ["none", "linear", "yarn", "longrope"]);
  }
  if (options.ropeFreqs !== undefined) {
    if (scaling.type !== "none") throw errors.option("ropeFreqs", options.ropeFreqs, `no \`rope_freqs\` with ${scaling.type} scaling`);
    scaling = { type: "freqs", divisors: options.ropeFreqs };
  }
  return { headDim, rotaryDim, base, pairing, scaling };
}

export interface HFRopeOptions {
  /** Gemma 2/3 and other models with local layers: the config of the sliding-window layers. */
  layerType?: "full_attention" | "sliding_attention";
  /** LongRoPE: use `long_factor` (sequences past the original context) instead of `short_factor`. */
  longContext?: boolean;
}

// What transformers' config classes default to when config.json leaves the key out.
const HF_THETA_DEFAULTS: Readonly<Record<string, number>> = { gemma3_text: 1_000_000 };
const HF_LOCAL_THETA_DEFAULTS: Readonly<Record<string, number>> = { gemma3_text: 10_000 };

/** A RoPE config from a Hugging Face config.json (parsed). HF checkpoints always rotate halves: NEOX. */
export function ropeConfigFromHF(configJson: Metadata, options: HFRopeOptions = {}): RopeConfig {
  if (typeof configJson !== "object" || configJson === null) throw errors.configKind("config", configJson);
  // multimodal checkpoints (Gemma 3, Llama 4, Qwen-VL) nest the language model's config
  const c = (typeof configJson.text_config === "object" && configJson.text_config !== null
    ? configJson.text_config
    : configJson) as Metadata;
  const num = (key: string, from: Metadata = c): number | undefined => asNumber(from[key], key);
  const sliding = options.layerType === "sliding_attention";
  // transformers >= 5 writes `rope_parameters` (possibly one per layer type); older files `rope_theta` and `rope_scaling`
  let params = (c.rope_parameters ?? c.rope_scaling ?? null) as Metadata | null;
  if (params !== null && typeof params === "object" && ("full_attention" in params || "sliding_attention" in params)) {
    params = (params[sliding ? "sliding_attention" : "full_attention"] ?? null) as Metadata | null;
  } else if (sliding && c.rope_parameters === undefined) {
    params = null; // v4 configs: sliding layers use rope_local_base_freq and no scaling
  }
  const heads = num("num_attention_heads");
  const hidden = num("hidden_size") ?? num("d_model");
  const headDim = num("head_dim") ?? (hidden !== undefined && heads !== undefined ? hidden / heads : undefined);
  if (headDim === undefined) throw errors.missingKey("head_dim", "the head size (or `hidden_size` and `num_attention_heads`)");
  const fraction =
    (params ? num("partial_rotary_factor", params) : undefined) ?? num("partial_rotary_factor") ?? num("rotary_pct") ?? 1;
  const rotaryDim = Math.floor(headDim * fraction);
  const modelType = String(c.model_type ?? "");
  const base =
    (sliding ? (num("rope_local_base_freq") ?? HF_LOCAL_THETA_DEFAULTS[modelType]) : undefined) ??
    (params ? num("rope_theta", params) : undefined) ??
    num("rope_theta") ??
    num("rotary_emb_base") ??
    HF_THETA_DEFAULTS[modelType] ??
    10000;
  const maxPos = num("max_position_embeddings");
  return { headDim, rotaryDim, base, pairing: "neox", scaling: hfScaling(params, c, maxPos, options) };
}

function hfScaling(p: Metadata | null, c: Metadata, maxPos: number | undefined, options: HFRopeOptions): RopeScaling {
  if (p === null || typeof p !== "object") return { type: "none" };
  const type = p.rope_type ?? p.type ?? "default";
  const num = (key: string) => asNumber(p[key], `rope_scaling.${key}`);
  const factor = num("factor");
  const needFactor = (): number => {
    if (factor === undefined) throw errors.missingKey("rope_scaling.factor", `${String(type)} scaling`);
    return factor;
  };
  const original = (): number => {
    const v = num("original_max_position_embeddings") ?? asNumber(c.original_max_position_embeddings, "original_max_position_embeddings") ?? maxPos;
    if (v === undefined) throw errors.missingKey("max_position_embeddings", `${String(type)} scaling`);
    return v;
  };
  switch (type) {
    case "default":
    // M-RoPE (Qwen2-VL) splits the frequencies into time/height/width sections; for text every section
    // gets the same position, which is plain RoPE
    case "mrope":
      return { type: "none" };
    case "linear":
      return { type: "linear", factor: needFactor() };
    case "dynamic":
      return { type: "dynamic", factor: needFactor(), originalContext: original() };
    case "yarn": {
      const f = needFactor();
      // HF's attention_factor replaces 0.1 ln(f) + 1; DeepSeek's mscale/mscale_all_dim give a ratio of two such
      // terms. Our attnFactor multiplies 0.1 ln(f) + 1 (as ggml's does), so divide it back out.
      const mscale = (m: number) => (f <= 1 ? 1 : 0.1 * m * Math.log(f) + 1);
      let attention = num("attention_factor");
      const m = num("mscale");
      const mAll = num("mscale_all_dim");
      if (attention === undefined && m && mAll) attention = mscale(m) / mscale(mAll);
      const scaling: RopeScaling = { type: "yarn", factor: f, originalContext: original() };
      const betaFast = num("beta_fast");
      const betaSlow = num("beta_slow");
      if (betaFast !== undefined) scaling.betaFast = betaFast;
      if (betaSlow !== undefined) scaling.betaSlow = betaSlow;
      if (attention !== undefined) scaling.attnFactor = attention / mscale(1);
      if (p.truncate === false) scaling.truncate = false;
      return scaling;
    }
    case "llama3": {
      const low = num("low_freq_factor");
      const high = num("high_freq_factor");
      if (low === undefined) throw errors.missingKey("rope_scaling.low_freq_factor", "llama3 scaling");
      if (high === undefined) throw errors.missingKey("rope_scaling.high_freq_factor", "llama3 scaling");
      return { type: "llama3", factor: needFactor(), lowFreqFactor: low, highFreqFactor: high, originalContext: original() };
    }
    case "longrope":
    case "su": {
      const factors = p[options.longContext ? "long_factor" : "short_factor"];
      if (!Array.isArray(factors)) throw errors.missingKey(options.longContext ? "rope_scaling.long_factor" : "rope_scaling.short_factor", "LongRoPE");
      // see: HF _compute_longrope_parameters: Phi-3 states the pretrained context at the top level and the
      // ratio of contexts replaces `factor`; the magnitude is sqrt(1 + ln(ratio) / ln(orig)).
      const top = asNumber(c.original_max_position_embeddings, "original_max_position_embeddings");
      const orig = top ?? maxPos ?? 1;
      const ratio = top !== undefined && maxPos !== undefined ? maxPos / top : (factor ?? 1);
      const attention = num("attention_factor") ?? (ratio <= 1 ? 1 : Math.sqrt(1 + Math.log(ratio) / Math.log(orig)));
      return { type: "freqs", divisors: factors as number[], attnFactor: attention };
    }
    default:
      throw errors.unknownChoice("rope_scaling.rope_type", type, ["default", "linear", "dynamic", "yarn", "llama3", "longrope"]);
  }
}

// GGUF readers may hand integers as bigint (u64).
function asNumber(v: unknown, key: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number") return v;
  throw errors.option(key, v, "a number");
}

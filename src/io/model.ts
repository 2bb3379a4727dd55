// The embedding layer of a model file in one call: token table, head (tied or not), position and
// token-type tables, RoPE config, scales and vocabulary, from GGUF or safetensors (+ config.json).
// Only the tensors it returns are read; every other tensor in the file is left on disk.
// A GGUF that declares Ternary Bonsai 2's rotated basis (`prism.hadamard.*`) gets its latent tables wrapped
// (RotatedTable), so lookup gives real embeddings and the head takes real hidden states.
// see: FORMATS.md (tensor names and keys per family); llama.cpp llama-model.cpp; transformers configs;
// docs/BONSAI2.md §4 (the rotation).
import { errors } from "../core/errors.js";
import { readGGUF, type GGUFFile, type MetadataValue } from "./gguf.js";
import { readSafetensors, type SafetensorsFile } from "./safetensors.js";
import { openSource, type SourceInput } from "./source.js";
import { MODEL_HEAD_BYTES, modelKind, notModelFile } from "./model-kind.js";
import type { RopeConfig } from "../positions/rope-freqs.js";
import { ropeConfigFromGGUF, ropeConfigFromHF } from "../positions/rope-metadata.js";
import type { Runtime } from "../core/runtime.js";
import { embeddingScale as embeddingScaleOf } from "../tables/embed.js";
import type { EmbeddingTable } from "../tables/table.js";
import { RotatedTable } from "../tables/rotated-table.js";
import { readRotation, type HadamardRotation } from "../positions/hadamard-metadata.js";

/** A model's token table or head: a plain table, or one stored in Bonsai 2's rotated basis. */
export type ModelTable = EmbeddingTable | RotatedTable;

export interface EmbeddingModel {
  /** "gguf" or "safetensors". */
  kind: "gguf" | "safetensors";
  /** `general.architecture` (GGUF) or `model_type` (config.json), when known. */
  architecture?: string;
  /** The token table (a RotatedTable when the file stores it in Bonsai 2's rotated basis; `.latent` is raw). */
  tokens: ModelTable;
  /** The output projection; `head === tokens` when tied. */
  head: ModelTable;
  tied: boolean;
  /** The `prism.hadamard.*` rotation the file declares (Ternary Bonsai 2), checked. */
  rotation?: HadamardRotation;
  /** Learned position embeddings (GPT-2, BERT). */
  positions?: EmbeddingTable;
  /** Token-type embeddings (BERT). */
  tokenTypes?: EmbeddingTable;
  rope?: RopeConfig;
  /** Token strings by id (GGUF `tokenizer.ggml.tokens`). */
  vocabulary?: string[];
  /** Token rows are multiplied by this before use (Gemma: sqrt(dim); Granite: embedding_scale). */
  embeddingScale?: number;
  /** Logits are multiplied by this (Cohere: logit_scale; Granite: 1 / logit_scale). */
  logitScale?: number;
  /** Logits become cap * tanh(logits / cap) (Gemma 2). */
  softcap?: number;
  /** GGUF key/values, or safetensors `__metadata__` merged with config.json. */
  metadata: Record<string, unknown>;
  /** Frees every table (the head once when tied). */
  dispose(): void;
  /** The same as dispose(), for `using`. */
  [Symbol.dispose](): void;
}

export interface LoadEmbeddingModelOptions {
  /** For safetensors: the model's config.json, parsed or where to read it. */
  config?: Record<string, unknown> | SourceInput;
  /** Load the untied head (default true). */
  head?: boolean;
  /** Load position and token-type tables (default true). */
  positions?: boolean;
}

// Gemma scales token rows by sqrt(hidden size) in every version.
const GEMMA = /^gemma/;

export async function loadEmbeddingModel(
  rt: Runtime,
  input: SourceInput,
  options: LoadEmbeddingModelOptions = {},
): Promise<EmbeddingModel> {
  const source = await openSource(input);
  const head = await source.read(0, Math.min(MODEL_HEAD_BYTES, source.size));
  const kind = modelKind(head, source.size);
  if (kind !== "gguf" && kind !== "safetensors") {
    throw notModelFile(source.name, head, "GGUF or safetensors", "loadEmbeddingModel reads GGUF and safetensors model files.");
  }
  return kind === "gguf" ? fromGGUF(rt, await readGGUF(source), options) : fromSafetensors(rt, await readSafetensors(source, { config: options.config }), options);
}

// A scale or cap from the file: absent, or a finite number > 0 (NaN, an infinity, zero or a negative number would
// make every logit NaN, infinite or reverse the ranking; it is refused, naming the key).
function positive(key: string, v: number | undefined): number | undefined {
  if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw errors.metadataValue(key, v, "a finite number > 0");
  return v;
}

// Load tables one after another; on failure free what was loaded.
async function loading<T>(loaded: { dispose(): void }[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    for (const t of loaded) t.dispose();
    throw e;
  }
}

function finish(parts: Omit<EmbeddingModel, "dispose" | typeof Symbol.dispose>): EmbeddingModel {
  const tables = new Set([parts.tokens, parts.head, parts.positions, parts.tokenTypes].filter((t) => t !== undefined));
  const dispose = () => tables.forEach((t) => t.dispose());
  return { ...parts, dispose, [Symbol.dispose]: dispose };
}

async function fromGGUF(rt: Runtime, g: GGUFFile, options: LoadEmbeddingModelOptions): Promise<EmbeddingModel> {
  const m = g.metadata;
  const arch = typeof m["general.architecture"] === "string" ? (m["general.architecture"] as string) : undefined;
  const has = (name: string) => g.tensors.some((t) => t.name === name);
  const num = (key: string): number | undefined => {
    const v = arch ? m[`${arch}.${key}`] : undefined;
    return typeof v === "number" ? v : undefined;
  };
  if (!has("token_embd.weight")) throw errors.noTensor("token_embd.weight", g.tensors.map((t) => t.name));
  const rotation = readRotation(m, g.types, g.tensors);
  const loaded: { dispose(): void }[] = [];
  return loading(loaded, async () => {
    // a latent table (its name listed by the rotation) is wrapped; the wrapper owns it
    const load = async (name: string, latent: boolean) => {
      const t = await g.loadTable(rt, name);
      loaded.push(t);
      if (rotation === undefined || !latent) return t;
      const rotated = new RotatedTable(t, { block: rotation.block, signs: rotation.signs.get(t.dim) });
      loaded[loaded.length - 1] = rotated;
      return rotated;
    };
    const tokens = await load("token_embd.weight", rotation?.inverseWeightNames.includes("token_embd.weight") ?? false);
    const tied = !has("output.weight");
    const head = tied ? tokens : options.head === false ? tokens : await load("output.weight", rotation?.weightNames.includes("output.weight") ?? false);
    const withPositions = options.positions !== false;
    const positions = withPositions && has("position_embd.weight") ? ((await load("position_embd.weight", false)) as EmbeddingTable) : undefined;
    const tokenTypes = withPositions && has("token_types.weight") ? ((await load("token_types.weight", false)) as EmbeddingTable) : undefined;
    let rope: RopeConfig | undefined;
    if (positions === undefined && (num("rope.freq_base") !== undefined || num("rope.dimension_count") !== undefined)) {
      let ropeFreqs: Float32Array | undefined;
      const rf = g.tensors.find((t) => t.name === "rope_freqs.weight");
      if (rf && rf.typeName === "f32") {
        const b = await g.readTensor(rf.name);
        ropeFreqs = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      }
      try {
        rope = ropeConfigFromGGUF(m, { ropeFreqs });
      } catch {
        rope = undefined; // an architecture without RoPE, or keys missing: no config rather than a guess
      }
    }
    const tokensKey = m["tokenizer.ggml.tokens"];
    const vocabulary = Array.isArray(tokensKey) && tokensKey.every((x) => typeof x === "string") ? (tokensKey as string[]) : undefined;
    const scaleKey = (key: string) => positive(`${arch}.${key}`, num(key));
    let embeddingScale = scaleKey("embedding_scale");
    if (embeddingScale === undefined && arch !== undefined && GEMMA.test(arch)) embeddingScale = Math.fround(Math.sqrt(tokens.dim));
    const rawLogit = scaleKey("logit_scale");
    const logitScale = rawLogit === undefined ? undefined : arch?.startsWith("granite") ? 1 / rawLogit : rawLogit;
    const softcap = scaleKey("final_logit_softcapping");
    return finish({
      kind: "gguf",
      architecture: arch,
      tokens,
      head,
      tied,
      rotation,
      positions,
      tokenTypes,
      rope,
      vocabulary,
      embeddingScale,
      logitScale,
      softcap,
      metadata: m as Record<string, MetadataValue>,
    });
  });
}

// Tensor names by role, matched as suffixes so prefixes (`bert.`, `model.language_model.`) pass.
const ST_TOKENS = ["embed_tokens.weight", "transformer.wte.weight", "wte.weight", "word_embeddings.weight", "gpt_neox.embed_in.weight", "embed_in.weight"];
const ST_HEAD = ["lm_head.weight", "embed_out.weight"];
const ST_POSITIONS = ["transformer.wpe.weight", "wpe.weight", "position_embeddings.weight"];
const ST_TYPES = ["token_type_embeddings.weight"];

async function fromSafetensors(rt: Runtime, s: SafetensorsFile, options: LoadEmbeddingModelOptions): Promise<EmbeddingModel> {
  const find = (suffixes: string[]) => {
    for (const suffix of suffixes) {
      const t = s.tensors.find((x) => x.name === suffix || x.name.endsWith("." + suffix));
      if (t) return t.name;
    }
    return undefined;
  };
  const tokensName = find(ST_TOKENS);
  if (tokensName === undefined) throw errors.noTensor(ST_TOKENS[0], s.tensors.map((t) => t.name));
  const c = (s.config ?? {}) as Record<string, unknown>;
  const text = (typeof c.text_config === "object" && c.text_config !== null ? c.text_config : c) as Record<string, unknown>;
  const modelType = typeof text.model_type === "string" ? text.model_type : typeof c.model_type === "string" ? c.model_type : undefined;
  const numOf = (k: string) => (typeof text[k] === "number" ? (text[k] as number) : typeof c[k] === "number" ? (c[k] as number) : undefined);
  const loaded: EmbeddingTable[] = [];
  return loading(loaded, async () => {
    const load = async (name: string) => {
      const t = await s.loadTable(rt, name);
      loaded.push(t);
      return t;
    };
    const tokens = await load(tokensName);
    const headName = find(ST_HEAD);
    const tied = headName === undefined;
    if (tied && (text.tie_word_embeddings === false || c.tie_word_embeddings === false) && options.head !== false) {
      // an untied model whose head lives in another shard: say so rather than use the token table
      throw errors.noTensor(ST_HEAD[0], s.tensors.map((t) => t.name));
    }
    const head = headName === undefined || options.head === false ? tokens : await load(headName);
    const withPositions = options.positions !== false;
    const posName = find(ST_POSITIONS);
    const typeName = find(ST_TYPES);
    const positions = withPositions && posName ? await load(posName) : undefined;
    const tokenTypes = withPositions && typeName ? await load(typeName) : undefined;
    let rope: RopeConfig | undefined;
    if (s.config !== undefined && positions === undefined) {
      try {
        rope = ropeConfigFromHF(c);
      } catch {
        rope = undefined;
      }
    }
    let embeddingScale = positive("embedding_multiplier", numOf("embedding_multiplier"));
    if (embeddingScale === undefined && modelType !== undefined && GEMMA.test(modelType)) {
      // HF computes sqrt(hidden) in the activation dtype: bf16 gives 45.25 for 2048
      // only a string counts: String() of a deeply nested value would overflow the stack
      const dtype = [text.torch_dtype, c.torch_dtype, text.dtype, c.dtype].find((x) => typeof x === "string") ?? "float32";
      embeddingScale = embeddingScaleOf("sqrt", tokens.dim, dtype === "bfloat16" ? "bf16" : dtype === "float16" ? "f16" : "f32");
    }
    const rawLogit = positive("logits_scaling", numOf("logits_scaling")) ?? positive("logit_scale", numOf("logit_scale"));
    const logitScale = rawLogit === undefined ? undefined : modelType?.startsWith("granite") ? 1 / rawLogit : rawLogit;
    const softcap = positive("final_logit_softcapping", numOf("final_logit_softcapping"));
    return finish({
      kind: "safetensors",
      architecture: modelType,
      tokens,
      head,
      tied,
      positions,
      tokenTypes,
      rope,
      embeddingScale,
      logitScale,
      softcap: softcap === null ? undefined : softcap,
      metadata: { ...s.metadata, ...(s.config ?? {}) },
    });
  });
}

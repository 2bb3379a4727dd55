// Static embedding models: a token table plus pooling. A sentence's vector is the mean of its tokens' rows,
// computed by table.pool in wasm over the packed table (q8_0 by default).
//   model2vec / Potion (and Sentence Transformers' StaticEmbedding): model.safetensors with `embeddings` (or
//     `embedding.weight`) [V', D], optional `mapping` [V] (token id -> row, vocabulary-quantized models) and
//     `weights` [V] (per token id), config.json (`normalize`), tokenizer.json (run by @huggingface/tokenizers).
//     encode = mean over tokens t of embeddings[mapping[t]] * weights[t], unknown tokens dropped, then
//     optionally L2-normalised; as model2vec's StaticModel.encode.
//   word tables (GloVe, word2vec text or JSON, or a GGUF with a vocabulary): the mean of the rows of the
//     whitespace-separated words found; unknown words are skipped and counted.
// see: github.com/MinishLab/model2vec (model.py, persistence.py).
import { errors } from "../core/errors.js";
import { fileSystem } from "../core/file-system.js";
import type { Ids } from "../core/ids.js";
import type { Runtime } from "../core/runtime.js";
import { encodeRows } from "../formats/codec.js";
import { FORMATS, formatInfo, type Format } from "../formats/registry.js";
import { EmbeddingTable } from "../tables/table.js";
import { readGloveJSON, readGloveText, type WordVectors } from "./glove.js";
import { loadEmbeddingModel, type ModelTable } from "./model.js";
import { readSafetensors, type SafetensorsFile, type SafetensorsTensorInfo } from "./safetensors.js";
import { isByteSource, openSource, type ByteSource, type SourceInput } from "./source.js";
import {
  encodeText,
  isTokenizerLike,
  isTokenizerModule,
  tokenizerFromJSON,
  unknownId,
  WordTokenizer,
  type TokenizerLike,
  type TokenizerModule,
} from "./tokenizer.js";

/** A model2vec model's files, where no directory can be read (browsers, workers): bytes, Blobs, URLs, or parsed JSON. */
export interface StaticModelFiles {
  /** model.safetensors */
  model: SourceInput;
  /** config.json, parsed or where to read it. */
  config?: Record<string, unknown> | SourceInput;
  /** tokenizer.json, parsed or where to read it. */
  tokenizer?: Record<string, unknown> | SourceInput;
}

export interface LoadStaticModelOptions {
  /**
   * The tokenizer: an instance (`encode(text) -> { ids }`), or the @huggingface/tokenizers module to build one
   * from tokenizer.json (for bundlers and workers: `import * as tokenizers from "@huggingface/tokenizers"`).
   * Default: that module imported when installed; without one, `encode` takes token ids only.
   */
  tokenizer?: TokenizerLike | TokenizerModule;
  /** The table's format in memory, quantized on load when the file holds another (default "q8_0"). */
  format?: Format;
  /** L2-normalise sentence vectors by default (default: config.json's `normalize`, else false). */
  normalize?: boolean;
}

export interface EncodeOptions {
  /** L2-normalise each vector (default: the model's `normalize`). */
  normalize?: boolean;
  /** Keep at most this many tokens (words) per text (default 512 for model2vec, as its encode; unlimited for words). */
  maxTokens?: number;
}

export interface Tokenized {
  /** Per text, the token ids kept (unknown tokens dropped, truncated to maxTokens). */
  ids: Int32Array[];
  /** Per text, how many tokens (words) were unknown and skipped. */
  unknown: Int32Array;
}

const CHUNK_BYTES = 1 << 20;

export class StaticModel {
  /** "model2vec" (a tokenizer's ids) or "words" (whitespace words of a word table). */
  readonly kind: "model2vec" | "words";
  /** The packed token table; its rows are pooled. */
  readonly table: ModelTable;
  readonly dim: number;
  /** Token id -> table row (vocabulary-quantized model2vec models). */
  readonly mapping?: Int32Array;
  /** Per token id, the weight its row is multiplied by before the mean. */
  readonly weights?: Float32Array;
  readonly normalize: boolean;
  /** config.json (model2vec) or the file's metadata. */
  readonly config: Record<string, unknown>;
  /** Words by row (word tables). */
  readonly vocabulary?: string[];
  readonly tokenizer?: TokenizerLike;
  private readonly noTokenizer?: string;
  private readonly words?: WordTokenizer;

  /** @internal use loadStaticModel */
  constructor(parts: {
    kind: "model2vec" | "words";
    table: ModelTable;
    mapping?: Int32Array;
    weights?: Float32Array;
    normalize: boolean;
    config: Record<string, unknown>;
    vocabulary?: string[];
    tokenizer?: TokenizerLike;
    noTokenizer?: string;
  }) {
    this.kind = parts.kind;
    this.table = parts.table;
    this.dim = parts.table.dim;
    this.mapping = parts.mapping;
    this.weights = parts.weights;
    this.normalize = parts.normalize;
    this.config = parts.config;
    this.vocabulary = parts.vocabulary;
    this.tokenizer = parts.tokenizer;
    this.noTokenizer = parts.noTokenizer;
    if (parts.kind === "words") this.words = new WordTokenizer(parts.vocabulary ?? []);
  }

  /** How many token ids the model takes (the mapping's length, else the table's rows). */
  get tokens(): number {
    return this.mapping?.length ?? this.table.vocab;
  }

  /** Texts -> token ids: the tokenizer (special tokens left out, unknown tokens dropped) or whitespace words. */
  tokenize(texts: readonly string[], options: Pick<EncodeOptions, "maxTokens"> = {}): Tokenized {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== "string")) throw errors.textsKind(texts);
    const max = this.maxTokens(options.maxTokens);
    const unknown = new Int32Array(texts.length);
    const ids = texts.map((text, i) => {
      let kept: number[];
      if (this.words) {
        const w = this.words.words(text);
        kept = w.ids;
        unknown[i] = w.unknown;
      } else {
        if (!this.tokenizer) throw errors.noTokenizer(this.noTokenizer ?? "none was given");
        const all = Array.from(encodeText(this.tokenizer, text));
        const unk = unknownId(this.tokenizer);
        kept = unk === undefined ? all : all.filter((id) => id !== unk);
        unknown[i] = all.length - kept.length;
      }
      return Int32Array.from(kept.length > max ? kept.slice(0, max) : kept);
    });
    return { ids, unknown };
  }

  /**
   * Texts, or token ids per text, -> n vectors [n * dim]: the mean of each text's (weighted) rows, zeros for a
   * text with no known token; normalised when asked (or when the model says so).
   */
  encode(input: readonly string[] | readonly Ids[], options: EncodeOptions = {}): Float32Array {
    if (!Array.isArray(input)) throw errors.textsKind(input);
    const o = options ?? {};
    const texts = input.length > 0 && input.every((x) => typeof x === "string");
    const perText: ArrayLike<number>[] = texts ? this.tokenize(input as string[], o).ids : (input as Ids[]);
    if (!texts) {
      for (const ids of perText) {
        if (!(ids instanceof Int32Array || ids instanceof Uint32Array || Array.isArray(ids))) throw errors.textsKind(input);
      }
    }
    const max = texts ? Infinity : this.maxTokens(o.maxTokens);
    let total = 0;
    for (const ids of perText) total += Math.min(ids.length, max);
    const rows = new Int32Array(total);
    const weights = this.weights ? new Float32Array(total) : undefined;
    const offsets = new Int32Array(perText.length);
    const limit = this.tokens;
    let at = 0;
    perText.forEach((ids, t) => {
      offsets[t] = at;
      const n = Math.min(ids.length, max);
      for (let i = 0; i < n; i++) {
        const id = ids[i];
        if (!(typeof id === "number" && id >>> 0 === id && id < limit)) throw errors.idOutOfRange(id, i, limit, `ids[${t}]`);
        rows[at] = this.mapping ? this.mapping[id] : id;
        if (weights) weights[at] = this.weights![id];
        at++;
      }
    });
    return this.table.pool(rows, offsets, { mode: "mean", weights, normalize: o.normalize ?? this.normalize });
  }

  dispose(): void {
    this.table.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  private maxTokens(value: number | undefined): number {
    if (value === undefined) return this.kind === "model2vec" ? 512 : Infinity;
    if (!(Number.isInteger(value) && value > 0)) throw errors.notPositiveInt("maxTokens", value);
    return value;
  }
}

/**
 * A static embedding model: a model2vec directory (path), its files ({ model, config?, tokenizer? }), a
 * model.safetensors alone (encode takes ids then), word vectors (GloVe/word2vec text or JSON, a GGUF with a
 * vocabulary, or { words, dim, values }). The table stays packed, in `format` (default q8_0).
 */
export async function loadStaticModel(
  rt: Runtime,
  source: SourceInput | StaticModelFiles | WordVectors,
  options: LoadStaticModelOptions = {},
): Promise<StaticModel> {
  const o = options ?? {};
  const format = o.format ?? "q8_0";
  formatInfo(format);
  if (o.tokenizer !== undefined && !isTokenizerLike(o.tokenizer) && !isTokenizerModule(o.tokenizer)) {
    throw errors.option("tokenizer", o.tokenizer, "a tokenizer (with encode) or the @huggingface/tokenizers module");
  }
  if (isWordVectors(source)) return wordModel(rt, source, format, o);
  const files = await resolveFiles(rt, source);
  if (files.words) return wordModel(rt, files.words, format, o, files.metadata);
  return model2vec(rt, files.model!, files.config, files.tokenizer, format, o);
}

function isWordVectors(x: unknown): x is WordVectors {
  return typeof x === "object" && x !== null && Array.isArray((x as WordVectors).words) && (x as WordVectors).values instanceof Float32Array;
}

function isFiles(x: unknown): x is StaticModelFiles {
  return typeof x === "object" && x !== null && !isByteSource(x) && !ArrayBuffer.isView(x) && !(x instanceof ArrayBuffer) &&
    !(x instanceof URL) && !(typeof Blob !== "undefined" && x instanceof Blob) && "model" in x;
}

interface Resolved {
  model?: ByteSource;
  config?: Record<string, unknown> | SourceInput;
  tokenizer?: Record<string, unknown> | SourceInput;
  words?: WordVectors | { table: ModelTable; words: string[] };
  metadata?: Record<string, unknown>;
}

// Which files: a directory's model2vec layout, the files given, or one file sniffed by its first bytes.
async function resolveFiles(rt: Runtime, source: SourceInput | StaticModelFiles): Promise<Resolved> {
  if (isFiles(source)) return { model: await openSource(source.model), config: source.config, tokenizer: source.tokenizer };
  if (typeof source === "string" && !/^https?:\/\//i.test(source)) {
    const dir = await directory(source);
    if (dir !== undefined) return dir;
  }
  const file = await openSource(source);
  const head = await file.read(0, Math.min(16, file.size));
  if (String.fromCharCode(...head.subarray(0, 4)) === "GGUF") {
    // the token table as the file packs it, and its vocabulary as the words
    const m = await loadEmbeddingModel(rt, file, { head: false, positions: false });
    if (!m.vocabulary || m.vocabulary.length !== m.tokens.vocab) {
      m.dispose();
      throw errors.missingKey("tokenizer.ggml.tokens", "encoding words with a GGUF (one string per row)");
    }
    return { words: { table: m.tokens, words: m.vocabulary }, metadata: m.metadata };
  }
  if (head.length >= 9 && head[8] === 0x7b /* { */) return { model: file };
  // word vectors as text or JSON
  const text = new TextDecoder().decode(await file.read(0, file.size));
  return { words: text.trimStart().startsWith("{") ? readGloveJSON(text) : readGloveText(text) };
}

// model2vec's layout (model.safetensors, config.json, tokenizer.json) or Sentence Transformers'
// (0_StaticEmbedding/model.safetensors and its tokenizer.json); undefined when `path` is not a directory.
async function directory(path: string): Promise<Resolved | undefined> {
  // the file system the node, deno and bun entries provide (browser bundles import nothing from node:)
  const fs = await fileSystem();
  if (!fs) return undefined;
  const isDir = await fs.stat(path).then((s) => s.isDirectory(), () => false);
  if (!isDir) return undefined;
  const exists = (p: string) => fs.stat(p).then((s) => s.isFile(), () => false);
  const base = path.replace(/[\\/]+$/, "");
  for (const sub of [base, `${base}/0_StaticEmbedding`]) {
    if (!(await exists(`${sub}/model.safetensors`))) continue;
    const pick = async (name: string) => ((await exists(`${sub}/${name}`)) ? `${sub}/${name}` : (await exists(`${base}/${name}`)) ? `${base}/${name}` : undefined);
    return { model: await openSource(`${sub}/model.safetensors`), config: await pick("config.json"), tokenizer: await pick("tokenizer.json") };
  }
  throw errors.fileOpen(`${base}/model.safetensors`, new Error("the directory holds no model.safetensors (nor 0_StaticEmbedding/model.safetensors)"));
}

async function readJSON(input: Record<string, unknown> | SourceInput, name: string): Promise<Record<string, unknown>> {
  if (typeof input === "object" && input !== null && !isByteSource(input) && !ArrayBuffer.isView(input) && !(input instanceof ArrayBuffer) &&
    !(input instanceof URL) && !(typeof Blob !== "undefined" && input instanceof Blob)) {
    return input as Record<string, unknown>;
  }
  const source = await openSource(input as SourceInput);
  const text = new TextDecoder().decode(await source.read(0, source.size));
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed;
  } catch (e) {
    throw errors.badFile(name, source.name, 0, `not a JSON object (${(e as Error).message})`);
  }
}

async function model2vec(
  rt: Runtime,
  model: ByteSource,
  configInput: Resolved["config"],
  tokenizerInput: Resolved["tokenizer"],
  format: Format,
  o: LoadStaticModelOptions,
): Promise<StaticModel> {
  const file = await readSafetensors(model);
  const config = configInput === undefined ? {} : await readJSON(configInput, "config.json");
  const names = file.tensors.map((t) => t.name);
  const name = names.includes("embeddings") ? "embeddings" : names.includes("embedding.weight") ? "embedding.weight" : undefined;
  if (name === undefined) throw errors.noTensor("embeddings", names);
  const info = file.tensor(name);
  if (info.shape.length !== 2 || info.shape[0] === 0 || info.shape[1] === 0) throw errors.tensorShape(name, info.shape, "[rows, dim] with both at least 1");
  const mapping = names.includes("mapping") ? await readIntegers(file, "mapping", info.shape[0]) : undefined;
  const tokens = mapping?.length ?? info.shape[0];
  const weights = names.includes("weights") ? await readFloats(rt, file, "weights", tokens) : undefined;

  let tokenizer: TokenizerLike | undefined;
  let noTokenizer: string | undefined;
  if (isTokenizerLike(o.tokenizer)) tokenizer = o.tokenizer;
  else if (tokenizerInput === undefined) noTokenizer = "no tokenizer.json was found or given";
  else {
    const made = await tokenizerFromJSON(await readJSON(tokenizerInput, "tokenizer.json"), o.tokenizer);
    if (typeof made === "string") noTokenizer = made;
    else tokenizer = made;
  }
  const table = await loadRows(rt, file, info, format);
  const normalize = o.normalize ?? config.normalize === true;
  return new StaticModel({ kind: "model2vec", table, mapping, weights, normalize, config, tokenizer, noTokenizer });
}

// The rows of a [V, D] tensor into a table of `format`: as they are when the file holds that format, else
// converted slice by slice (each slice decoded to f32 and quantized into place): no f32 copy of the table.
async function loadRows(rt: Runtime, file: SafetensorsFile, t: SafetensorsTensorInfo, format: Format): Promise<EmbeddingTable> {
  if (t.format === format) return file.loadTable(rt, t.name);
  const [vocab, dim] = t.shape;
  const convert = toF32(t, dim);
  const table = EmbeddingTable.allocate(rt, { vocab, dim, format });
  try {
    const srcRow = t.byteLength / vocab;
    const chunk = Math.max(1, Math.min(vocab, Math.floor(CHUNK_BYTES / (dim * 4))));
    for (let r = 0; r < vocab; r += chunk) {
      const rows = Math.min(chunk, vocab - r);
      const bytes = await file.source.read(t.offset + r * srcRow, rows * srcRow);
      encodeRows(rt, table.info, convert(rt, bytes, rows), rows, dim, table.ptr + r * table.rowBytes);
    }
  } catch (e) {
    table.dispose();
    throw e;
  }
  return table;
}

// A slice of rows of the tensor's dtype -> f32 values. model2vec writes float32, float16, float64 and int8
// (int8 with its one global scale dropped: only directions survive, which mean + normalize keep).
function toF32(t: SafetensorsTensorInfo, dim: number): (rt: Runtime, bytes: Uint8Array, rows: number) => Float32Array {
  const copy = (bytes: Uint8Array) => bytes.slice().buffer; // aligned
  if (t.format !== undefined) {
    const from = t.format;
    return (rt, bytes, rows) => rt.dequantize(bytes, { vocab: rows, dim, format: from });
  }
  if (t.dtype === "F64") return (_, bytes) => Float32Array.from(new Float64Array(copy(bytes)));
  if (t.dtype === "I8") return (_, bytes) => Float32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const held = Object.values(FORMATS).flatMap((f) => (f as { safetensors?: string }).safetensors ?? []);
  throw errors.tensorFormat(t.name, t.dtype, [...held, "F64", "I8"]);
}

// `mapping`: [V] integers, each a row of the embeddings.
async function readIntegers(file: SafetensorsFile, name: string, rows: number): Promise<Int32Array> {
  const t = file.tensor(name);
  if (t.shape.length !== 1) throw errors.tensorShape(name, t.shape, "[tokens]");
  const bytes = (await file.readTensor(name)).slice();
  let values: ArrayLike<number | bigint>;
  if (t.dtype === "I64") values = new BigInt64Array(bytes.buffer);
  else if (t.dtype === "I32") values = new Int32Array(bytes.buffer);
  else if (t.dtype === "U32") values = new Uint32Array(bytes.buffer);
  else throw errors.tensorFormat(name, t.dtype, ["I64", "I32", "U32"]);
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (!(Number.isInteger(v) && v >= 0 && v < rows)) throw errors.tensorShape(name, t.shape, `entries that are rows of the embeddings, in [0, ${rows - 1}]; entry ${i} is ${v}`);
    out[i] = v;
  }
  return out;
}

// `weights`: [V] floats, one per token id.
async function readFloats(rt: Runtime, file: SafetensorsFile, name: string, tokens: number): Promise<Float32Array> {
  const t = file.tensor(name);
  if (t.shape.length !== 1 || t.shape[0] !== tokens) throw errors.tensorShape(name, t.shape, `[${tokens}], one weight per token`);
  const bytes = (await file.readTensor(name)).slice();
  if (t.dtype === "F32") return new Float32Array(bytes.buffer);
  if (t.dtype === "F64") return Float32Array.from(new Float64Array(bytes.buffer));
  if (t.dtype === "F16" || t.dtype === "BF16") return rt.dequantize(bytes, { vocab: 1, dim: tokens, format: t.format! });
  throw errors.tensorFormat(name, t.dtype, ["F32", "F64", "F16", "BF16"]);
}

async function wordModel(
  rt: Runtime,
  source: WordVectors | { table: ModelTable; words: string[] },
  format: Format,
  o: LoadStaticModelOptions,
  metadata: Record<string, unknown> = {},
): Promise<StaticModel> {
  const table = "table" in source ? source.table : rt.tableFromF32(source.values, { vocab: source.words.length, dim: source.dim, format });
  return new StaticModel({ kind: "words", table, normalize: o.normalize ?? false, config: metadata, vocabulary: source.words });
}

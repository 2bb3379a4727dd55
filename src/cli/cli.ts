// The `bitembed` command: inspect model files, convert tables between formats into GGUF, and query word
// tables (nearest neighbours, analogies). Errors print as one line and exit with status 1.
import { readFile, stat } from "node:fs/promises";
import { sameFile, writeFileAtomic } from "./atomic-write.js";
import { clip, say, warn } from "./terminal.js";
import { init } from "../entries/node.js";
import { FORMATS, FORMAT_NAMES, formatInfo, rowBytes, type Format } from "../formats/registry.js";
import { readGGUF } from "../io/gguf.js";
import { writeGGUF, type GGUFTensorInput } from "../io/gguf-write.js";
import { readGloveJSON, readGloveLines, type WordVectors } from "../io/glove.js";
import { readSafetensors } from "../io/safetensors.js";
import type { MetadataValue } from "../io/gguf-values.js";
import { loadEmbeddingModel, type ModelTable } from "../io/model.js";
import { loadStaticModel } from "../io/static-model.js";
import { RotatedTable } from "../tables/rotated-table.js";
import { readRotation } from "../positions/hadamard-metadata.js";
import { MODEL_HEAD_BYTES, modelKind, notModelFile, type ModelKind } from "../io/model-kind.js";
import { UNPADDED_DIM_KEY } from "../io/gguf.js";
import { quote } from "../core/errors.js";
import type { Runtime } from "../core/runtime.js";
import type { EmbeddingTable } from "../tables/table.js";

// the package version, set by the build (scripts/build.mjs); "dev" when run from src/
declare const BITEMBED_VERSION: string | undefined;
const VERSION = typeof BITEMBED_VERSION === "string" ? BITEMBED_VERSION : "dev";

const HELP: Record<string, string> = {
  main: `bitembed — the embedding layer of a language model, packed (f32 to 1-bit)

Usage:
  bitembed inspect FILE                         tensors, formats, shapes, bytes; memory per format
  bitembed convert IN OUT.gguf --format FMT     GGUF, safetensors, GloVe JSON or text -> GGUF
  bitembed nearest FILE WORD [-k N]             nearest words by cosine
  bitembed analogy FILE A - B + C [-k N]        e.g. king - man + woman
  bitembed embed FILE TEXT... [--vectors]       sentence vectors, or cosine similarities between the texts
  bitembed COMMAND --help                       help on one command
  bitembed --version                            the version of bitembed

Formats: ${FORMAT_NAMES.join(" ")}`,
  inspect: `Usage: bitembed inspect FILE

Prints a GGUF or safetensors file's metadata (long arrays summarised), its tensors (name, type, shape,
bytes) and, for the token table, the memory it needs in each format bitembed holds.`,
  convert: `Usage: bitembed convert IN OUT.gguf --format FMT [--limit N] [--config config.json] [--threads N|auto]

IN is a GGUF, a safetensors file (with --config, its config.json), GloVe/word2vec text (.txt, .vec) or
word-vector JSON (wink-embeddings, or { word: [..] }). OUT is an embedding-only GGUF v3: the token table
(and the head, position and token-type tables when the model has them) in FMT, plus metadata and
vocabulary. --limit N keeps the first N words of a word-vector file. --threads: quantize on N threads (the
same bytes as one); default auto, min(4, cores / 2) as onnxruntime-web chooses.
Formats: ${FORMAT_NAMES.join(" ")}`,
  nearest: `Usage: bitembed nearest FILE WORD [-k N]

The N (default 10) words nearest to WORD by cosine similarity. FILE is any input \`convert\` reads that
has a vocabulary (GGUF with tokenizer.ggml.tokens, or word vectors).`,
  embed: `Usage: bitembed embed FILE TEXT... [--vectors] [--format FMT]

Sentence vectors from a static embedding model: the mean of each text's token rows (see loadStaticModel).
FILE is a model2vec directory (model.safetensors, config.json, tokenizer.json; text needs the optional
package @huggingface/tokenizers), or word vectors (GloVe/word2vec text or JSON, a GGUF with a vocabulary),
whose texts are split on whitespace. With two or more texts, prints the matrix of cosine similarities;
with one, or with --vectors, prints each vector (dim numbers on one line). Unknown words are counted on
stderr. --format FMT: the table's format in memory (default q8_0).`,
  analogy: `Usage: bitembed analogy FILE A - B + C [-k N]

Words nearest to unit(A) - unit(B) + unit(C), the three inputs excluded: \`king - man + woman\` gives queen.`,
};

class UsageError extends Error {}

interface Args {
  positional: string[];
  flags: Record<string, string | true>;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") flags.help = true;
    else if (a === "--vectors") flags.vectors = true;
    else if (a === "-k" || a === "--format" || a === "--limit" || a === "--config" || a === "--threads") {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      flags[a.replace(/^-+/, "")] = argv[++i];
    } else if (a.startsWith("--") && a.includes("=")) {
      const [k, v] = a.slice(2).split("=", 2);
      flags[k] = v;
    } else if (a.startsWith("--")) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  return { positional, flags };
}

function intFlag(flags: Args["flags"], name: string, fallback: number): number {
  const v = flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`-${name.length === 1 ? "" : "-"}${name} must be a positive integer, got ${String(v)}`);
  return n;
}

// --threads N or auto (the default: what init's "auto" gives, min(4, cores / 2)).
function threadsFlag(flags: Args["flags"]): number | "auto" {
  if (flags.threads === undefined || flags.threads === "auto") return "auto";
  return intFlag(flags, "threads", 1);
}

type Kind = ModelKind;

// What the file is, from its first bytes; a directory, or bytes of no kind bitembed reads, are named as such.
async function kindOf(path: string): Promise<Kind> {
  const { open, stat } = await import("node:fs/promises");
  const info = await stat(path).catch((e: Error) => {
    throw new Error(`cannot open ${path}: ${e.message}`);
  });
  if (info.isDirectory()) throw new Error(`${path} is a directory; expected a model file (GGUF, safetensors, or word vectors)`);
  const head = new Uint8Array(Math.min(MODEL_HEAD_BYTES, info.size));
  const fh = await open(path, "r");
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  const kind = modelKind(head, info.size);
  const ext = /\.(gguf|safetensors)$/i.exec(path)?.[1].toLowerCase();
  // a .gguf or .safetensors name that holds something else (an HTML page saved by mistake) is not word vectors
  if (kind === undefined || (ext && kind !== (ext === "gguf" ? "gguf" : "safetensors"))) {
    const expected = ext === "safetensors" ? "safetensors" : "GGUF";
    throw notModelFile(path, head, expected, "bitembed reads GGUF, safetensors, and word vectors as GloVe/word2vec text or JSON.");
  }
  return kind;
}

// V8 strings stop at 2^29 - 24 characters: JSON has to fit one; text is read line by line (and only up to --limit).
const MAX_JSON_BYTES = 2 ** 29 - 24;
const MAX_LINE = 1 << 26;

async function readWords(path: string, kind: Kind, limit?: number): Promise<WordVectors> {
  if (kind === "json") {
    const size = (await stat(path)).size;
    if (size > MAX_JSON_BYTES) throw new Error(`${path}: word-vector JSON of ${size} bytes is larger than one JS string can hold; convert it to GloVe text`);
    return readGloveJSON(await readFile(path, "utf8"), { limit });
  }
  return readGloveLines(fileLines(path), { limit });
}

// The lines of a UTF-8 text file, read in 1 MiB chunks; stopping early closes the file.
async function* fileLines(path: string): AsyncGenerator<string> {
  const { createReadStream } = await import("node:fs");
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const decoder = new TextDecoder("utf-8");
  let parts: string[] = []; // the line so far, when it spans chunks
  let partLength = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      const piece = decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let nl = piece.indexOf("\n"); nl >= 0; nl = piece.indexOf("\n", start)) {
        const tail = piece.slice(start, nl);
        yield parts.length > 0 ? parts.join("") + tail : tail;
        parts = [];
        partLength = 0;
        start = nl + 1;
      }
      if (start < piece.length) {
        parts.push(piece.slice(start));
        partLength += piece.length - start;
      }
      if (partLength > MAX_LINE) throw new Error(`${path}: a line longer than ${MAX_LINE} characters; not word-vector text`);
    }
    const rest = parts.join("") + decoder.decode();
    if (rest.length > 0) yield rest;
  } finally {
    stream.destroy();
  }
}

// A token table and its words, from any input.
async function openWordTable(rt: Runtime, path: string, limit?: number): Promise<{ table: ModelTable; words: string[] }> {
  const kind = await kindOf(path);
  if (kind === "gguf" || kind === "safetensors") {
    const m = await loadEmbeddingModel(rt, path, { head: false, positions: false });
    if (!m.vocabulary) throw new Error(`${path} has no vocabulary (tokenizer.ggml.tokens); nearest and analogy need words`);
    return { table: m.tokens, words: m.vocabulary };
  }
  const w = await readWords(path, kind, limit);
  return { table: rt.tableFromF32(w.values, { vocab: w.words.length, dim: w.dim, format: "f32" }), words: w.words };
}

// Word lookup tolerant of tokenizer markers: SentencePiece's "▁word", byte-level BPE's "Ġword".
function wordId(words: string[], word: string): number {
  for (const w of [word, `\u2581${word}`, `\u0120${word}`, word.toLowerCase()]) {
    const id = words.indexOf(w);
    if (id >= 0) return id;
  }
  throw new Error(`${quote(word)} is not in the vocabulary (${words.length} tokens)`);
}

// Rows past the end of the vocabulary print as #id; ids of -1 (rows that could not be scored: zero or NaN) are left out.
function printMatches(words: string[], ids: Int32Array, scores: Float32Array): void {
  const shown = Array.from(ids)
    .map((id, i) => ({ id, word: clip(id < words.length ? words[id] ?? "" : `#${id}`, 60), score: scores[i] }))
    .filter((m) => m.id >= 0);
  if (shown.length === 0) return say("  (no row could be scored: the query or every row is zero or NaN)");
  const width = Math.max(...shown.map((m) => m.word.length));
  shown.forEach((m, i) => say(`${String(i + 1).padStart(3)}  ${m.word.padEnd(width)}  ${m.score.toFixed(4)}`));
}

// The id of a word, checked against the table (a vocabulary may be longer than the table) and for NaN values.
function queryRow(table: Pick<EmbeddingTable, "vocab" | "lookup">, words: string[], word: string): number {
  const id = wordId(words, word);
  if (id >= table.vocab) throw new Error(`${quote(word)} is token ${id}, but the table has only ${table.vocab} rows`);
  if (table.lookup([id]).some(Number.isNaN)) throw new Error(`the vector of ${quote(word)} (row ${id}) holds NaN`);
  return id;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

function summarise(v: unknown): string {
  if (typeof v === "string") return quote(v, 77);
  if (ArrayBuffer.isView(v) || Array.isArray(v)) {
    const arr = v as ArrayLike<unknown>;
    if (arr.length <= 8) return `[${Array.from(arr, (x) => (typeof x === "string" ? quote(x, 40) : Array.isArray(x) || ArrayBuffer.isView(x) ? summarise(x) : String(x))).join(", ")}]`;
    const kind = Array.isArray(v) ? (typeof v[0] === "string" ? "strings" : "values") : v.constructor.name;
    return `[${arr.length} ${kind}]`;
  }
  return String(v);
}

async function inspect(args: Args): Promise<void> {
  const [path] = args.positional;
  if (!path) throw new UsageError("inspect needs a FILE");
  const kind = await kindOf(path);
  let table: { rows: number; dim: number; name: string } | undefined;
  if (kind === "gguf") {
    const g = await readGGUF(path);
    say(`${path}: GGUF v${g.version}, ${g.tensors.length} tensors, ${Object.keys(g.metadata).length} keys, alignment ${g.alignment}, data at byte ${g.dataOffset}`);
    say("");
    say("metadata:");
    for (const [k, v] of Object.entries(g.metadata)) say(`  ${clip(k)} (${g.types[k]}) = ${summarise(v)}`);
    say("");
    say("tensors:");
    for (const t of g.tensors) say(`  ${clip(t.name).padEnd(28)} ${t.typeName.padEnd(7)} [${t.dims.join(", ")}]  ${bytes(t.byteLength)}`);
    say("");
    say(rotationLine(g.metadata, g.types, g.tensors));
    const tok = g.tensors.find((t) => t.name === "token_embd.weight");
    // the true dim: tables bitembed wrote with rows padded to whole blocks record it in the metadata
    const unpadded = tok && g.metadata[UNPADDED_DIM_KEY + tok.name];
    if (tok) table = { rows: tok.dims.slice(1).reduce((a, b) => a * b, 1), dim: typeof unpadded === "number" ? unpadded : tok.dims[0], name: tok.name };
  } else if (kind === "safetensors") {
    const s = await readSafetensors(path);
    say(`${path}: safetensors, ${s.tensors.length} tensors, data at byte ${s.dataOffset}`);
    if (Object.keys(s.metadata).length) {
      say("");
      say("metadata:");
      for (const [k, v] of Object.entries(s.metadata)) say(`  ${clip(k)} = ${summarise(v)}`);
    }
    say("");
    say("tensors:");
    for (const t of s.tensors) say(`  ${clip(t.name).padEnd(40)} ${t.dtype.padEnd(5)} [${t.shape.join(", ")}]  ${bytes(t.byteLength)}`);
    const tok = s.tensors.find((t) => /(embed_tokens|wte|word_embeddings|embed_in)\.weight$/.test(t.name));
    if (tok && tok.shape.length === 2) table = { rows: tok.shape[0], dim: tok.shape[1], name: tok.name };
  } else {
    const w = await readWords(path, kind);
    say(`${path}: word vectors (${kind}), ${w.words.length} words x ${w.dim}`);
    table = { rows: w.words.length, dim: w.dim, name: "word vectors" };
  }
  if (table) {
    say("");
    say(`memory for ${clip(table.name)} (${table.rows} x ${table.dim}) per format:`);
    for (const f of FORMAT_NAMES) {
      const info = FORMATS[f];
      say(`  ${f.padEnd(6)} ${bytes(rowBytes(info, table.dim) * table.rows).padStart(10)}  ${info.description}`);
    }
  }
}

// What `prism.hadamard.*` declares (Ternary Bonsai 2's rotated basis), or why bitembed refuses it.
function rotationLine(...args: Parameters<typeof readRotation>): string {
  try {
    const r = readRotation(...args);
    if (r === undefined) return "rotation: none";
    const widths = r.signMode === "explicit" ? `explicit signs for widths ${[...r.signs.keys()].join(", ")}` : "no signs (identity)";
    const inverse = r.inverseWeightNames.length ? `, latent lookups: ${r.inverseWeightNames.join(", ")}` : "";
    return `rotation: prism.hadamard v${r.version}${r.tiedOutput ? " (tied output)" : ""}, block ${r.block}, ${widths}; ${r.weightNames.length} folded weights${inverse}`;
  } catch (e) {
    return `rotation: refused: ${(e as Error).message}`;
  }
}

// Progress on stderr: a bar redrawn in place (at most every 100 ms) on a terminal; elsewhere (a log, CI, a pipe)
// plain lines, at most one every PROGRESS_LINE_MS, and the last one always.
const PROGRESS_LINE_MS = 2000;

function progress(label: string, total: number): (done: number) => void {
  const tty = process.stderr.isTTY;
  let last = Date.now();
  return (done) => {
    const now = Date.now();
    const pct = Math.floor((done / total) * 100);
    if (!tty) {
      if (now - last < PROGRESS_LINE_MS && done < total) return;
      last = now;
      process.stderr.write(`${label}: ${pct}% (${done} of ${total} rows)\n`);
      return;
    }
    if (now - last < 100 && done < total) return;
    last = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${pct}%`);
    if (done >= total) process.stderr.write("\n");
  };
}

// f32 bytes decoded and quantized per step: one thread, and each step of a threaded runtime (a job per step
// costs a round of messages; bigger steps keep the workers busy longer between them).
const CONVERT_STEP_BYTES = 4 << 20;
const CONVERT_STEP_BYTES_THREADED = 16 << 20;

// Convert a table to `format` slice by slice (rows are independent, so the bytes do not depend on the cut), so no
// full f32 copy is ever held. On a threaded runtime the workers quantize a slice (rt.quantizeAsync) while this
// thread decodes the next.
async function convertTable(rt: Runtime, src: EmbeddingTable, format: Format, label: string): Promise<EmbeddingTable> {
  if (src.format === format) return src;
  const { vocab, dim } = src;
  const rb = rowBytes(formatInfo(format), dim);
  const data = new Uint8Array(rb * vocab);
  const step = rt.threads > 1 ? CONVERT_STEP_BYTES_THREADED : CONVERT_STEP_BYTES;
  const rowsPer = Math.max(1, Math.floor(step / (dim * 4)));
  const tick = progress(label, vocab);
  const slice = (r: number) => src.lookup(Int32Array.from({ length: Math.min(rowsPer, vocab - r) }, (_, i) => r + i));
  let values = slice(0);
  for (let r = 0; r < vocab; r += rowsPer) {
    const n = Math.min(rowsPer, vocab - r);
    const options = { vocab: n, dim, format };
    const pending = rt.threads > 1 ? rt.quantizeAsync(values, options) : Promise.resolve(rt.quantize(values, options));
    const next = r + rowsPer < vocab ? slice(r + rowsPer) : undefined;
    data.set(await pending, r * rb);
    if (next) values = next;
    tick(r + n);
  }
  return rt.table({ vocab, dim, format, data });
}

async function convert(args: Args, rt: Runtime): Promise<void> {
  const [input, output] = args.positional;
  if (!input || !output) throw new UsageError("convert needs IN and OUT");
  const fmt = args.flags.format;
  if (typeof fmt !== "string") throw new UsageError(`convert needs --format (one of ${FORMAT_NAMES.join(", ")})`);
  const format = formatInfo(fmt).name as Format;
  const limit = args.flags.limit === undefined ? undefined : intFlag(args.flags, "limit", 0);
  // a conversion is lossy: writing over its own input would destroy the only copy
  if (await sameFile(input, output)) throw new UsageError(`OUT is the same file as IN (${output}); choose another OUT`);
  const kind = await kindOf(input);
  const metadata: Record<string, MetadataValue> = {};
  const types: Record<string, string> = {};
  const tensors: GGUFTensorInput[] = [];
  const owned: { dispose(): void }[] = [];
  const keep = (t: EmbeddingTable) => (owned.push(t), t);
  // a table in Bonsai 2's rotated basis is converted as stored (latent rows); the prism.hadamard keys go along
  const stored = (t: ModelTable): EmbeddingTable => (t instanceof RotatedTable ? t.latent : t);
  try {
    if (kind === "gguf" || kind === "safetensors") {
      const config = typeof args.flags.config === "string" ? args.flags.config : undefined;
      const m = await loadEmbeddingModel(rt, input, { config });
      owned.push(m.tokens, ...[m.head, m.positions, m.tokenTypes].filter((t): t is ModelTable => t !== undefined && t !== m.tokens));
      if (m.kind === "gguf") {
        const g = await readGGUF(input);
        for (const [k, v] of Object.entries(g.metadata)) {
          if (k === "general.alignment" || k.startsWith("bitembed.unpadded_dim.")) continue;
          metadata[k] = v;
          types[k] = g.types[k];
        }
      } else {
        metadata["general.architecture"] = m.architecture ?? "unknown";
        metadata[`${metadata["general.architecture"]}.embedding_length`] = m.tokens.dim;
        metadata[`${metadata["general.architecture"]}.vocab_size`] = m.tokens.vocab;
      }
      tensors.push({ name: "token_embd.weight", table: keep(await convertTable(rt, stored(m.tokens), format, "token_embd")) });
      if (!m.tied) tensors.push({ name: "output.weight", table: keep(await convertTable(rt, stored(m.head), format, "output")) });
      // position and token-type tables stay as they are (small, and often needed exactly)
      if (m.positions) tensors.push({ name: "position_embd.weight", table: m.positions });
      if (m.tokenTypes) tensors.push({ name: "token_types.weight", table: m.tokenTypes });
    } else {
      const w = await readWords(input, kind, limit);
      const src = keep(rt.tableFromF32(w.values, { vocab: w.words.length, dim: w.dim, format: "f32" }));
      Object.assign(metadata, {
        "general.architecture": "word-vectors",
        "general.name": input.split("/").pop()!,
        "word-vectors.embedding_length": w.dim,
        "word-vectors.vocab_size": w.words.length,
        "tokenizer.ggml.model": "none",
        "tokenizer.ggml.tokens": w.words,
      });
      tensors.push({ name: "token_embd.weight", table: keep(await convertTable(rt, src, format, "token_embd")) });
    }
    const bytesOut = writeGGUF({ metadata, types, tensors });
    await writeFileAtomic(output, bytesOut); // OUT stays as it was unless the whole file is written
    const inSize = (await stat(input)).size;
    const threads = rt.threads > 1 ? `; quantized on ${rt.threads} threads` : "";
    warn(`wrote ${output}: ${bytes(bytesOut.byteLength)} (${format}; input ${bytes(inSize)}${threads})`);
  } finally {
    for (const t of new Set(owned)) t.dispose();
  }
}

async function query(args: Args, rt: Runtime, mode: "nearest" | "analogy"): Promise<void> {
  const [path, ...rest] = args.positional;
  const k = intFlag(args.flags, "k", mode === "nearest" ? 10 : 5);
  if (!path || rest.length === 0) throw new UsageError(`${mode} needs FILE and ${mode === "nearest" ? "WORD" : "A - B + C"}`);
  const { table, words } = await openWordTable(rt, path);
  try {
    if (mode === "nearest") {
      if (rest.length !== 1) throw new UsageError("nearest takes one WORD");
      const id = queryRow(table, words, rest[0]);
      if (table.vocab < 2) return say("  (the table has no other row)");
      const r = table.nearest(table.lookup([id]), Math.min(k, table.vocab - 1), { exclude: [id] });
      printMatches(words, r.ids, r.scores);
    } else {
      // "king - man + woman", also written "king -man +woman"
      const terms = rest.join(" ").replace(/([+-])/g, " $1 ").trim().split(/\s+/);
      if (terms.length !== 5 || terms[1] !== "-" || terms[3] !== "+") throw new UsageError('analogy takes "A - B + C", e.g. king - man + woman');
      const [a, b, c] = [terms[0], terms[2], terms[4]].map((w) => queryRow(table, words, w));
      say(`${terms.map((t) => clip(t, 60)).join(" ")} =`);
      const candidates = table.vocab - new Set([a, b, c]).size;
      if (candidates < 1) return say("  (the table has no other row)");
      const r = table.analogy(a, b, c, Math.min(k, candidates));
      printMatches(words, r.ids, r.scores);
    }
  } finally {
    table.dispose();
  }
}

async function embed(args: Args, rt: Runtime): Promise<void> {
  const [path, ...texts] = args.positional;
  if (!path || texts.length === 0) throw new UsageError("embed needs FILE and at least one TEXT");
  const format = args.flags.format === undefined ? "q8_0" : String(args.flags.format);
  if (!(FORMAT_NAMES as readonly string[]).includes(format)) throw new UsageError(`unknown format ${format}; one of ${FORMAT_NAMES.join(" ")}`);
  const model = await loadStaticModel(rt, path, { format: format as Format });
  try {
    const { unknown } = model.tokenize(texts);
    unknown.forEach((u, i) => {
      if (u > 0) warn(`text ${i + 1}: ${u} unknown ${model.kind === "words" ? "word" : "token"}${u === 1 ? "" : "s"} skipped`);
    });
    const dim = model.dim;
    if (args.flags.vectors || texts.length === 1) {
      const v = model.encode(texts);
      for (let t = 0; t < texts.length; t++) say(Array.from(v.subarray(t * dim, (t + 1) * dim), (x) => x.toPrecision(6)).join(" "));
      return;
    }
    const v = model.encode(texts, { normalize: true });
    const label = (i: number) => `[${i + 1}]`;
    texts.forEach((t, i) => say(`${label(i)} ${t}`));
    say(["    ", ...texts.map((_, j) => label(j).padStart(7))].join(""));
    for (let i = 0; i < texts.length; i++) {
      const row = texts.map((_, j) => {
        let dot = 0;
        for (let k = 0; k < dim; k++) dot += v[i * dim + k] * v[j * dim + k];
        return dot.toFixed(4).padStart(7);
      });
      say([label(i).padEnd(4), ...row].join(""));
    }
  } finally {
    model.dispose();
  }
}

export async function main(argv: string[]): Promise<number> {
  let command = "main";
  try {
    const [cmd, ...rest] = argv;
    if (cmd === "--version" || cmd === "-v" || cmd === "version") {
      console.log(VERSION);
      return 0;
    }
    if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
      console.log(HELP.main);
      return cmd === undefined ? 1 : 0;
    }
    if (!(cmd in HELP) || cmd === "main") throw new UsageError(`unknown command "${cmd}"; try: inspect, convert, nearest, analogy, embed`);
    command = cmd;
    const args = parseArgs(rest);
    if (args.flags.help) {
      console.log(HELP[cmd]);
      return 0;
    }
    if (cmd === "inspect") {
      await inspect(args);
      return 0;
    }
    if (cmd !== "convert" && args.flags.threads !== undefined) throw new UsageError("--threads is an option of convert");
    const rt = await init(undefined, { threads: cmd === "convert" ? threadsFlag(args.flags) : 1 });
    try {
      if (cmd === "convert") await convert(args, rt);
      else if (cmd === "embed") await embed(args, rt);
      else await query(args, rt, cmd as "nearest" | "analogy");
    } finally {
      rt.dispose();
    }
    return 0;
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    const hint = e instanceof UsageError ? ` (see: bitembed ${command === "main" ? "" : command + " "}--help)` : "";
    warn(`bitembed${command === "main" ? "" : " " + command}: ${clip(message.split("\n")[0], 2000)}${hint}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

// Run when executed as the `bitembed` bin (the bundle is build/cli.js), not when imported by tests.
const self = typeof process !== "undefined" ? process.argv[1] ?? "" : "";
if (/(^|[\\/])(cli\.js|bitembed)$/.test(self)) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}

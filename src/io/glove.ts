// Word vectors from text: GloVe/word2vec text (one `word v1 ... vD` per line; word2vec's "N D" first line
// skipped) and JSON (wink-embeddings' { dimensions, words, vectors: { word: [v1..vD, ...] } }, or a plain
// { word: [v1..vD] } map). Rows come out in file order (GloVe and wink files list words by frequency).
// Text is parsed line by line into a growing Float32Array, so a file can be read as a stream of lines
// (readGloveLines: the CLI reads files past V8's 512 MiB string limit that way, and stops at `limit`).
import { errors, quote } from "../core/errors.js";

export interface WordVectors {
  words: string[];
  dim: number;
  /** words.length x dim, row-major. */
  values: Float32Array;
}

export interface ReadWordVectorsOptions {
  /** Keep only the first `limit` words (the most frequent, in GloVe and wink files). */
  limit?: number;
}

// GloVe and word2vec text, one line at a time.
class TextRows {
  readonly words: string[] = [];
  dim = -1;
  private values = new Float32Array(1024);
  private line = 0;

  constructor(private readonly limit: number) {}

  get full(): boolean {
    return this.words.length >= this.limit;
  }

  push(text: string): void {
    this.line++;
    const parts = text.trim().split(/ +/);
    if (parts.length < 2 || parts[0] === "") return;
    if (this.line === 1 && parts.length === 2 && /^\d+$/.test(parts[0]) && /^\d+$/.test(parts[1])) return; // word2vec header
    const n = parts.length - 1;
    if (this.dim < 0) this.dim = n;
    const bad = (detail: string) => errors.badFile("word-vector text", "input", this.line, `line ${this.line} ${detail}`);
    if (n !== this.dim) throw bad(`has ${n} numbers after the word; expected ${this.dim}`);
    const at = this.words.length * this.dim;
    if (at + n > this.values.length) {
      const grown = new Float32Array(Math.max(this.values.length * 2, at + n));
      grown.set(this.values);
      this.values = grown;
    }
    for (let j = 0; j < n; j++) {
      const x = Number(parts[j + 1]);
      if (!Number.isFinite(x)) throw bad(`has ${quote(parts[j + 1])} as value ${j + 1}, not a finite number`);
      this.values[at + j] = x;
    }
    this.words.push(parts[0]);
  }

  finish(): WordVectors {
    const n = this.words.length * this.dim;
    return pack(this.words, this.values.length === n ? this.values : this.values.slice(0, n), this.dim);
  }
}

function limitOf(options: ReadWordVectorsOptions): number {
  const limit = options?.limit ?? Infinity;
  if (!(limit === Infinity || (Number.isInteger(limit) && limit > 0))) throw errors.option("limit", limit, "a positive integer");
  return limit;
}

export function readGloveText(text: string, options: ReadWordVectorsOptions = {}): WordVectors {
  const rows = new TextRows(limitOf(options));
  for (let start = 0; start < text.length && !rows.full; ) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    rows.push(text.slice(start, end));
    start = end + 1;
  }
  return rows.finish();
}

/** Word vectors from lines of GloVe/word2vec text arriving one by one; stops reading at `limit` words. */
export async function readGloveLines(lines: AsyncIterable<string> | Iterable<string>, options: ReadWordVectorsOptions = {}): Promise<WordVectors> {
  const rows = new TextRows(limitOf(options));
  for await (const line of lines) {
    rows.push(line);
    if (rows.full) break;
  }
  return rows.finish();
}

export function readGloveJSON(text: string, options: ReadWordVectorsOptions = {}): WordVectors {
  const limit = limitOf(options);
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text); // a byte-order mark is no JSON
  } catch (e) {
    throw errors.badFile("word-vector JSON", "input", 0, `not JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null) throw errors.badFile("word-vector JSON", "input", 0, "not a JSON object");
  const o = json as { dimensions?: unknown; words?: unknown; vectors?: unknown };
  let words: string[];
  let vectors: Record<string, unknown>;
  let dim: number;
  if (Array.isArray(o.words) && typeof o.vectors === "object" && o.vectors !== null && typeof o.dimensions === "number") {
    // wink-embeddings: each vector is [v1..vD, l2 norm, index]
    words = (o.words as unknown[]).filter((w): w is string => typeof w === "string");
    vectors = o.vectors as Record<string, unknown>;
    dim = o.dimensions;
  } else {
    vectors = json as Record<string, unknown>;
    words = Object.keys(vectors);
    const first = vectors[words[0]];
    dim = Array.isArray(first) ? first.length : 0;
  }
  if (!(Number.isInteger(dim) && dim > 0 && dim < 2 ** 24)) throw errors.badFile("word-vector JSON", "input", 0, `the dimension is ${dim}`);
  const keep: string[] = [];
  const values: number[] = [];
  for (const w of words) {
    if (keep.length >= limit) break;
    const v = Object.prototype.hasOwnProperty.call(vectors, w) ? vectors[w] : undefined;
    if (!Array.isArray(v) || v.length < dim) continue;
    for (let j = 0; j < dim; j++) {
      // null, "x" and {} are no numbers (Float32Array would make them 0 or NaN without a word)
      if (!(typeof v[j] === "number" && Number.isFinite(v[j]))) {
        throw errors.badFile("word-vector JSON", "input", 0, `the vector of ${quote(w)} has ${describeValue(v[j])} at ${j}, not a finite number`);
      }
      values.push(v[j]);
    }
    keep.push(w);
  }
  return pack(keep, Float32Array.from(values), dim);
}

function describeValue(v: unknown): string {
  return v === null ? "null" : typeof v === "string" ? quote(v, 20) : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : String(v);
}

function pack(words: string[], values: Float32Array, dim: number): WordVectors {
  if (words.length === 0 || dim <= 0) throw errors.badFile("word-vector", "input", 0, "no word vectors found");
  return { words, dim, values };
}

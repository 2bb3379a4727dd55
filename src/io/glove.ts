// Word vectors from text: GloVe/word2vec text (one `word v1 ... vD` per line; word2vec's "N D" first line
// skipped) and JSON (wink-embeddings' { dimensions, words, vectors: { word: [v1..vD, ...] } }, or a plain
// { word: [v1..vD] } map). Rows come out in file order (GloVe and wink files list words by frequency).
import { errors } from "../core/errors.js";

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

export function readGloveText(text: string, options: ReadWordVectorsOptions = {}): WordVectors {
  const limit = options.limit ?? Infinity;
  const words: string[] = [];
  const rows: number[][] = [];
  let dim = -1;
  let start = 0;
  let line = 0;
  while (start < text.length && words.length < limit) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const parts = text.slice(start, end).trim().split(/ +/);
    start = end + 1;
    line++;
    if (parts.length < 2 || parts[0] === "") continue;
    if (line === 1 && parts.length === 2 && /^\d+$/.test(parts[0]) && /^\d+$/.test(parts[1])) continue; // word2vec header
    const row = parts.slice(1).map(Number);
    if (dim < 0) dim = row.length;
    if (row.length !== dim || row.some((x) => !Number.isFinite(x))) {
      throw errors.badFile("word-vector text", "input", line, `line ${line} has ${row.length} numbers (or a non-number); expected ${dim}`);
    }
    words.push(parts[0]);
    rows.push(row);
  }
  return pack(words, rows, dim);
}

export function readGloveJSON(text: string, options: ReadWordVectorsOptions = {}): WordVectors {
  const limit = options.limit ?? Infinity;
  let json: unknown;
  try {
    json = JSON.parse(text);
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
    words = (o.words as string[]).filter((w) => typeof w === "string");
    vectors = o.vectors as Record<string, unknown>;
    dim = o.dimensions;
  } else {
    vectors = json as Record<string, unknown>;
    words = Object.keys(vectors);
    const first = vectors[words[0]];
    dim = Array.isArray(first) ? first.length : 0;
  }
  const keep: string[] = [];
  const rows: number[][] = [];
  for (const w of words) {
    if (keep.length >= limit) break;
    const v = vectors[w];
    if (!Array.isArray(v) || v.length < dim) continue;
    keep.push(w);
    rows.push(v.slice(0, dim) as number[]);
  }
  return pack(keep, rows, dim);
}

function pack(words: string[], rows: number[][], dim: number): WordVectors {
  if (words.length === 0 || dim <= 0) throw errors.badFile("word-vector", "input", 0, "no word vectors found");
  const values = new Float32Array(words.length * dim);
  rows.forEach((r, i) => values.set(r, i * dim));
  return { words, dim, values };
}

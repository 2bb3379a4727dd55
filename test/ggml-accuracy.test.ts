// Mode "ggml" on real tables: quantized, then hidden vectors made from noisy table rows (as
// test/fast-accuracy.test.ts makes them); the top-1 row of mode "ggml" (integer dots over activations quantized
// as llama.cpp quantizes them) must be the top-1 of exact mode for >= 99.5% of vectors.
// Tables and queries: test/helpers/real-queries.ts.
import { beforeAll, describe, expect, it } from "vitest";
import { FORMAT_NAMES, FORMATS, type Runtime } from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";
import { loadRealTables, noisyRows, type RealTable } from "./helpers/real-queries.js";

const VECTORS = 400;
const NOISE = 0.5; // noise rms relative to the row's rms

let rt: Runtime;
const tables: RealTable[] = [];
beforeAll(async () => {
  rt = await newRuntime();
  tables.push(...loadRealTables());
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
    const hidden = noisyRows(t, VECTORS, NOISE, 99 + which);
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

// Quantize throughput on a big table: quantize() of a 151936 x 4096 f32 table (Qwen's vocab x a 4096 dim,
// 2.5 GB of f32) into every block format, in wasm, slice by slice (linear memory stays a few hundred KB).
// Seconds per table and GB/s of f32 input; medians of BENCH_RUNS runs (default 3).
// BENCH_VOCAB=16000 node bench/quantize.mjs runs a smaller table for a quick check.
import { fileURLToPath } from "node:url";
import { FORMATS, FORMAT_NAMES, init, quantize } from "../build/node.js";
import { fmt, machineLine, median, table } from "./harness.mjs";

const VOCAB = Number(process.env.BENCH_VOCAB ?? 151936);
const DIM = 4096;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

export async function run() {
  const rt = await init();
  // uniform noise from an LCG: cheap to make at this size, and every block has a nonzero scale
  const values = new Float32Array(VOCAB * DIM);
  let s = 12345;
  for (let i = 0; i < values.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) | 0;
    values[i] = s * 4.6e-10;
  }
  const gb = (values.length * 4) / 1e9;
  const rows = [];
  for (const format of FORMAT_NAMES) {
    if (FORMATS[format].blockElems === 1) continue; // f32/f16/bf16 are conversions, not quantizers
    const ms = median(() => quantize(values, { vocab: VOCAB, dim: DIM, format, runtime: rt }), { runs: RUNS, warmup: 0 });
    rows.push([format, fmt(ms / 1e3), fmt(gb / (ms / 1e3)), String(rt.memory.byteLength >> 10)]);
  }
  return [
    `### Quantize: a ${VOCAB} x ${DIM} f32 table (${fmt(gb)} GB) with \`quantize()\``,
    "",
    `Byte-identical to ggml's reference quantizers; median of ${RUNS} runs. Last column: the wasm linear memory ` +
      "after all runs (the table is converted through cache-sized slices, never copied into wasm whole).",
    "",
    table(["format", "seconds", "GB/s of f32 input", "wasm memory KB"], rows),
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(machineLine());
  console.log(await run());
}

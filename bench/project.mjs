// Projection (tied LM head): logits of 1 and 8 hidden vectors over 32000 x 4096, 128256 x 4096 and
// 151936 x 1024 tables, single thread. bitembed in every benchmarked format against naive JS,
// @tensorflow/tfjs-backend-wasm matMul and onnxruntime-web Gemm (transB) on the f32 table, in the same
// run; the f32 peers are timed in round robin with bitembed f32 so drift and cache state hit them alike.
// GB/s counts the table's bytes in its own format, read once per call. BENCH_RUNS=n shortens the run,
// BENCH_QUICK=1 keeps the first table only.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { FORMAT_NAMES, FORMATS as REGISTRY, hasRelaxedSimd, init } from "../build/node.js";
import { fmt, machineLine, rng, table } from "./harness.mjs";
import { gemmModel } from "./onnx-gemm.mjs";

const SHAPES = [
  [32000, 4096],
  [128256, 4096],
  [151936, 1024],
];
const BATCHES = [1, 8];
const FORMATS = ["f32", "f16", "q8_0", "q6_k", "q4_0", "q1_0"];
const LOW_BIT = ["q4_0", "q1_0"]; // formats with lookup-table kernels: timed in both modes
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const require = createRequire(import.meta.url);

/** Medians of async or sync functions timed in round robin. */
async function roundRobin(fns, runs = RUNS, warmup = 2) {
  for (let i = 0; i < warmup; i++) for (const fn of fns) await fn();
  const times = fns.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < fns.length; k++) {
      const t = performance.now();
      await fns[k]();
      times[k].push(performance.now() - t);
    }
  }
  return times.map((ts) => ts.sort((a, b) => a - b)[ts.length >> 1]);
}

// the obvious JS: one dot product per row and hidden vector
function naiveProject(values, vocab, dim, hidden, n, out) {
  for (let r = 0; r < vocab; r++) {
    const base = r * dim;
    for (let b = 0; b < n; b++) {
      let s = 0;
      const hb = b * dim;
      for (let j = 0; j < dim; j++) s += values[base + j] * hidden[hb + j];
      out[b * vocab + r] = s;
    }
  }
}

async function loadOrt() {
  const ort = await import("onnxruntime-web");
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.wasmPaths = require.resolve("onnxruntime-web").replace(/[^/]*$/, "");
  return ort;
}

async function loadTf() {
  const tf = await import("@tensorflow/tfjs-core");
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  const dist = require.resolve("@tensorflow/tfjs-backend-wasm").replace(/[^/]*$/, "");
  wasm.setThreadsCount(1);
  const files = ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"];
  wasm.setWasmPaths(Object.fromEntries(files.map((f) => [f, dist + f])));
  await tf.setBackend("wasm");
  await tf.ready();
  return tf;
}

export async function run() {
  // the baseline build for every row, and the relaxed-SIMD one (fused multiply-adds) for f32 where this process
  // has it (bench/run.mjs passes Node 20 the flag; Node >= 22, Deno, Bun and Chrome have it on by default)
  const rt = await init(undefined, { relaxedSimd: false });
  const rtRelaxed = hasRelaxedSimd() ? await init() : null;
  if (rtRelaxed && !rtRelaxed.relaxedSimd) throw new Error("expected the relaxed-SIMD build");
  const ort = await loadOrt();
  const tf = await loadTf();
  const formats = FORMATS.filter((f) => FORMAT_NAMES.includes(f));
  const rows = [];
  const notes = [];
  for (const [vocab, dim] of process.env.BENCH_QUICK ? SHAPES.slice(0, 1) : SHAPES) {
    const random = rng(vocab ^ dim);
    const values = new Float32Array(vocab * dim);
    for (let i = 0; i < values.length; i++) values[i] = random() * 2 - 1;
    const f32Bytes = vocab * dim * 4;
    const shape = `${vocab} x ${dim}`;
    const byBatch = new Map();
    for (const n of BATCHES) {
      const hidden = Float32Array.from({ length: n * dim }, () => random() * 2 - 1);
      const out = new Float32Array(n * vocab);
      const results = [];
      // f32: bitembed, ORT and tfjs in round robin
      const t32 = rt.tableFromF32(values, { vocab, dim, format: "f32" });
      const peers = [() => t32.project(hidden, { out })];
      const names = ["**bitembed** f32 exact"];
      const t32r = rtRelaxed?.tableFromF32(values, { vocab, dim, format: "f32" });
      if (t32r) {
        peers.push(() => t32r.project(hidden, { out }));
        names.push("**bitembed** f32 exact, relaxed SIMD (FMA)");
      }
      let session;
      try {
        session = await ort.InferenceSession.create(gemmModel({ n, vocab, dim }), {
          executionProviders: ["wasm"],
          externalData: [{ path: "table.bin", data: new Uint8Array(values.buffer) }],
        });
        const input = { A: new ort.Tensor("float32", hidden, [n, dim]) };
        peers.push(async () => (await session.run(input)).Y);
        names.push("onnxruntime-web Gemm transB (f32)");
      } catch (e) {
        notes.push(`onnxruntime-web could not load ${shape}: ${String(e.message ?? e).slice(0, 120)}`);
      }
      let bTensor;
      let aTensor;
      try {
        bTensor = tf.tensor2d(values, [vocab, dim]);
        aTensor = tf.tensor2d(hidden, [n, dim]);
        peers.push(() => {
          const y = tf.matMul(aTensor, bTensor, false, true);
          y.dataSync();
          y.dispose();
        });
        names.push("tfjs-backend-wasm matMul (f32)");
      } catch (e) {
        notes.push(`tfjs-backend-wasm could not hold ${shape}: ${String(e.message ?? e).slice(0, 120)}`);
      }
      const times = await roundRobin(peers);
      names.forEach((name, i) => results.push({ name, ms: times[i], bytes: f32Bytes }));
      session?.release();
      bTensor?.dispose();
      aTensor?.dispose();
      t32.dispose();
      t32r?.dispose();
      // the naive loop takes seconds: one untimed and one timed run (three for one vector)
      const [naiveMs] = await roundRobin([() => naiveProject(values, vocab, dim, hidden, n, out)], n === 1 ? 3 : 1, 1);
      results.push({ name: "naive JS (f32)", ms: naiveMs, bytes: f32Bytes });
      for (const format of formats.filter((f) => f !== "f32")) {
        const t = rt.tableFromF32(values, { vocab, dim, format });
        // mode "ggml" (integer dots) where the format has it; bench/ggml.mjs puts it beside ggml's own CPU backend
        const modes = ["exact", ...(LOW_BIT.includes(format) ? ["fast"] : []), ...(REGISTRY[format].intDot ? ["ggml"] : [])];
        const ms = await roundRobin(modes.map((mode) => () => t.project(hidden, { out, mode })));
        modes.forEach((mode, i) => results.push({ name: `**bitembed** ${format} ${mode}`, ms: ms[i], bytes: t.byteLength }));
        t.dispose();
      }
      byBatch.set(n, results);
      const ortMs = results.find((r) => r.name.startsWith("onnxruntime"))?.ms;
      for (const r of results) {
        rows.push([
          shape,
          n,
          r.name,
          fmt(r.ms),
          fmt(r.bytes / 1e9 / (r.ms / 1e3)),
          ortMs ? fmt(ortMs / r.ms) : "-",
          n === 1 ? "-" : fmt(r.ms / (byBatch.get(1)?.find((x) => x.name === r.name)?.ms ?? NaN)),
        ]);
      }
    }
  }
  return [
    "### Projection: logits of N hidden vectors over the whole table",
    "",
    `Median of ${RUNS} runs (naive JS: 3 for N=1, 1 for N=8), one thread everywhere. GB/s: the table's bytes in its format per call.`,
    "vs ORT: onnxruntime-web's time divided by this one (higher is faster). N=8 / N=1: cost of a batch of 8 relative to one vector.",
    "bitembed rows are the baseline build (what Node 20 runs by default) except the one marked relaxed SIMD: build/bitembed.relaxed.wasm in the same process, whose exact kernels use fused multiply-adds (the default build on Node >= 22, Deno, Bun and Chrome).",
    "",
    table(["table", "N", "method", "median ms", "GB/s", "vs ORT", "N=8 / N=1"], rows),
    ...(notes.length ? ["", ...notes.map((s) => `- ${s}`)] : []),
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(machineLine());
  console.log(await run());
}

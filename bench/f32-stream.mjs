// f32 exact projection on one thread against the memory floor and onnxruntime-web (issue 15's f32 target):
// bitembed's f32 head (baseline build and relaxed build) beside onnxruntime-web's Gemm (transB, numThreads 1,
// in this process) and the wasm stream floor (bench/floor.mjs: the table's bytes read once by the cheapest
// wasm loop), timed in interleaved rounds. Wall time and CPU time (process.cpuUsage: on a shared machine wall
// time also counts the waits for a core; ORT with numThreads 1 computes on this thread, so its CPU time
// counts too), medians; "x floor" is each call's CPU time over the floor's in the same round (median).
// Usage: npm run build && node bench/f32-stream.mjs (Node 20: --experimental-wasm-relaxed-simd for the relaxed
// build). SHAPES=32000x4096,128256x4096,151936x1024 (the default), NS=1,2,3,8 (vectors), ROUNDS (9), ORT=0.
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { hasRelaxedSimd, init } from "../build/node.js";
import { buildFloors } from "./floor.mjs";
import { machineLine, rng } from "./harness.mjs";
import { gemmModel } from "./onnx-gemm.mjs";

const SHAPES = (process.env.SHAPES ?? "32000x4096,128256x4096,151936x1024").split(",").map((s) => s.split("x").map(Number));
const NS = (process.env.NS ?? "1,2,3,8").split(",").map(Number);
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const WITH_ORT = process.env.ORT !== "0";
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function loadOrt() {
  const require = createRequire(import.meta.url);
  const ort = await import("onnxruntime-web");
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.wasmPaths = require.resolve("onnxruntime-web").replace(/[^/]*$/, "");
  return ort;
}

const notes = new Set();
const rt = await init(undefined, { relaxedSimd: false });
const rtRelaxed = hasRelaxedSimd() ? await init() : null;
if (!rtRelaxed) notes.add("relaxed build not run (Node 20: pass --experimental-wasm-relaxed-simd)");
const ort = WITH_ORT ? await loadOrt() : null;
const floors = await buildFloors(notes);
const load0 = loadavg()[0];
const lines = [];
for (const [vocab, dim] of SHAPES) {
  const random = rng(vocab ^ dim ^ 0xf32);
  const values = new Float32Array(vocab * dim);
  for (let i = 0; i < values.length; i++) values[i] = random() * 2 - 1;
  const floor = floors.load(new Uint8Array(values.buffer));
  const t = rt.tableFromF32(values, { vocab, dim, format: "f32" });
  const tr = rtRelaxed?.table({ vocab, dim, format: "f32", data: t.bytes() });
  for (const n of NS) {
    const hidden = new Float32Array(n * dim);
    for (let i = 0; i < hidden.length; i++) hidden[i] = random() * 2 - 1;
    const out = new Float32Array(n * vocab);
    const jobs = [["wasm stream floor", floor.wasm], ["bitembed f32 exact", () => t.project(hidden, { out })]];
    if (tr) jobs.push(["bitembed f32 exact, relaxed (FMA)", () => tr.project(hidden, { out })]);
    let session;
    if (ort) {
      session = await ort.InferenceSession.create(gemmModel({ n, vocab, dim }), {
        executionProviders: ["wasm"],
        externalData: [{ path: "table.bin", data: new Uint8Array(values.buffer) }],
      });
      const input = { A: new ort.Tensor("float32", hidden, [n, dim]) };
      jobs.push(["onnxruntime-web Gemm transB, numThreads 1", () => session.run(input)]);
    }
    const wall = jobs.map(() => []);
    const cpu = jobs.map(() => []);
    for (const [, f] of jobs) await f();
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, [, f]] of jobs.entries()) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await f();
        wall[k].push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu[k].push((c.user + c.system) / 1000);
      }
    }
    await session?.release();
    lines.push(`\n${vocab} x ${dim} f32 (${((vocab * dim * 4) / 2 ** 20).toFixed(0)} MiB), ${n} vector${n > 1 ? "s" : ""}, medians of ${ROUNDS}:\n`);
    lines.push("| call | wall ms | CPU ms | GB/s (CPU) | x floor (CPU) |");
    lines.push("|---|---|---|---|---|");
    for (const [k, [name]] of jobs.entries()) {
      const c = median(cpu[k]);
      const ratio = median(cpu[k].map((x, i) => x / cpu[0][i]));
      lines.push(`| ${name} | ${median(wall[k]).toFixed(1)} | ${c.toFixed(1)} | ${((vocab * dim * 4) / c / 1e6).toFixed(1)} | ${ratio.toFixed(2)} |`);
    }
  }
  t.dispose();
  tr?.dispose();
}
floors.dispose?.();
console.log(machineLine());
console.log(`### f32 exact projection, one thread, beside the wasm stream floor and onnxruntime-web`);
console.log(
  `\n\`node bench/f32-stream.mjs\`: bitembed's f32 head (baseline build; relaxed build with fused multiply-adds), onnxruntime-web's Gemm ` +
    `(transB, numThreads 1, computing on this thread) and the wasm stream floor (bench/floor/stream.ts: the table's bytes read once, nothing else), ` +
    `timed in interleaved rounds. CPU time (process.cpuUsage) counts only the time this thread ran, so it reads through a shared machine's ` +
    `waits for a core; "x floor": a call's CPU time over the floor's in the same round (median); 1.00 reads as the memory streaming rate.`,
);
console.log(lines.join("\n"));
console.log(`\nLoad average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end.${[...notes].map((s) => ` Note: ${s}.`).join("")}`);

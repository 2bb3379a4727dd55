// Mode "ggml" (integer dots over activations quantized as llama.cpp quantizes them) beside ggml's own CPU backend
// and bitembed's exact mode: LM heads of 32000 x 4096 and 128256 x 4096 in the formats real models ship, 1 and
// 8 hidden vectors, single thread. bitembed runs both wasm builds in this process (relaxed SIMD: Node >= 22,
// Deno, Bun, Chrome; bench/run.mjs passes Node 20 the flag). ggml is timed by its native `ggml-head` benchmark
// (ggml_mul_mat on the CPU backend, one thread, the weight in the plain CPU buffer; its time includes
// quantizing the activations, as ours does) when GGML_HEAD names the binary (see ../shared/tools/ggml/README.md;
// it is not part of this repository). The machine is shared: bitembed's runs and ggml-head's are interleaved
// in ROUNDS rounds and every figure is the median over all rounds. BENCH_RUNS=n timed runs per round,
// BENCH_QUICK=1 keeps the first shape and one round (BENCH_ROUNDS still applies); BENCH_FORMATS=a,b picks formats,
// BENCH_SHAPES=32000x4096,... shapes. In the same rounds, the memory floor (bench/floor.mjs):
// the table's bytes streamed once by the cheapest wasm kernel and by a native loop; the last column is each
// time over the wasm floor (1.00: as fast as reading the table).
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { hasRelaxedSimd, init } from "../build/node.js";
import { buildFloors } from "./floor.mjs";
import { fmt, machineLine, rng, table } from "./harness.mjs";

const SHAPES = process.env.BENCH_SHAPES
  ? process.env.BENCH_SHAPES.split(",").map((s) => s.split("x").map(Number))
  : process.env.BENCH_QUICK ? [[32000, 4096]] : [[32000, 4096], [128256, 4096]];
const BATCHES = [1, 8];
const FORMATS = (process.env.BENCH_FORMATS ?? "q8_0,q6_k,q4_k,q5_k,q4_0,q3_k,q2_k,iq4_xs,q5_0,iq4_nl,q4_1,q5_1").split(",");
// ggml-head's type names (ggml's, as bitembed's)
const GGML_TYPE = { q8_0: "q8_0", q6_k: "q6_k", q4_k: "q4_k", q5_k: "q5_k", q4_0: "q4_0", q3_k: "q3_k", q2_k: "q2_k", iq4_xs: "iq4_xs", q5_0: "q5_0", iq4_nl: "iq4_nl", q4_1: "q4_1", q5_1: "q5_1" };
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (process.env.BENCH_QUICK ? 1 : 3));
const GGML_HEAD = process.env.GGML_HEAD;

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Wall ms of `runs` calls; their CPU ms (user + system) pushed onto `cpu`. */
function timeRuns(fn, runs, cpu) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  return out;
}

/** One ggml-head invocation: its per-repetition median (ms), or undefined when it cannot run. */
function ggmlHead(vocab, dim, n, type, reps, notes) {
  try {
    const line = execFileSync(GGML_HEAD, [String(vocab), String(dim), String(n), type, "1", String(reps), "2"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const json = JSON.parse(line.trim().split("\n").pop());
    return { ms: json.median_ms, cpu: json.cpu };
  } catch (e) {
    notes.add(`ggml-head ${type} ${vocab} x ${dim} B=${n} failed: ${String(e.message ?? e).slice(0, 160)}`);
    return undefined;
  }
}

export async function run() {
  const rt = await init(undefined, { relaxedSimd: false });
  const rtRelaxed = hasRelaxedSimd() ? await init() : null;
  const notes = new Set();
  const floors = await buildFloors(notes);
  const rows = [];
  const loads = [loadavg()[0]];
  let cpuLine = "";
  for (const [vocab, dim] of SHAPES) {
    const random = rng(vocab ^ dim ^ 0x5eed);
    // standard-normal-ish weights (Irwin-Hall of 4), like ggml-head's normals
    const values = new Float32Array(vocab * dim);
    for (let i = 0; i < values.length; i++) values[i] = (random() + random() + random() + random() - 2) * Math.sqrt(3);
    for (const format of FORMATS) {
      const t = rt.tableFromF32(values, { vocab, dim, format });
      const tr = rtRelaxed ? rtRelaxed.table({ vocab, dim, format, data: t.bytes() }) : null;
      const floor = floors.load(t.bytes());
      const idot = floors.idot(vocab, dim);
      // the relaxed build's kernel on rows held in cache: the first R and 2R rows as tables of their own (2R rows
      // of q8_0 at dim 4096: 8.7 MB, within this machine's 32 MB L3), one vector; (t(2R) - t(R)) / R is one row's
      // time with the call's fixed costs taken out, times V a whole head's time without DRAM
      const cacheRows = Math.max(1, Math.floor((4 << 20) / t.rowBytes));
      const cached = tr && vocab >= 2 * cacheRows
        ? [1, 2].map((k) => rtRelaxed.table({ vocab: k * cacheRows, dim, format, data: t.bytes().subarray(0, k * cacheRows * t.rowBytes) }))
        : [];
      for (const n of BATCHES) {
        const hidden = Float32Array.from({ length: n * dim }, () => (random() + random() + random() + random() - 2) * Math.sqrt(3));
        const out = new Float32Array(n * vocab);
        const fns = [
          ["ggml", () => t.project(hidden, { mode: "ggml", out })],
          ["exact", () => t.project(hidden, { mode: "exact", out })],
          ...(tr ? [["ggml relaxed", () => tr.project(hidden, { mode: "ggml", out })], ["exact relaxed", () => tr.project(hidden, { mode: "exact", out })]] : []),
        ];
        const times = new Map(fns.map(([name]) => [name, []]));
        const cpus = new Map(fns.map(([name]) => [name, []]));
        const native = [];
        const wasmFloor = [];
        const nativeFloor = [];
        const idotFloor = { baseline: [], relaxed: [] };
        const cachedMs = [[], []];
        const cachedFns = n === 1 ? cached.map((c) => { const o = new Float32Array(c.vocab); return () => c.project(hidden, { mode: "ggml", out: o }); }) : [];
        // warm-up: three calls each and 300 ms at least, so V8's optimised code (compiled in the background after
        // the first calls; a call under way keeps its baseline code) is in place before timing, even when the
        // machine is busy; the compute floor's module too (on the first format its first calls were 1.4-1.9x slow)
        const warmed = [...fns.map(([, fn]) => fn), ...(n === 1 ? Object.values(idot) : []), ...cachedFns];
        for (const fn of warmed) {
          const until = performance.now() + 300;
          for (let w = 0; w < 3 || performance.now() < until; w++) fn();
        }
        for (let round = 0; round < ROUNDS; round++) {
          for (const [name, fn] of fns) times.get(name).push(...timeRuns(fn, RUNS, cpus.get(name)));
          if (floor.wasm) for (let i = 0; i < RUNS; i++) wasmFloor.push(floor.wasm());
          // the integer-dot floor does one vector's work: timed for N = 1 only
          if (n === 1) for (const [name, f] of Object.entries(idot)) for (let i = 0; i < RUNS; i++) idotFloor[name].push(f());
          // CPU time, 4 * RUNS calls each (a call on cached rows is short, and the difference of two is noisier)
          cachedFns.forEach((fn, k) => timeRuns(fn, 4 * RUNS, cachedMs[k]));
          const nf = floor.native?.(RUNS);
          if (nf !== undefined) nativeFloor.push(nf);
          if (GGML_HEAD) {
            const g = ggmlHead(vocab, dim, n, GGML_TYPE[format], RUNS, notes);
            if (g) {
              native.push(g.ms);
              cpuLine ||= Object.entries(g.cpu).filter(([, v]) => v).map(([k]) => k).join(" ");
            }
          }
          loads.push(loadavg()[0]);
        }
        const ggmlMs = native.length ? median(native) : undefined;
        const floorMs = wasmFloor.length ? median(wasmFloor) : undefined;
        const shape = `${vocab} x ${dim}`;
        const add = (method, ms, cpuMs) =>
          rows.push([shape, format, n, method, fmt(ms), cpuMs ? fmt(cpuMs) : "-", ggmlMs ? `${(ggmlMs / ms).toFixed(2)}` : "-", floorMs ? `${(ms / floorMs).toFixed(2)}` : "-"]);
        if (floorMs) add("memory floor: wasm stream (`bench/floor/stream.ts`)", floorMs);
        if (nativeFloor.length) add("memory floor: native stream (`bench/floor/stream.c`, gcc -O3 -march=native)", median(nativeFloor));
        if (idotFloor.baseline.length) add("compute floor: wasm int8 dot, weights in L1 (`bench/floor/idot.ts`)", median(idotFloor.baseline));
        if (idotFloor.relaxed.length) add("compute floor: wasm int8 dot, weights in L1, relaxed SIMD", median(idotFloor.relaxed));
        if (cachedMs[0].length) add(`bitembed ggml, relaxed SIMD, rows from cache (CPU ms of ${2 * cacheRows} rows - ${cacheRows}, per row, x V)`, ((median(cachedMs[1]) - median(cachedMs[0])) / cacheRows) * vocab);
        if (ggmlMs) add(`ggml CPU backend (\`ggml-head\`, 1 thread)`, ggmlMs);
        add("**bitembed** ggml", median(times.get("ggml")), median(cpus.get("ggml")));
        if (tr) add("**bitembed** ggml, relaxed SIMD", median(times.get("ggml relaxed")), median(cpus.get("ggml relaxed")));
        add("bitembed exact", median(times.get("exact")), median(cpus.get("exact")));
        if (tr) add("bitembed exact, relaxed SIMD", median(times.get("exact relaxed")), median(cpus.get("exact relaxed")));
        console.error(`bench ggml: ${shape} ${format} n=${n} done`);
      }
      t.dispose();
      tr?.dispose();
      for (const c of cached) c.dispose();
    }
  }
  floors.dispose();
  return `### Mode "ggml" beside ggml's CPU backend: integer dots, one thread

Logits of N hidden vectors over a V x D table (standard-normal weights quantized by bitembed, byte-identical to
ggml's quantizers), median ms over ${ROUNDS} interleaved rounds of ${RUNS} runs; last column: ggml's time divided by
this one (above 1: faster than ggml); "CPU ms": bitembed's median CPU time (user + system) per call, which leaves
out the time other processes held the core on this shared machine; "/ floor": this time over the wasm memory floor, the table's bytes read once
by the cheapest wasm loop in the same rounds (1.00 would be memory-bound; the native floor is the same bytes read by
a gcc -O3 -march=native loop, both compiled at bench time, not part of the package). "compute floor" (N = 1): the cheapest wasm kernel
that still does one 8-bit multiply-add per weight (\`bench/floor/idot.ts\`: one load and one 8-bit dot per 16 weights, no scales, no
unpacking, and no memory traffic: every row is the same bytes, in L1), on this engine. No kernel of mode "ggml" can beat the larger of
the two floors, so where ggml's time is below both ("ggml / this" under 1 on both rows) WebAssembly's 128-bit SIMD cannot reach ggml on this core.
"rows from cache" (N = 1): the relaxed build's own kernel on the first 4 MiB and 8 MiB of the table's rows, tables of their own held in
this machine's L2 and L3, timed alike: the difference over the rows it adds is one row's cost without DRAM, scaled to the whole table.
Where that is close to the kernel's time from DRAM, the kernel is bound by its instructions, not by memory. ggml: its native \`ggml-head\` (\`ggml_mul_mat\` on the CPU backend, one
thread, plain CPU buffer, activations quantized inside the timed graph as here), built with \`GGML_NATIVE\`${cpuLine ? ` (CPU features: ${cpuLine})` : ""}; run by \`GGML_HEAD=/path/to/ggml-head npm run bench ggml\`.
bitembed: the baseline build (Node 20's default) and the relaxed-SIMD one (the default on Node >= 22, Deno, Bun, Chrome).
Machine load (1-minute load average on 2 cores) during the run: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}.

${table(["table", "format", "N", "method", "median ms", "CPU ms", "ggml / this", "this / floor"], rows)}
${[...notes].map((n) => `\nNote: ${n}`).join("")}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(machineLine());
  console.log(await run());
}

// Which projection mode a format with integer dots defaults to (registry `defaultMode`): mode "ggml" against
// exact mode on a 32000 x 4096 head, 1 and 8 hidden vectors, both wasm builds, one thread. The machine is
// shared, so the methods run interleaved (one run of each in turn, the order reversed every round) and both
// wall time and this process's CPU time (process.cpuUsage, user + system) are kept per run; the figures are
// medians over all runs. BENCH_FORMATS (default: the formats whose integer dots came last), BENCH_ROUNDS.
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { hasRelaxedSimd, init } from "../build/node.js";
import { fmt, machineLine, rng, table } from "./harness.mjs";

const [VOCAB, DIM] = [32000, 4096];
const BATCHES = [1, 8];
const FORMATS = (process.env.BENCH_FORMATS ?? "q5_0,iq4_nl,q4_1,q5_1").split(",");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** One run: [wall ms, CPU ms]. */
function timed(fn) {
  const c = process.cpuUsage();
  const t = performance.now();
  fn();
  const wall = performance.now() - t;
  const cpu = process.cpuUsage(c);
  return [wall, (cpu.user + cpu.system) / 1000];
}

export async function run() {
  const builds = [["baseline", await init(undefined, { relaxedSimd: false })], ...(hasRelaxedSimd() ? [["relaxed", await init()]] : [])];
  const loads = [loadavg()[0]];
  const rows = [];
  const random = rng(VOCAB ^ DIM ^ 0x5eed);
  const values = new Float32Array(VOCAB * DIM);
  for (let i = 0; i < values.length; i++) values[i] = (random() + random() + random() + random() - 2) * Math.sqrt(3);
  for (const format of FORMATS) {
    const first = builds[0][1].tableFromF32(values, { vocab: VOCAB, dim: DIM, format });
    const tables = builds.map(([name, rt], i) => [name, i === 0 ? first : rt.table({ vocab: VOCAB, dim: DIM, format, data: first.bytes() })]);
    for (const n of BATCHES) {
      const hidden = Float32Array.from({ length: n * DIM }, () => (random() + random() + random() + random() - 2) * Math.sqrt(3));
      const out = new Float32Array(n * VOCAB);
      const fns = tables.flatMap(([build, t]) => ["ggml", "exact"].map((mode) => [`${build} ${mode}`, () => t.project(hidden, { mode, out })]));
      const wall = fns.map(() => []);
      const cpu = fns.map(() => []);
      for (const [, fn] of fns) fn(); // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        const order = fns.map((_, i) => i);
        if (round & 1) order.reverse();
        for (const i of order) {
          const [w, c] = timed(fns[i][1]);
          wall[i].push(w);
          cpu[i].push(c);
        }
        loads.push(loadavg()[0]);
      }
      for (let b = 0; b < tables.length; b++) {
        const [g, e] = [2 * b, 2 * b + 1];
        const [gc, ec] = [median(cpu[g]), median(cpu[e])];
        rows.push([format, n, tables[b][0], fmt(median(wall[g])), fmt(gc), fmt(median(wall[e])), fmt(ec), (ec / gc).toFixed(2)]);
      }
      console.error(`bench defaults: ${format} n=${n} done`);
    }
    for (const [, t] of tables) t.dispose();
  }
  return `### Mode "ggml" against exact mode: the measurement behind each format's default mode

A ${VOCAB} x ${DIM} head (standard-normal weights quantized by bitembed), N hidden vectors, one thread; the four
methods of a row pair run interleaved, one run each in turn (order reversed every other round), ${ROUNDS} rounds;
medians of wall time and of this process's CPU time (user + system). Last column: exact CPU time / ggml CPU time
(above 1: mode "ggml" is faster). Machine load (1-minute load average on 2 cores) during the run:
${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}. Run by \`node bench/run.mjs defaults\` (BENCH_FORMATS=a,b to choose).

${table(["format", "N", "build", "ggml wall ms", "ggml CPU ms", "exact wall ms", "exact CPU ms", "exact / ggml (CPU)"], rows)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(machineLine());
  console.log(await run());
}

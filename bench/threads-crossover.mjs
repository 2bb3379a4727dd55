// Where 2 threads start to win (issue 15): per call kind, the synchronous call (the calling thread) against the
// *Async call forced onto the workers (setMinParallelWork(0)), on one 2-thread runtime and the same table,
// over growing sizes. Interleaved: every round times every size both ways (order alternating), medians of
// ROUNDS rounds; each sample repeats the call until it has done at least 4 MiB of work. CPU time
// (process.cpuUsage: every thread of the process) is printed beside wall time. Per kind it prints the wall-time
// crossover and a model's: 2 workers take w / (2 r) + f where one thread takes w / r (f, a threaded call's fixed
// cost, from the smallest sizes; r, one thread's rate, from CPU time at the largest), so they win past 2 f r; on
// a machine whose cores are taken by other work the wall-time crossover measures the scheduler, the model less so.
// Sets nothing by itself: src/parallel/crossover.ts holds the thresholds taken from its output.
// Usage: npm run build && node bench/threads-crossover.mjs   (ROUNDS, KINDS=exact,fast,topk,tile,quantize, MAX_MIB)
import { execSync } from "node:child_process";
import { loadavg } from "node:os";
import { machineLine, rng } from "./harness.mjs";
import { internals } from "./internals.mjs";

const { init, setMinParallelWork, fastHeadAsync } = internals;
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const KINDS = (process.env.KINDS ?? "exact,fast,topk,tile,quantize").split(",");
const MAX_MIB = Number(process.env.MAX_MIB ?? 32);
const DIM = 2048;
const SIZES = [];
for (let b = 1 << 16; b <= MAX_MIB * 2 ** 20; b *= 2) SIZES.push(b);

const rt = await init(undefined, { threads: 2 });
if (rt.threads !== 2) throw new Error(`2 threads asked, ${rt.threads} running`);
const random = rng(11);
const fill = (a) => {
  for (let i = 0; i < a.length; i++) a[i] = random() * 2 - 1;
  return a;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const mib = (b) => (b >= 2 ** 20 ? `${+(b / 2 ** 20).toFixed(2)} MiB` : `${+(b / 1024).toFixed(0)} KiB`);

// One kind: for each size, a setup giving { bytes, sync(), async(), dispose() }
async function measure(kind, setup) {
  const cases = SIZES.map((bytes) => ({ bytes, ...setup(bytes), t: [[], []], c: [[], []] }));
  setMinParallelWork(0);
  for (const cs of cases) {
    cs.sync();
    await cs.async(); // warm-up
    cs.inner = Math.max(1, Math.round((4 << 20) / cs.bytes));
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const cs of cases) {
      for (const which of r % 2 ? [1, 0] : [0, 1]) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < cs.inner; i++) {
          if (which === 0) cs.sync();
          else await cs.async();
        }
        const c = process.cpuUsage(c0);
        cs.t[which].push((performance.now() - t0) / cs.inner);
        cs.c[which].push((c.user + c.system) / 1000 / cs.inner);
      }
    }
  }
  setMinParallelWork();
  const rows = cases.map((cs) => {
    const [a, b] = cs.t.map(median);
    const [ca, cb] = cs.c.map(median);
    cs.dispose();
    return { bytes: cs.bytes, a, b, ca, cb };
  });
  // the crossover: the smallest size from which the workers win at every size measured
  let from;
  for (let i = rows.length - 1; i >= 0 && rows[i].b < rows[i].a; i--) from = rows[i].bytes;
  console.log(`\n**${kind}** (work counted as in src/parallel/crossover.ts)\n`);
  console.log("| work | 1 thread (ms) | 2 threads (ms) | speed-up | CPU ms, 1 / 2 threads |\n|---|---|---|---|---|");
  for (const x of rows) {
    console.log(`| ${mib(x.bytes)} | ${x.a.toFixed(3)} | ${x.b.toFixed(3)} | ${(x.a / x.b).toFixed(2)}x | ${x.ca.toFixed(2)} / ${x.cb.toFixed(2)} |`);
  }
  // the model: 2 workers take w / (2 r) + f where one thread takes w / r; f, the fixed cost of a threaded call
  // (messages, wake-ups), from the three smallest sizes (their work is next to nothing); r, one thread's rate,
  // from its CPU time at the largest size (CPU time is not inflated when the scheduler takes the core away)
  const f = median(rows.slice(0, 3).map((x) => x.b - x.a));
  const big = rows.at(-1);
  const r = big.bytes / big.ca; // bytes per ms
  const predicted = 2 * f * r;
  const threshold = 2 ** Math.ceil(Math.log2(Math.max(predicted, 1 << 16)));
  console.log(
    `\n${kind}: 2 threads win (wall time, at every larger size measured) from ${from === undefined ? "no size measured" : mib(from)} on. ` +
      `Model: fixed cost f = ${f.toFixed(3)} ms, one thread's rate r = ${(r / 1e6).toFixed(2)} GB/s (CPU time at ${mib(big.bytes)}), ` +
      `2 threads win past 2 f r = ${mib(predicted)}: threshold (the next power of two) ${mib(threshold)}.`,
  );
  return { measured: from === undefined ? null : mib(from), model: mib(threshold) };
}

const rowsOf = (bytes, rowBytes) => Math.max(16, Math.round(bytes / rowBytes));

function tableCase(format, bytes, fn) {
  const probe = rt.tableFromF32(new Float32Array(DIM), { vocab: 1, dim: DIM, format });
  const vocab = rowsOf(bytes, probe.rowBytes);
  probe.dispose();
  const t = rt.table({ vocab, dim: DIM, format, data: rt.quantize(fill(new Float32Array(vocab * DIM)), { vocab, dim: DIM, format }) });
  const h = fill(new Float32Array(DIM));
  return { ...fn(t, h), dispose: () => t.dispose() };
}

const load0 = loadavg()[0];
console.log(machineLine());
console.log("### Threads: where 2 threads start to win (issue 15)\n");
console.log(
  "`node bench/threads-crossover.mjs`: the synchronous call against the *Async call forced onto the threads (the caller and one " +
    "worker), on one `threads: 2` runtime. src/parallel/crossover.ts takes, per kind, the largest measured crossover of three runs.\n",
);
console.log(`Sizes ${mib(SIZES[0])} to ${mib(SIZES.at(-1))}, dim ${DIM}, medians of ${ROUNDS} interleaved rounds.`);
const found = {};
for (const kind of KINDS) {
  if (kind === "exact") {
    found.exact = await measure("exact: q4_0 project, 1 vector", (b) =>
      tableCase("q4_0", b, (t, h) => ({ sync: () => t.project(h, { mode: "exact" }), async: () => t.projectAsync(h, { mode: "exact" }) })));
  } else if (kind === "topk") {
    found.topk = await measure("topk: q4_0 exact, k = 40, 1 vector", (b) =>
      tableCase("q4_0", b, (t, h) => ({ sync: () => t.topk(h, 40, { mode: "exact" }), async: () => t.topkAsync(h, 40, { mode: "exact" }) })));
  } else if (kind === "fast") {
    found.fast = await measure("fast: q1_0 project, 1 vector (tiled copy built beforehand)", (b) =>
      tableCase("q1_0", b, (t, h) => {
        t.fastHead();
        return { sync: () => t.project(h, { mode: "fast" }), async: () => t.projectAsync(h, { mode: "fast" }) };
      }));
  } else if (kind === "tile") {
    found.tile = await measure("tile: building q1_0's fast tiled copy (packed bytes)", (b) =>
      tableCase("q1_0", b, (t) => ({
        sync: () => (t.releaseFast(), t.fastHead()),
        async: () => (t.releaseFast(), fastHeadAsync(t, rt.pool)),
      })));
  } else if (kind === "quantize") {
    found.quantize = await measure("quantize: f32 to q8_0 (f32 bytes)", (b) => {
      const vocab = rowsOf(b, DIM * 4);
      const v = fill(new Float32Array(vocab * DIM));
      const o = { vocab, dim: DIM, format: "q8_0" };
      return { sync: () => rt.quantize(v, o), async: () => rt.quantizeAsync(v, o), dispose: () => {} };
    });
  }
}
rt.dispose();
const load1 = loadavg()[0];
let who = "";
try {
  who = execSync("ps -eo pcpu --no-headers | awk '{s+=$1} END {print s}'", { encoding: "utf8" }).trim();
} catch {}
console.log(`\nConditions: load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end (${who || "?"}% CPU in all processes at the end).`);
console.log(`Crossovers (measured, and the model's threshold): ${JSON.stringify(found)}`);

// 1 vs 2 threads (issue 15): table.project (sync, one thread) against table.projectAsync on a runtime with
// 2 workers, and rt.quantize against rt.quantizeAsync. Interleaved (1 thread, then 2, per repetition), medians.
// Usage: npm run build && node bench/threads.mjs   (VOCAB, DIM, QROWS, REPS, QREPS to shrink; CASES=f32,q1_0,q4_0,quant)
import { init } from "../build/node.js";

const VOCAB = Number(process.env.VOCAB ?? 128256);
const DIM = Number(process.env.DIM ?? 4096);
const QROWS = Number(process.env.QROWS ?? 151936);
const REPS = Number(process.env.REPS ?? 5);
const CASES = (process.env.CASES ?? "f32,q1_0,q4_0,quant").split(",");

const one = await init(undefined, { threads: 1 });
const two = await init(undefined, { threads: 2 });
if (two.threads !== 2) throw new Error(`2 threads asked, ${two.threads} running`);

let seed = 7;
const fill = (a) => {
  for (let i = 0; i < a.length; i++) a[i] = ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  return a;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ms = (x) => x.toFixed(x < 10 ? 2 : 1);

async function pair(label, sync, async_, reps = REPS, warm = true) {
  const t1 = [];
  const t2 = [];
  if (warm) {
    sync();
    await async_(); // warm-up (and the fast head's tiled copy)
  }
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    sync();
    t1.push(performance.now() - t);
    t = performance.now();
    await async_();
    t2.push(performance.now() - t);
  }
  const a = median(t1);
  const b = median(t2);
  console.log(`| ${label} | ${ms(a)} | ${ms(b)} | ${(a / b).toFixed(2)}x |`);
}

console.log(`bitembed 1 vs 2 threads, Node ${process.versions.node}, ${VOCAB} x ${DIM}, medians of ${REPS}`);
console.log("| case | 1 thread (ms) | 2 threads (ms) | speed-up |\n|---|---|---|---|");
for (const format of ["f32", "q1_0", "q4_0"]) {
  if (!CASES.includes(format)) continue;
  const mode = format === "q1_0" ? "fast" : "exact";
  let values = fill(new Float32Array(VOCAB * DIM));
  const t2 = await two.tableFromF32Async(values, { vocab: VOCAB, dim: DIM, format });
  const t1 = one.table({ vocab: VOCAB, dim: DIM, format, data: t2.bytes() });
  values = null;
  for (const n of [1, 8]) {
    const h = fill(new Float32Array(n * DIM));
    await pair(`${format} ${mode}, ${n} vector${n > 1 ? "s" : ""}`, () => t1.project(h, { mode }), () => t2.projectAsync(h, { mode }));
  }
  t1.dispose();
  t2.dispose();
}
if (CASES.includes("quant")) {
  const values = fill(new Float32Array(QROWS * DIM));
  for (const format of ["q8_0", "q6_k"]) {
    const o = { vocab: QROWS, dim: DIM, format };
    await pair(`quantize ${QROWS} x ${DIM} to ${format}`, () => one.quantize(values, o), () => two.quantizeAsync(values, o), Number(process.env.QREPS ?? 1), false);
  }
}
one.dispose();
two.dispose();

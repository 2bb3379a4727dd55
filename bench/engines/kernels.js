// The head kernels timed in every runtime (bench/engines.mjs drives it in Node, Deno, Bun and Chromium): one
// hidden vector over a V x D table, each kernel timed in round robin with the others so load drifts hit all
// alike; medians of wall time, and of CPU time (user + system) where the runtime has process.cpuUsage (Node,
// Deno, Bun; not browsers): on a shared, loaded machine CPU time leaves out the time other processes hold the core.
export const KERNELS = [
  ["f32", "exact"],
  ["q8_0", "exact"],
  ["q8_0", "ggml"],
  ["q6_k", "exact"],
  ["q6_k", "ggml"],
  ["q4_k", "ggml"],
  ["q4_0", "exact"],
  ["q4_0", "ggml"],
  ["q1_0", "fast"],
];

// Every other format's exact projection (the registry's formats, `FORMAT_NAMES` of the entry, whose exact mode
// KERNELS does not time), timed the same way in groups of GROUP (the tables of one group live at once: all of
// them would not fit one browser tab's wasm memory), for the per-format table.
export const exactKernels = (formatNames) => formatNames.filter((f) => !KERNELS.some(([g, m]) => g === f && m === "exact")).map((f) => [f, "exact"]);
const GROUP = 6;

/** { relaxedSimd, rows: [{ format, mode, ms }] } for the runtime `init` comes from. */
export async function headKernels(init, { vocab = 32000, dim = 4096, runs = 15, warmup = 2, kernels = KERNELS } = {}) {
  const rt = await init();
  let s = 0x2545f491;
  const random = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const values = new Float32Array(vocab * dim);
  for (let i = 0; i < values.length; i++) values[i] = random() * 2 - 1;
  const hidden = new Float32Array(dim);
  for (let i = 0; i < dim; i++) hidden[i] = random() * 2 - 1;
  const out = new Float32Array(vocab);
  const cpuUsage = globalThis.process?.cpuUsage?.bind(globalThis.process);
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const rows = [];
  // the head kernels in one round robin, then the rest in groups
  const head = kernels.filter((k) => KERNELS.includes(k));
  const rest = kernels.filter((k) => !KERNELS.includes(k));
  const groups = [head];
  for (let i = 0; i < rest.length; i += GROUP) groups.push(rest.slice(i, i + GROUP));
  for (const group of groups) {
    if (group.length === 0) continue;
    const tables = new Map();
    for (const [format] of group) if (!tables.has(format)) tables.set(format, rt.tableFromF32(values, { vocab, dim, format }));
    const fns = group.map(([format, mode]) => () => tables.get(format).project(hidden, { mode, out }));
    for (let i = 0; i < warmup; i++) for (const fn of fns) fn();
    const times = fns.map(() => []);
    const cpu = fns.map(() => []);
    for (let i = 0; i < runs; i++) {
      fns.forEach((fn, k) => {
        const c = cpuUsage?.();
        const t = performance.now();
        fn();
        times[k].push(performance.now() - t);
        if (c) {
          const d = cpuUsage(c);
          cpu[k].push((d.user + d.system) / 1000);
        }
      });
    }
    for (const t of tables.values()) t.dispose();
    group.forEach(([format, mode], k) => rows.push({ format, mode, ms: median(times[k]), cpuMs: cpu[k].length ? median(cpu[k]) : undefined }));
  }
  return { relaxedSimd: rt.relaxedSimd, rows };
}

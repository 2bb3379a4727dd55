// Shared benchmark helpers: medians of repeated timings (the machine is shared and noisy), the machine
// line, and markdown tables.
import { cpus } from "node:os";

/** Median milliseconds of `fn` over `runs` timed runs after `warmup` untimed ones. */
export function median(fn, { runs = 15, warmup = 3 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

/** The same for async functions. */
export async function medianAsync(fn, { runs = 15, warmup = 3 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

export function machineLine() {
  const cpu = cpus();
  return `${cpu[0]?.model ?? "unknown CPU"} (${cpu.length} cores), Node ${process.version}, ${process.platform}-${process.arch}, ${new Date().toISOString().slice(0, 10)}`;
}

export function table(header, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export const fmt = (x, digits = 3) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(digits - 1));

/** A deterministic PRNG (xorshift32) so every run benchmarks the same data. */
export function rng(seed = 0x2545f491) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Medians of several functions timed in round robin, so drift and cache state hit them alike. */
export function medians(fns, { runs = 21, warmup = 3 } = {}) {
  for (let i = 0; i < warmup; i++) for (const fn of fns) fn();
  const times = fns.map(() => []);
  for (let i = 0; i < runs; i++) {
    fns.forEach((fn, k) => {
      const t = performance.now();
      fn();
      times[k].push(performance.now() - t);
    });
  }
  return times.map((ts) => ts.sort((a, b) => a - b)[ts.length >> 1]);
}

// Where a call starts to gain from the workers: below MIN_PARALLEL_WORK[kind] bytes of work it runs on the
// calling thread (a job costs a message to each worker and back, and waking them; the caller waits for the last).
// Work is counted as bytes read: packed table bytes x hidden vectors (exact: project, topk, nearest, and mode
// "ggml"; fast), packed table bytes (tile: building the fast tiled copy), f32 input bytes (quantize).
//
// From bench/threads-crossover.mjs (2 threads, dim 2048, sizes 64 KiB to 64 MiB, interleaved, medians of 9), run
// three times on a 2-core EPYC VM with load average 13-17 (other work held both cores). On such a machine the
// wall-time crossover says little (2 threads won from 16-64 MiB, or never: with no free core the workers wait
// for the scheduler), so each kind's threshold comes from the model the bench fits: 2 workers take
// w / (2 r) + f where one thread takes w / r, so they win past w = 2 f r; f (the fixed cost of a threaded call,
// 0.08-0.6 ms here, inflated by the load) from the smallest sizes, r (one thread's rate, from CPU time) from
// 64 MiB. 2 f r, rounded up to a power of two, in the three runs: exact 4, 4, 1 MiB (topk 2, 2, 2: it shares
// exact's threshold); fast (q1_0, r ~ 12 GB/s) 16, 8, 16 MiB; tile 1, 0.5, 2 MiB; quantize (q8_0, the cheapest
// encoder) 0.5, 2, 2 MiB. The medians are below; a machine with idle cores crosses over earlier (smaller f).
export type WorkKind = "exact" | "fast" | "tile" | "quantize";

export const MIN_PARALLEL_WORK: Readonly<Record<WorkKind, number>> = Object.freeze({
  exact: 4 << 20,
  fast: 16 << 20,
  tile: 1 << 20,
  quantize: 2 << 20,
});

let forced: number | undefined;

/** Bytes of work below which a call of this kind stays on the calling thread. */
export function minParallelWork(kind: WorkKind): number {
  return forced ?? MIN_PARALLEL_WORK[kind];
}

/** @internal Tests and benches: one threshold for every kind (0: every async call goes to the workers), or the defaults. */
export function setMinParallelWork(bytes?: number): void {
  forced = bytes;
}

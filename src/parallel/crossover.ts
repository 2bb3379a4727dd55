// Where a call starts to gain from the threads: below MIN_PARALLEL_WORK[kind] bytes of work it runs on the
// calling thread alone (a job costs a message to each worker and back; the caller, which computes its own share,
// waits for the last worker to answer). Work is counted as bytes read: packed table bytes x hidden vectors
// (exact: project, topk, nearest, and mode "ggml"; fast), packed table bytes (tile: building the fast tiled
// copy), f32 input bytes (quantize).
//
// From bench/threads-crossover.mjs (2 threads: the caller and one worker; dim 2048, sizes 64 KiB to 32 MiB,
// interleaved, medians of 9), run three times on a 2-core EPYC VM at load 0.8: the size from which 2 threads won
// at every larger size, by wall time: exact 512 KiB, 512 KiB, 1 MiB (topk 512 KiB three times: it shares
// exact's threshold); fast (q1_0) 2 MiB, 4 MiB, and one run where a size above lost; tile 512 KiB, 512 KiB,
// 1 MiB; quantize (q8_0, the cheapest encoder) 512 KiB, 1 MiB, 512 KiB. Each threshold is the largest of its
// three. (The fixed cost of a threaded call fell from 0.2-0.4 ms to 0.01-0.05 ms when the caller began to
// compute: it no longer waits for a worker to wake before any unit runs. The earlier thresholds, 2-8 times
// these, were measured under a load of 13-17.)
export type WorkKind = "exact" | "fast" | "tile" | "quantize";

export const MIN_PARALLEL_WORK: Readonly<Record<WorkKind, number>> = Object.freeze({
  exact: 1 << 20,
  fast: 4 << 20,
  tile: 1 << 20,
  quantize: 1 << 20,
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

// Where a call starts to gain from the workers: below MIN_PARALLEL_WORK[kind] bytes of work it runs on the
// calling thread (a job costs a message to each worker and back, and the caller waits on the slowest).
// Work is counted as bytes read: packed table bytes x hidden vectors (exact, fast; ggml mode counts as exact),
// packed table bytes (tile: building the fast tiled copy), f32 input bytes (quantize).
// The values come from bench/threads-crossover.mjs (see BENCHMARKS.md and docs/DESIGN.md, "Threads").
export type WorkKind = "exact" | "fast" | "tile" | "quantize";

export const MIN_PARALLEL_WORK: Readonly<Record<WorkKind, number>> = Object.freeze({
  exact: 1 << 22,
  fast: 1 << 22,
  tile: 1 << 22,
  quantize: 1 << 22,
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

// The threads run of the Deno and Bun suites (examples/deno/threads.js, examples/bun/threads.js): the shared
// threads checks on tables past the default thresholds of src/parallel/crossover.ts for quantizing and exact
// calls (2048 x 512: 4 MiB of f32 values; 32 vectors; fast q1_0 calls, under 16 MiB, stay on the calling
// thread; the suites' sweep forces every call onto the workers), then a runtime disposed while a job runs on its workers
// (they are ref'd then: the process exits only if dispose ended them) and one never disposed (idle workers
// must not keep the process alive). Prints one line of JSON; the process must then exit by itself.
import { threadsCheck } from "./threads.js";

export async function threadsRun(lib, info) {
  const result = await threadsCheck(lib, { threads: 2, formats: ["f32", "q8_0", "q1_0", "q6_k"], vocab: 2048, dim: 512, vectors: [1, 32] });
  const dim = 1024;
  const values = new Float32Array(4096 * dim).fill(0.25);
  let disposedMidJob = "resolved";
  {
    const rt = await lib.init(undefined, { threads: 2 });
    const table = rt.tableFromF32(values, { vocab: 4096, dim, format: "q8_0" });
    const pending = table.projectAsync(values.subarray(0, 8 * dim), { mode: "exact" });
    rt.dispose();
    disposedMidJob = await pending.then(() => "resolved", (e) => `rejected: ${e.message}`);
  }
  const idle = await lib.init(undefined, { threads: 2 });
  const top = await idle.tableFromF32(values, { vocab: 4096, dim, format: "f32" }).topkAsync(values.subarray(0, dim), 1);
  return { ...info, ...result, disposedMidJob, idleThreads: idle.threads, idleTop: top.ids[0] };
}

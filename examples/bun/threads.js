// bitembed on threads in Bun: `bun examples/bun/threads.js` (build/bun.js loads the shared-memory build and
// starts node:worker_threads workers). Prints the shared threads result (examples/shared/threads-run.js) as
// one line of JSON.
import { threadsRun } from "../shared/threads-run.js";

const entry = process.argv[2] ?? "bitembed";
const lib = await import(entry);
const result = await threadsRun(lib, { runtime: `bun ${Bun.version}`, entry: import.meta.resolve(entry) });
console.log(JSON.stringify(result));
process.exitCode = result.ok ? 0 : 1;

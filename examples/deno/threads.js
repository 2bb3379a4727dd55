// bitembed on threads in Deno: `deno run --allow-read examples/deno/threads.js`. build/deno.js loads the
// shared-memory build beside it and starts node:worker_threads workers (Deno's Web Workers cannot be unref'd).
// Prints the shared threads result (examples/shared/threads-run.js) as one line of JSON.
import * as lib from "bitembed";
import { threadsRun } from "../shared/threads-run.js";

const result = await threadsRun(lib, { runtime: `deno ${Deno.version.deno}`, entry: import.meta.resolve("bitembed") });
console.log(JSON.stringify(result));
if (!result.ok) Deno.exitCode = 1;

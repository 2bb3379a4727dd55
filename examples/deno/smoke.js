// bitembed in Deno: `deno run --allow-read examples/deno/smoke.js`. The "deno" export condition picks
// build/deno.js, which reads the packaged wasm beside it (hence --allow-read; `--allow-read=<package>/build`
// is enough). For no permissions at all, see inline.js. Prints the shared smoke result as one line of JSON.
import { init } from "bitembed";
import { smoke } from "../shared/smoke.js";

const result = await smoke(init, { runtime: `deno ${Deno.version.deno}`, entry: import.meta.resolve("bitembed") });
console.log(JSON.stringify(result));
if (!result.ok) Deno.exitCode = 1;

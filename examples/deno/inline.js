// bitembed in Deno with no permissions: `deno run examples/deno/inline.js`. The `bitembed/inline` entry
// embeds the wasm bytes, so nothing is read at run time. Prints the shared smoke result as one line of JSON.
import { init } from "bitembed/inline";
import { smoke } from "../shared/smoke.js";

const result = await smoke(init, { runtime: `deno ${Deno.version.deno}`, entry: import.meta.resolve("bitembed/inline") });
console.log(JSON.stringify(result));
if (!result.ok) Deno.exitCode = 1;

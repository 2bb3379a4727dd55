// bitembed in Deno: `deno run --allow-read examples/deno/smoke.js` (the "deno" export condition picks
// build/deno.js, which reads the packaged wasm: hence --allow-read). `bitembed/inline` needs no permission:
// `deno run examples/deno/smoke.js bitembed/inline`. Prints the shared smoke result as one line of JSON.
import { smoke } from "../shared/smoke.js";

const entry = Deno.args[0] ?? "bitembed";
const { init } = await import(entry);
const result = await smoke(init, { runtime: `deno ${Deno.version.deno}`, entry: import.meta.resolve(entry) });
console.log(JSON.stringify(result));
if (!result.ok) Deno.exitCode = 1;

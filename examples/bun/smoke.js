// bitembed in Bun: `bun examples/bun/smoke.js` (the "bun" export condition picks build/bun.js, which
// reads the packaged wasm with Bun.file). Prints the shared smoke result as one line of JSON.
import { smoke } from "../shared/smoke.js";

const entry = process.argv[2] ?? "bitembed";
const { init } = await import(entry);
const result = await smoke(init, { runtime: `bun ${Bun.version}`, entry: import.meta.resolve(entry) });
console.log(JSON.stringify(result));
process.exitCode = result.ok ? 0 : 1;

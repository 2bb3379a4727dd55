// bitembed in Node: `node examples/node/smoke.mjs [bitembed | bitembed/inline]` runs the shared smoke
// checks on that entry and prints the result as one line of JSON (exit code 1 if a check failed).
import { smoke } from "../shared/smoke.js";

const entry = process.argv[2] ?? "bitembed"; // the "node" export condition picks build/node.js
const { init } = await import(entry);
const result = await smoke(init, { runtime: `node ${process.version}`, entry: import.meta.resolve(entry) });
console.log(JSON.stringify(result));
process.exitCode = result.ok ? 0 : 1;

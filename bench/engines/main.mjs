// One runtime's head-kernel timings as a JSON line: `node bench/engines/main.mjs`, `deno run --allow-read
// bench/engines/main.mjs`, `bun bench/engines/main.mjs` (bench/engines.mjs runs them all). Each runtime loads
// its own entry, as users get it: build/node.js, build/deno.js or build/bun.js.
import { exactKernels, headKernels, KERNELS } from "./kernels.js";

const entry = globalThis.Deno ? "../../build/deno.js" : globalThis.Bun ? "../../build/bun.js" : "../../build/node.js";
const runtime = globalThis.Deno ? `Deno ${Deno.version.deno} (V8 ${Deno.version.v8})` : globalThis.Bun ? `Bun ${Bun.version} (JavaScriptCore)` : `Node ${process.versions.node} (V8 ${process.versions.v8})`;
const { init, FORMAT_NAMES } = await import(entry);
const result = await headKernels(init, { kernels: [...KERNELS, ...exactKernels(FORMAT_NAMES)] });
console.log(JSON.stringify({ runtime, ...result }));

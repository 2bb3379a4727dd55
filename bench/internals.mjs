// The node entry plus the threads' internal knobs (setMinParallelWork, fastHeadAsync, liveWorkers), bundled
// from src/ into build/bench-internals.mjs (next to the wasm, which the entry finds beside itself) for the
// benches that must reach under the public API; `npm run build` first. Not part of the package.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "build", "bench-internals.mjs");

await esbuild.build({
  stdin: {
    contents: [
      `export * from "./src/entries/node.ts";`,
      `export { setMinParallelWork, MIN_PARALLEL_WORK } from "./src/parallel/crossover.ts";`,
      `export { fastHeadAsync } from "./src/parallel/fast-tile.ts";`,
      `export { liveWorkers } from "./src/parallel/pool.ts";`,
    ].join("\n"),
    resolveDir: root,
    sourcefile: "bench-internals.ts",
    loader: "ts",
  },
  outfile,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "es2022",
  logLevel: "warning",
});

export const internals = await import(outfile);

// Tests instantiate the freshly built wasm (npm test builds first) through the public surface in src/.
// BITEMBED_BUILD=relaxed (the "relaxed" vitest project, see vitest.config.ts) runs the same suites on
// build/bitembed.relaxed.wasm, whose exact dot kernels use fused multiply-adds.
import { readFileSync } from "node:fs";
import { instantiate, type InitOptions, type Runtime } from "../../src/index.js";

export const testBuild = process.env.BITEMBED_BUILD === "relaxed" ? "relaxed" : "baseline";
const file = testBuild === "relaxed" ? "bitembed.relaxed.wasm" : "bitembed.wasm";
const wasmBytes = readFileSync(new URL(`../../build/${file}`, import.meta.url));

export function newRuntime(options?: InitOptions): Promise<Runtime> {
  return instantiate(wasmBytes, () => Promise.reject(new Error("unused")), options);
}

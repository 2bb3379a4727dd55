// Tests instantiate the freshly built wasm (npm test builds first) through the public surface in src/.
import { readFileSync } from "node:fs";
import { instantiate, type InitOptions, type Runtime } from "../../src/index.js";

const wasmBytes = readFileSync(new URL("../../build/bitembed.wasm", import.meta.url));

export function newRuntime(options?: InitOptions): Promise<Runtime> {
  return instantiate(wasmBytes, () => Promise.reject(new Error("unused")), options);
}

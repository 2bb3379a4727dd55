// Inline entry: the wasm bytes are embedded in this file, for bundlers that handle no assets.
import wasmBytes from "./bitembed.wasm";
import { instantiate, type InitOptions, type Runtime, type WasmSource } from "../core/runtime.js";
export * from "../index.js";

export async function init(source?: WasmSource, options?: InitOptions): Promise<Runtime> {
  return instantiate(source, async () => wasmBytes as unknown as Uint8Array, options);
}

// Browser entry: fetches the packaged wasm from beside this file (streaming when served as
// application/wasm). Bundlers that do not copy the asset: use the `bitembed/inline` entry.
import { instantiate, type InitOptions, type Runtime, type WasmSource } from "../core/runtime.js";
export * from "../index.js";

export async function init(source?: WasmSource, options?: InitOptions): Promise<Runtime> {
  return instantiate(source, (relaxed) => fetch(new URL(relaxed ? "./bitembed.relaxed.wasm" : "./bitembed.wasm", import.meta.url)), options);
}

// Deno entry: reads the packaged wasm beside this file (needs --allow-read for that path), or pass
// `init(module)` / `init(bytes)` yourself to run without permissions.
import { instantiate, type InitOptions, type Runtime, type WasmSource } from "../core/runtime.js";
export * from "../index.js";

declare const Deno: { readFile(path: URL): Promise<Uint8Array> };

export async function init(source?: WasmSource, options?: InitOptions): Promise<Runtime> {
  return instantiate(source, (relaxed) => Deno.readFile(new URL(relaxed ? "./bitembed.relaxed.wasm" : "./bitembed.wasm", import.meta.url)), options);
}

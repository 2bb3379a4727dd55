// Bun entry: Bun.file reads the packaged wasm beside this file.
import { instantiate, type InitOptions, type Runtime, type WasmSource } from "../core/runtime.js";
export * from "../index.js";

declare const Bun: { file(path: URL | string): { arrayBuffer(): Promise<ArrayBuffer> } };

export async function init(source?: WasmSource, options?: InitOptions): Promise<Runtime> {
  return instantiate(source, (relaxed) => Bun.file(new URL(relaxed ? "./bitembed.relaxed.wasm" : "./bitembed.wasm", import.meta.url)).arrayBuffer(), options);
}

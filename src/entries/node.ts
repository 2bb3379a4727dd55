// Node entry: the packaged wasm is read from beside this file (Node 20 has no fetch of file: URLs).
import { instantiate, type InitOptions, type Runtime, type WasmSource } from "../core/runtime.js";
export * from "../index.js";

export async function init(source?: WasmSource, options?: InitOptions): Promise<Runtime> {
  return instantiate(
    source,
    async (relaxed) => {
      const { readFile } = await import("node:fs/promises");
      return readFile(new URL(relaxed ? "./bitembed.relaxed.wasm" : "./bitembed.wasm", import.meta.url));
    },
    options,
  );
}

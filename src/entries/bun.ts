// Bun entry: Bun.file reads the packaged wasm beside this file; file paths are read with node:fs.
import { instantiate, type InitOptions, type Runtime, type WasmSource } from "../core/runtime.js";
import { readPackaged } from "../core/load-wasm.js";
import { provideFileSystem, type FileSystem } from "../core/file-system.js";
export * from "../index.js";

declare const Bun: { file(path: URL | string): { arrayBuffer(): Promise<ArrayBuffer> } };

provideFileSystem(() => import("node:fs/promises") as Promise<FileSystem>);

export async function init(source?: WasmSource, options?: InitOptions): Promise<Runtime> {
  const read = (url: URL) => Bun.file(url).arrayBuffer();
  return instantiate(
    source,
    (relaxed, shared) =>
      shared
        ? relaxed
          ? readPackaged(() => new URL("./bitembed.shared.relaxed.wasm", import.meta.url), import.meta.url, read)
          : readPackaged(() => new URL("./bitembed.shared.wasm", import.meta.url), import.meta.url, read)
        : relaxed
        ? readPackaged(() => new URL("./bitembed.relaxed.wasm", import.meta.url), import.meta.url, read)
        : readPackaged(() => new URL("./bitembed.wasm", import.meta.url), import.meta.url, read),
    options,
  );
}

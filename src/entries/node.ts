// Node entry: the packaged wasm is read from beside this file (Node 20 has no fetch of file: URLs), and file
// paths given to init, readGGUF, readSafetensors and loadEmbeddingModel are read with node:fs.
import { instantiate, type InitOptions, type Runtime, type WasmSource } from "../core/runtime.js";
import { readPackaged } from "../core/load-wasm.js";
import { provideFileSystem, type FileSystem } from "../core/file-system.js";
export * from "../index.js";

const fs = () => import("node:fs/promises") as Promise<FileSystem>;
provideFileSystem(fs);

export async function init(source?: WasmSource, options?: InitOptions): Promise<Runtime> {
  const read = async (url: URL) => (await fs()).readFile(url);
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

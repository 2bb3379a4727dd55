// Browser entry: fetches the packaged wasm from beside this file (streaming when served as application/wasm).
// The two URLs are literal `new URL("./x.wasm", import.meta.url)` expressions on purpose: Vite, webpack 5 and
// Rollup's import-meta-assets plugin find exactly that shape, and emit the file. Bundlers that handle no
// assets: use the `bitembed/inline` entry.
import { instantiate, type InitOptions, type Runtime, type WasmSource } from "../core/runtime.js";
import { fetchPackaged } from "../core/load-wasm.js";
export * from "../index.js";

export async function init(source?: WasmSource, options?: InitOptions): Promise<Runtime> {
  return instantiate(
    source,
    // threads (the shared-memory builds) are not shipped to browsers yet: rt.threads is 1, with one warning
    (relaxed, shared) =>
      shared
        ? Promise.reject(new Error("the browser entry does not ship it yet"))
        : relaxed
        ? fetchPackaged(() => new URL("./bitembed.relaxed.wasm", import.meta.url), import.meta.url)
        : fetchPackaged(() => new URL("./bitembed.wasm", import.meta.url), import.meta.url),
    options,
  );
}

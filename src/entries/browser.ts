// Browser entry: fetches the packaged wasm from beside this file (streaming when served as application/wasm).
// The four URLs are literal `new URL("./x.wasm", import.meta.url)` expressions on purpose: Vite, webpack 5 and
// Rollup's import-meta-assets plugin find exactly that shape, and emit the file. The shared-memory builds are
// fetched only for threads (`init(source, { threads })` on a cross-origin-isolated page). Bundlers that handle
// no assets: use the `bitembed/inline` entry.
import { instantiate, type InitOptions, type Runtime, type WasmSource } from "../core/runtime.js";
import { fetchPackaged } from "../core/load-wasm.js";
export * from "../index.js";

export async function init(source?: WasmSource, options?: InitOptions): Promise<Runtime> {
  return instantiate(
    source,
    (relaxed, shared) =>
      shared
        ? relaxed
          ? fetchPackaged(() => new URL("./bitembed.shared.relaxed.wasm", import.meta.url), import.meta.url)
          : fetchPackaged(() => new URL("./bitembed.shared.wasm", import.meta.url), import.meta.url)
        : relaxed
        ? fetchPackaged(() => new URL("./bitembed.relaxed.wasm", import.meta.url), import.meta.url)
        : fetchPackaged(() => new URL("./bitembed.wasm", import.meta.url), import.meta.url),
    options,
  );
}

// Edge-worker entry (Cloudflare Workers / workerd): compiling wasm from bytes is forbidden there, so the
// module is imported (the platform compiles it) and handed to instantiate.
import wasmModule from "./bitembed.wasm";
import { instantiate, type InitOptions, type Runtime, type WasmSource } from "../core/runtime.js";
export * from "../index.js";

export async function init(source?: WasmSource, options?: InitOptions): Promise<Runtime> {
  return instantiate(
    source,
    // no shared-memory build here: a Worker runs one thread (rt.threads is 1, with a warning saying why)
    async (_relaxed, shared) => (shared ? Promise.reject(new Error("the edge-worker entry does not ship it")) : wasmModule),
    options,
  );
}

// Starting a threaded Runtime: the packaged shared-memory build on a shared WebAssembly.Memory, the caller's
// instance first (its allocator hands out every pointer; it computes a share of each job too), then the pool of
// workers on the same memory. Any reason it cannot happen gives `undefined` (the caller then loads the
// one-thread build) and, when the threads were asked for by number, one warning; "auto" falls back quietly
// (nobody asked for a count). A relaxed shared build that cannot be loaded (404, not compiling) is replaced by
// the baseline one, after one warning naming it, "auto" or not: the threads still run, but the deployment
// misses a file.
import { sharedMemoryMissing, warnOneThread as warnOnce, warnRelaxedMissing } from "./threads.js";
import { WorkerPool, workerKind } from "./pool.js";
import type { LinearMemory } from "../core/memory.js";

type PackagedWasm = WebAssembly.Module | ArrayBuffer | ArrayBufferView | Response;

interface Made {
  memory: LinearMemory;
  kernels: { set_scratch(ptr: number): void; scratch_bytes(): number };
  attachPool(pool: WorkerPool): void;
  dispose(): void;
}

export async function startThreaded<R extends Made>(
  asked: number,
  explicit: boolean,
  hasSource: boolean,
  relaxed: boolean,
  loadShared: (relaxed: boolean) => Promise<PackagedWasm>,
  maxMemory: number,
  make: (instance: WebAssembly.Instance) => R,
): Promise<R | undefined> {
  const warnOneThread = (n: number, why: string): void => {
    if (explicit) warnOnce(n, why);
  };
  if (hasSource) {
    warnOneThread(asked, "threads need the packaged shared-memory build of the kernels, and a `source` was given");
    return undefined;
  }
  const missing = sharedMemoryMissing();
  if (missing !== undefined) {
    warnOneThread(asked, missing);
    return undefined;
  }
  const kind = await workerKind();
  if (kind === undefined) {
    warnOneThread(asked, "this runtime cannot start workers (Cloudflare Workers, for one, run a single thread by design)");
    return undefined;
  }
  let module: WebAssembly.Module;
  try {
    module = await loadModule(loadShared, relaxed);
  } catch (e) {
    if (!relaxed) {
      warnOneThread(asked, `the shared-memory build of the kernels could not be loaded (${(e as Error).message})`);
      return undefined;
    }
    // an asset a bundler or CDN did not copy: the baseline shared build runs the same threads, a little slower
    warnRelaxedMissing((e as Error).message);
    try {
      module = await loadModule(loadShared, false);
    } catch (e) {
      warnOneThread(asked, `the shared-memory build of the kernels could not be loaded (${(e as Error).message})`);
      return undefined;
    }
  }
  const maxPages = Math.max(16, Math.min(65536, Math.ceil(maxMemory / 65536)));
  const memory = new WebAssembly.Memory({ initial: 16, maximum: maxPages, shared: true } as WebAssembly.MemoryDescriptor);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const rt = make(instance);
  try {
    const bytes = rt.kernels.scratch_bytes();
    // the caller's instance gets an allocated block too: a worker's instantiation rewrites the static data
    rt.kernels.set_scratch(rt.memory.alloc(bytes, 64));
    // `asked` threads: this one and asked - 1 workers
    rt.attachPool(await WorkerPool.start(kind, module, rt.memory, asked, bytes, instance.exports));
    return rt;
  } catch (e) {
    rt.dispose();
    warnOneThread(asked, `the workers could not be started (${(e as Error).message})`);
    return undefined;
  }
}

const RELAXED_SHARED = "bitembed.shared.relaxed.wasm";
const BASELINE_SHARED = "bitembed.shared.wasm";

/** The shared-memory build (`relaxed` or baseline), compiled; an error names the URL, path or file that failed. */
async function loadModule(loadShared: (relaxed: boolean) => Promise<PackagedWasm>, relaxed: boolean): Promise<WebAssembly.Module> {
  const name = relaxed ? RELAXED_SHARED : BASELINE_SHARED;
  // a loader's own error (a failed read or fetch) already names the path or URL
  const source = await loadShared(relaxed);
  const from = (typeof Response !== "undefined" && source instanceof Response && source.url) || name;
  let module: WebAssembly.Module;
  try {
    module = await compile(source);
  } catch (e) {
    throw new Error(`${from}: ${(e as Error).message}`);
  }
  // a build with its own memory would leave every worker computing on a memory of its own
  if (!WebAssembly.Module.imports(module).some((i) => i.kind === "memory")) {
    throw new Error(`${from}: the module loaded as the shared-memory build does not import its memory`);
  }
  return module;
}

async function compile(source: PackagedWasm): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof Response !== "undefined" && source instanceof Response) {
    if (!source.ok) {
      await source.body?.cancel().catch(() => {});
      throw new Error(`HTTP ${source.status} ${source.statusText}`.trimEnd());
    }
    return WebAssembly.compile(await source.arrayBuffer());
  }
  try {
    return await WebAssembly.compile(source as BufferSource);
  } catch (e) {
    throw new Error(`Compiling it failed: ${(e as Error).message}`);
  }
}

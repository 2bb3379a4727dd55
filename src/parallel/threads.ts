// How many threads a runtime gets, and why not more: `init(source, { threads })` takes a number or "auto"
// (min(4, cores / 2), what onnxruntime-web does). Threads need shared wasm memory (SharedArrayBuffer; in a
// browser, a cross-origin-isolated page), a way to start workers, and the packaged shared-memory build. Where
// one is missing the runtime runs on one thread and says why once, in a console warning, never an exception.

// a specifier in a variable: bundlers for the browser leave it alone; runtimes without it fail the import
const NODE_OS = "node:os";
export type ThreadsOption = number | "auto";

/** Cores the engine reports (navigator.hardwareConcurrency, Node's os.availableParallelism), or 1. */
export async function cores(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav && typeof nav.hardwareConcurrency === "number" && nav.hardwareConcurrency > 0) return nav.hardwareConcurrency;
  try {
    const os = (await import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_OS)) as typeof import("node:os");
    return (os as { availableParallelism?: () => number }).availableParallelism?.() ?? os.cpus().length ?? 1;
  } catch {
    return 1;
  }
}

/** The number of threads asked for: a positive integer (`threads` checked here; "auto" resolved). */
export async function askedThreads(threads: unknown, check: (got: unknown) => Error): Promise<number> {
  if (threads === undefined || threads === "auto") return Math.max(1, Math.min(4, Math.floor((await cores()) / 2)));
  if (!(typeof threads === "number" && Number.isInteger(threads) && threads >= 1 && threads <= 256)) throw check(threads);
  return threads;
}

/** Why threads cannot run here, or undefined when shared wasm memory can be made. */
export function sharedMemoryMissing(): string | undefined {
  const g = globalThis as { crossOriginIsolated?: boolean; document?: unknown; WorkerGlobalScope?: unknown };
  if (typeof SharedArrayBuffer === "undefined") {
    if (g.crossOriginIsolated === false) {
      return (
        "this page is not cross-origin isolated, so it has no SharedArrayBuffer; serve it with the headers " +
        "`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`"
      );
    }
    return "this runtime has no SharedArrayBuffer";
  }
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
  } catch {
    return "this runtime cannot make shared WebAssembly memory";
  }
  return undefined;
}

// Once per process, not per runtime: every reason here is a fact of the environment (no SharedArrayBuffer, no
// workers, a missing asset), the same for each runtime the process makes; a server or a workerd isolate that
// starts a runtime per request would otherwise log it per request. Each runtime still tells its own count in
// `rt.threads` (and `rt.relaxedSimd`), which is what code should read.
const warned = new Set<string>();

function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(message);
}

/** One console warning per reason: `threads` asked for n, the runtime runs on one thread. */
export function warnOneThread(asked: number, why: string): void {
  const key = `threads:${why}`;
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`bitembed: \`threads\` ${asked} asked for, running on 1 thread: ${why}. The *Async calls still work, on one thread.`);
}

/** One console warning per failure: the relaxed shared-memory build could not be loaded (`why` names it). */
export function warnRelaxedMissing(why: string): void {
  warnOnce(
    `bitembed: the relaxed-SIMD shared-memory build could not be loaded (${why}); the threads run on the baseline ` +
      "shared-memory build. Put bitembed.shared.relaxed.wasm where bitembed.shared.wasm is (README: Bundlers).",
  );
}

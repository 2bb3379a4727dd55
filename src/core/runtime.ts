// One Runtime per instantiated module: the wasm exports, one linear memory and its allocator, and the
// factories for everything that lives in that memory. `instantiate` accepts every way a runtime hands us
// wasm; the per-runtime entries (src/entries/) supply the default source.
import { errors, describe } from "./errors.js";
import { F32Buffer } from "./buffer.js";
import { LinearMemory } from "./memory.js";
import type { Kernels } from "./kernels.js";
import { instantiateFrom, PACKAGED_FIX, resolveLocation, SOURCE_FIX } from "./load-wasm.js";
import { dequantize, forgetRuntime, quantize, rememberRuntime, type QuantizeOptions } from "../formats/quantize.js";
import { EmbeddingTable, type TableOptions, type TableFromF32Options } from "../tables/table.js";
import { Rope } from "../positions/rope.js";
import type { RopeConfig } from "../positions/rope-freqs.js";
import { hadamardOn, type HadamardOptions } from "../positions/hadamard.js";
import type { WorkerPool } from "../parallel/pool.js";
import { askedThreads, type ThreadsOption } from "../parallel/threads.js";
import { startThreaded } from "../parallel/start.js";
import { quantizeAsync, tableFromF32Async } from "../parallel/quantize.js";

// `[Symbol.dispose]` (for `using`) appears in the published types of every object that holds memory. Declared
// here too, so those types compile under a plain tsconfig without lib esnext.disposable or @types/node; it
// merges with the standard declaration where that is present. At run time Symbol.dispose may be missing
// (older engines): the method is then keyed "undefined" and harmless.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

export type WasmSource =
  | WebAssembly.Module
  | ArrayBuffer
  | ArrayBufferView
  | URL
  | string
  | Response
  | PromiseLike<WebAssembly.Module | ArrayBuffer | ArrayBufferView | Response>;

export interface InitOptions {
  /**
   * Upper bound on linear memory in bytes: a whole number above the module's own data (about 16 KB) and at most
   * 4 GiB, what wasm32 allows (the default).
   */
  maxMemory?: number;
  /**
   * Load the build that uses relaxed SIMD where the engine has it (default true; Node >= 22, Deno, Bun,
   * Chrome >= 114). It uses two relaxed instructions: a table lookup with in-range indices (fast-mode logits
   * are bit-identical to the baseline build's) and a fused multiply-add in the exact dot kernels (one rounding
   * instead of two where the CPU has FMA: exact-mode logits may differ from the baseline build's in the last
   * bits, within exact mode's tolerance). false loads the baseline build. Applies to the packaged wasm only
   * (not to `source`).
   */
  relaxedSimd?: boolean;
  /**
   * Threads for the *Async calls (projectAsync, topkAsync, tableFromF32Async, quantizeAsync): a number, or
   * "auto" (the default: min(4, cores / 2)). N counts the calling thread, as onnxruntime-web's numThreads does:
   * more than 1 loads the shared-memory build of the kernels and starts N - 1 workers on one shared memory, and
   * the calling thread computes its share of each *Async call too (it is busy for about 1/N of the call's
   * time; a page that must not block at all calls bitembed from a worker of its own). Where threads cannot run (no SharedArrayBuffer: a page that is not
   * cross-origin isolated; no workers: Cloudflare Workers; a `source` of your own) the runtime runs on one thread
   * and, when a number was asked for, one console warning says why ("auto" falls back quietly). `rt.threads`
   * tells how many run.
   */
  threads?: ThreadsOption;
}

export type { Kernels } from "./kernels.js";

// (module (func (result v128) i32.const 0 i32x4.splat)): validates only where SIMD is supported.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01,
  0x00, 0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x11, 0x0b,
]);

// (module (func (result v128) (i8x16.relaxed_swizzle (i8x16.splat (i32.const 0)) (i8x16.splat (i32.const 0))))):
// validates only where relaxed SIMD is on.
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01,
  0x00, 0x0a, 0x0f, 0x01, 0x0d, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x41, 0x00, 0xfd, 0x0f, 0xfd, 0x80, 0x02, 0x0b,
]);

export function hasRelaxedSimd(): boolean {
  try {
    return WebAssembly.validate(RELAXED_SIMD_PROBE);
  } catch {
    return false;
  }
}

export function hasSimd(): boolean {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

export class Runtime {
  readonly kernels: Kernels;
  readonly memory: LinearMemory;
  /** Whether this instance is the relaxed-SIMD build (see InitOptions.relaxedSimd). */
  readonly relaxedSimd: boolean;
  private disposed = false;
  private workers: WorkerPool | undefined;

  constructor(instance: WebAssembly.Instance, options: InitOptions = {}) {
    this.kernels = instance.exports as unknown as Kernels;
    this.relaxedSimd = typeof this.kernels.relaxed_simd === "function" && this.kernels.relaxed_simd() === 1;
    checkInitOptions(options);
    const max = options.maxMemory ?? MAX_MEMORY;
    // a cap at or below the module's own data leaves nothing to allocate (the allocator starts there)
    const heapBase = this.kernels.heap_base();
    if (max <= heapBase) throw errors.option("maxMemory", max, `more than ${heapBase} bytes, where this module's own data ends`);
    this.memory = new LinearMemory(this.kernels.memory, this.kernels.heap_base(), max);
    rememberRuntime(this);
  }

  /** A table from bytes already in the format (`data` as a file or ggml holds it). */
  table(options: TableOptions): EmbeddingTable {
    this.check();
    return EmbeddingTable.fromBytes(this, options);
  }

  /** How many threads the *Async calls run on (1 where threads cannot run; see InitOptions.threads). */
  get threads(): number {
    return this.workers?.size ?? 1;
  }

  /** @internal The worker pool, when this runtime runs threads. */
  get pool(): WorkerPool | undefined {
    this.check();
    return this.workers;
  }

  /** @internal */
  attachPool(pool: WorkerPool): void {
    this.workers = pool;
  }

  /** tableFromF32 on every thread: the same table, byte for byte. */
  tableFromF32Async(values: Float32Array, options: TableFromF32Options): Promise<EmbeddingTable> {
    this.check();
    return tableFromF32Async(this, values, options);
  }

  /** quantize on every thread: the same bytes. */
  quantizeAsync(values: Float32Array, options: Omit<QuantizeOptions, "runtime">): Promise<Uint8Array> {
    this.check();
    return quantizeAsync(this, values, options);
  }

  /** A table from f32 values, converted (quantized) on the way in. */
  tableFromF32(values: Float32Array, options: TableFromF32Options): EmbeddingTable {
    this.check();
    return EmbeddingTable.fromF32(this, values, options);
  }

  /** f32 rows -> the bytes of `format`, byte-identical to ggml's reference quantizers (see `quantize`). */
  quantize(values: Float32Array, options: Omit<QuantizeOptions, "runtime">): Uint8Array {
    this.check();
    return quantize(values, { ...options, runtime: this });
  }

  /** The bytes of `format` -> f32 rows, as ggml dequantizes them (see `dequantize`). */
  dequantize(data: ArrayBuffer | ArrayBufferView, options: Omit<QuantizeOptions, "runtime">): Float32Array {
    this.check();
    return dequantize(data, { ...options, runtime: this });
  }

  /** Rotary position embeddings for one config (see Rope). */
  rope(config: RopeConfig): Rope {
    this.check();
    return new Rope(this, config);
  }

  /**
   * Ternary Bonsai 2's rotation of `x` in place (a Float32Array, or an F32Buffer of this runtime): y = H_B(s * x)
   * per block of B values of the last axis, or s * H_B(x) with `inverse: true` (see `hadamard`). Returns x.
   */
  hadamard<T extends Float32Array | F32Buffer>(x: T, options?: HadamardOptions): T {
    this.check();
    return hadamardOn(this, x, options);
  }

  /** `length` f32 values in linear memory, for results written there with no copy (see `lookup`). */
  f32Buffer(length: number): F32Buffer {
    this.check();
    return new F32Buffer(this.memory, length);
  }

  /** Bytes of linear memory held by live tables and buffers. */
  get bytesInUse(): number {
    return this.memory.bytesInUse;
  }

  /** Drop this runtime: every later call on it (or its tables) throws. Memory goes with the instance. */
  dispose(): void {
    this.disposed = true;
    this.workers?.terminate();
    this.memory.dispose();
    forgetRuntime(this);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  private check(): void {
    if (this.disposed) throw errors.disposed("runtime");
  }
}

type PackagedWasm = WebAssembly.Module | ArrayBuffer | ArrayBufferView | Response;

const PAGE = 65536;
const MAX_MEMORY = 65536 * PAGE;
const INIT_OPTIONS = ["maxMemory", "relaxedSimd", "threads"] as const;

/** Options are checked before anything is loaded: a typo or an impossible limit fails at once. */
export function checkInitOptions(options: unknown): asserts options is InitOptions {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) throw errors.configKind("options", options);
  for (const key of Object.keys(options)) {
    if (!(INIT_OPTIONS as readonly string[]).includes(key)) throw errors.unknownOptionKey("init", key, INIT_OPTIONS);
  }
  const { maxMemory, relaxedSimd } = options as InitOptions;
  if (maxMemory !== undefined && !(Number.isSafeInteger(maxMemory) && maxMemory > 0 && maxMemory <= MAX_MEMORY)) {
    throw errors.option("maxMemory", maxMemory, `a whole number of bytes, at most ${MAX_MEMORY} (4 GiB, the wasm32 limit)`);
  }
  if (relaxedSimd !== undefined && typeof relaxedSimd !== "boolean") throw errors.option("relaxedSimd", relaxedSimd, "true or false");
}

/**
 * Instantiate from any source; `loadDefault(relaxed)` supplies the packaged wasm when `source` is undefined
 * (the relaxed-SIMD build when `relaxed`; entries without one ignore it). A relaxed build that cannot be
 * loaded (an asset a bundler did not copy) falls back to the baseline one.
 */
export async function instantiate(
  source: WasmSource | undefined,
  loadDefault: (relaxed: boolean, shared?: boolean) => Promise<PackagedWasm>,
  options: InitOptions = {},
): Promise<Runtime> {
  checkInitOptions(options);
  if (!hasSimd()) throw errors.noSimd();
  const threads = await askedThreads(options.threads, (got) => errors.option("threads", got, 'an integer from 1 to 256, or "auto"'));
  if (threads > 1) {
    const relaxed = options.relaxedSimd !== false && hasRelaxedSimd();
    const explicit = options.threads !== undefined && options.threads !== "auto";
    const rt = await startThreaded(
      threads, explicit, source !== undefined, relaxed, (r) => loadDefault(r, true), options.maxMemory ?? 65536 * 65536,
      (instance) => new Runtime(instance, options),
    );
    if (rt !== undefined) return rt;
  }
  if (source === undefined) {
    if (options.relaxedSimd !== false && hasRelaxedSimd()) {
      try {
        return new Runtime(await instantiateFrom(await loadDefault(true), "the packaged bitembed.relaxed.wasm", PACKAGED_FIX), options);
      } catch {
        // the baseline build below; its failure, if any, is the one reported
      }
    }
    return new Runtime(await instantiateFrom(await loadDefault(false), "the packaged bitembed.wasm", PACKAGED_FIX), options);
  }
  let resolved: unknown = await source;
  let from = "`init(source)`";
  if (typeof resolved === "string" || resolved instanceof URL) ({ wasm: resolved, from } = await resolveLocation(resolved));
  return new Runtime(await instantiateFrom(resolved, from, SOURCE_FIX), options);
}

export { describe };

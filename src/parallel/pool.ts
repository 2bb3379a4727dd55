// The worker pool of a threaded Runtime: the calling thread and N - 1 workers compute a job (threads: N counts
// the caller, as onnxruntime-web's numThreads does). Each worker has its own instance of the shared-memory build
// of the kernels on the caller's WebAssembly.Memory (shared), its own scratch block (set_scratch), and nothing
// else. A job is a list of units, each unit a list of kernel calls ([name, ...args]); the caller and the workers
// take units by a shared atomic counter (not one static slice each: cores differ in speed on shared machines)
// until none is left. The caller computes its share synchronously, after the work it overlaps with the job
// (`before`): it would otherwise sit idle while N workers share N cores with its own copies, and each job's
// wake-up and done messages are one worker's fewer. Pointers are handed out by the caller's allocator only; an
// argument "$j" is the computing thread's own block j of the job's scratch. Jobs run one at a time. A job ends
// when its units are done: the caller waits for a worker's reply only if the worker took a unit, so a worker
// slow to wake (an idle core of a VM) does not hold up a job the caller finished alone; it later finds the job's
// counter (its own, one per job) used up and takes nothing. Workers never keep a Node process alive on their
// own (unref while idle) and end with terminate() (Runtime.dispose).
import type { LinearMemory } from "../core/memory.js";
// a specifier in a variable: bundlers for the browser leave it alone; runtimes without it fail the import
const NODE_WORKER_THREADS = "node:worker_threads";

/**
 * A job's part in a result the first worker builds in its own memory and hands over at the end (takeOut): before
 * taking units it allocates `bytes` (the first job), then copies `copies` (triples: source pointer, length,
 * offset in the result). A JS result made off the calling thread: its pages are touched, and its bytes copied,
 * while the caller computes.
 */
export interface OutPart {
  id: number;
  bytes?: number;
  copies: number[];
}

/** One kernel call: the export's name, then its arguments (numbers, or "$j": the worker's scratch block j). */
export type Call = [string, ...(number | string)[]];

type KernelFns = Record<string, unknown>;

// Units taken by the job's counter (counter[0]: the next unit) until none is left, each call on `k` with "$j"
// replaced by scratch[j]; counter[1] counts the units done. The caller runs this function and the workers run
// its source text (workerSource): one loop for both. Self-contained (it refers to nothing outside itself) and
// written in plain indexed loops and `apply`, no for-of or spread: a user's bundler that compiles for older
// browsers would turn those into calls to helpers the worker lacks.
function runUnits(k: KernelFns, units: Call[][], scratch: number[], counter: Int32Array): void {
  for (;;) {
    const i = Atomics.add(counter, 0, 1);
    if (i >= units.length) return;
    const unit = units[i];
    for (let c = 0; c < unit.length; c++) {
      const call = unit[c];
      const f = k[call[0]];
      if (typeof f !== "function") throw new Error("bitembed has no kernel named " + call[0]);
      const args: number[] = [];
      for (let a = 1; a < call.length; a++) {
        const v = call[a];
        args.push(typeof v === "string" ? scratch[+v.slice(1)] : v);
      }
      (f as (...a: number[]) => unknown).apply(null, args);
    }
    Atomics.add(counter, 1, 1);
  }
}

// The worker's code (node:worker_threads with eval in Node, Deno and Bun; a module Web Worker from a blob URL
// in browsers). It instantiates the module on the shared memory and runs each job's units until the job's
// counter passes the end, then replies (one reply per message, in order). The kind is written in, not sniffed:
// Bun's worker_threads workers have a `self` too, and its onmessage / postMessage are not the channel to the
// parent's Worker object. (import(), not require: Node runs an eval'd worker as a module when the process was
// started with --input-type=module.)
const workerSource = (kind: WorkerKind) => `"use strict";
(async () => {
const nodePort = ${JSON.stringify(kind)} === "worker_threads" ? (await import("node:worker_threads")).parentPort : null;
const post = (m) => (nodePort ? nodePort.postMessage(m) : self.postMessage(m));
let k = null;
let memory = null;
// results this worker builds (WorkerPool.run's \`out\`), by id: bytes copied out of linear memory into them
const outs = new Map();
function copyOut(id, copies) {
  const out = outs.get(id);
  if (out === undefined) throw new Error("bitembed: this worker holds no result " + id);
  for (let i = 0; i < copies.length; i += 3) out.set(new Uint8Array(memory.buffer, copies[i], copies[i + 1]), copies[i + 2]);
}
function onMessage(m) {
  try {
    if (m.type === "init") {
      memory = m.memory;
      k = new WebAssembly.Instance(m.module, { env: { memory } }).exports;
      k.set_scratch(m.scratch);
      post({ type: "ready" });
      return;
    }
    if (m.type === "out") {
      // the last copies, then the result goes to the caller (transferred, not copied), or is dropped
      if (m.take) copyOut(m.id, m.copies);
      const buffer = m.take ? outs.get(m.id).buffer : null; // copyOut checked it is there
      outs.delete(m.id);
      if (buffer === null) post({ type: "done" });
      else if (nodePort) nodePort.postMessage({ type: "done", out: buffer }, [buffer]);
      else self.postMessage({ type: "done", out: buffer }, [buffer]);
      return;
    }
    if (m.out) {
      if (m.out.bytes !== undefined) outs.set(m.out.id, new Uint8Array(m.out.bytes));
      copyOut(m.out.id, m.out.copies);
    }
    runUnits(k, m.units, m.scratch, new Int32Array(m.counter));
    post({ type: "done" });
  } catch (e) {
    post({ type: "error", message: String((e && e.stack) || e) });
  }
}
if (nodePort) nodePort.on("message", onMessage);
else self.onmessage = (e) => onMessage(e.data);
const runUnits = (${runUnits.toString()});
})();
`;

let live = 0;

/** @internal Workers started and not yet exited, over every runtime (tests: dispose leaves none). */
export function liveWorkers(): number {
  return live;
}

interface Port {
  post(message: unknown): void;
  ref(): void;
  unref(): void;
  terminate(): void;
}

/** A worker's reply: "ready", "done" (with the result it built, when taken), or "error". */
interface Reply {
  type: string;
  message?: string;
  out?: ArrayBuffer;
}

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (e: Error) => void;
}

/**
 * How workers are made where we run: node:worker_threads where it exists (Node, and Deno and Bun too: Deno's
 * Web Workers cannot be unref'd, so an idle pool would keep the process alive), else Web Workers (browsers);
 * undefined where neither exists (Cloudflare Workers).
 */
export type WorkerKind = "worker_threads" | "web";

export async function workerKind(): Promise<WorkerKind | undefined> {
  const g = globalThis as { process?: { versions?: { node?: string } }; Worker?: unknown; navigator?: { userAgent?: string } };
  // workerd has node:worker_threads (its Worker throws "not implemented") and process.versions.node
  if (g.navigator?.userAgent === "Cloudflare-Workers") return undefined;
  if (g.process?.versions?.node !== undefined) {
    try {
      (await import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_WORKER_THREADS)) as typeof import("node:worker_threads");
      return "worker_threads";
    } catch {
      // a runtime that imitates process.versions without node: built-ins: Web Workers below
    }
  }
  return typeof g.Worker === "function" ? "web" : undefined;
}

async function spawn(kind: WorkerKind, onMessage: (m: Reply) => void, onError: (e: Error) => void): Promise<Port> {
  if (kind === "worker_threads") {
    const { Worker } = (await import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_WORKER_THREADS)) as typeof import("node:worker_threads");
    const w = new Worker(workerSource(kind), { eval: true });
    live++;
    w.on("message", onMessage);
    w.on("error", onError);
    w.on("exit", (code) => {
      live--;
      onError(new Error(`A bitembed worker exited (code ${code}).`));
    });
    return {
      post: (m) => w.postMessage(m),
      ref: () => w.ref(),
      unref: () => w.unref(),
      terminate: () => void w.terminate(),
    };
  }
  const url = URL.createObjectURL(new Blob([workerSource(kind)], { type: "text/javascript" }));
  const w = new Worker(url, { type: "module" });
  live++;
  URL.revokeObjectURL(url);
  w.onmessage = (e: MessageEvent) => onMessage(e.data);
  w.onerror = (e: ErrorEvent) => onError(new Error(`A bitembed worker failed: ${e.message}`));
  const d = w as unknown as { ref?: () => void; unref?: () => void };
  return {
    post: (m) => w.postMessage(m),
    ref: () => d.ref?.(),
    unref: () => d.unref?.(),
    terminate: () => {
      w.terminate();
      live--;
    },
  };
}

class PoolWorker {
  // the replies awaited, oldest first: a worker answers its messages in order, and a job that ended without this
  // worker's units leaves its reply to come
  pending: Pending[] = [];
  failed: Error | null = null;
  port!: Port;

  static async start(kind: WorkerKind, init: Record<string, unknown>): Promise<PoolWorker> {
    const pw = new PoolWorker();
    pw.port = await spawn(
      kind,
      (m) => {
        const p = pw.pending.shift();
        if (m.type === "error") p?.reject(new Error(`A bitembed worker failed: ${m.message}`));
        else p?.resolve(m);
      },
      (e) => pw.fail(e),
    );
    await pw.send(init);
    return pw;
  }

  send(message: unknown): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<Reply>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.port.post(message);
    });
  }

  /** Every reply awaited fails with e (the first failure is kept), and so does every later send. */
  fail(e: Error): void {
    this.failed ??= e;
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) p.reject(this.failed);
  }
}

export class WorkerPool {
  private queue: Promise<unknown> = Promise.resolve();
  // jobs queued or running
  private jobs = 0;
  private terminated = false;
  /** @internal Jobs that ended without waiting for a worker's reply (tests). */
  endedAlone = 0;
  // the last result id handed out (newOut)
  private outs = 0;

  private constructor(
    private readonly workers: PoolWorker[],
    private readonly mem: LinearMemory,
    private readonly scratch: number[],
    private readonly caller: KernelFns,
  ) {}

  /**
   * A pool of `threads` computing threads: the caller (its kernels: `caller`, its instance of `module`) and
   * threads - 1 workers on `module` (the shared-memory build) over `mem`, each with its own scratch block.
   */
  static async start(
    kind: WorkerKind, module: WebAssembly.Module, mem: LinearMemory, threads: number, scratchBytes: number, caller: KernelFns,
  ): Promise<WorkerPool> {
    const scratch: number[] = [];
    const workers: PoolWorker[] = [];
    try {
      for (let i = 1; i < threads; i++) scratch.push(mem.alloc(scratchBytes, 64));
      const started = await Promise.allSettled(
        scratch.map((s) => PoolWorker.start(kind, { type: "init", module, memory: mem.memory, scratch: s })),
      );
      for (const r of started) if (r.status === "fulfilled") workers.push(r.value);
      const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
    } catch (e) {
      for (const w of workers) w.port.terminate();
      for (const s of scratch) mem.dealloc(s);
      throw e;
    }
    const pool = new WorkerPool(workers, mem, scratch, caller);
    for (const w of workers) w.port.unref();
    return pool;
  }

  /** Threads computing a job: the workers and the caller. */
  get size(): number {
    return this.workers.length + 1;
  }

  /**
   * Run `units` on the workers and the calling thread until all are done. `before`: the caller's own work
   * while the workers start on the job (copying the next round in), done before it takes units itself.
   * `scratchBytes[j]`: the size of block j each computing thread gets for this job (allocated here, freed after).
   * `out`: this job's part in a result the first worker builds (OutPart; such a job always waits for its reply).
   */
  run(units: Call[][], scratchBytes: readonly number[] = [], before?: () => void, out?: OutPart): Promise<void> {
    return this.enqueue(() => this.post(units, scratchBytes, before, out));
  }

  /** A new id for a result the first worker builds (run's `out`, takeOut, dropOut). */
  newOut(): number {
    return ++this.outs;
  }

  /**
   * The result the first worker built under `id`, after its last `copies` (triples: source pointer, length,
   * offset in the result), handed over whole (transferred, not copied).
   */
  async takeOut(id: number, copies: number[]): Promise<Uint8Array> {
    const reply = await this.enqueue(() => this.message({ type: "out", id, take: true, copies }));
    return new Uint8Array(reply.out as ArrayBuffer);
  }

  /** The first worker forgets the result it built under `id` (a call that failed). */
  dropOut(id: number): Promise<void> {
    return this.enqueue(() => this.message({ type: "out", id, take: false })).then(() => undefined);
  }

  // An idle pool posts the job now, inside this call; behind another job, it waits its turn.
  private enqueue<T>(post: () => Promise<T>): Promise<T> {
    const job = (this.jobs === 0 ? post() : this.queue.then(post)).finally(() => {
      // before the job's promise settles: a caller that awaited it and runs again finds the count right
      this.jobs--;
    });
    this.jobs++;
    this.queue = job.catch(() => undefined);
    return job;
  }

  // one message to the first worker, its reply awaited (the worker kept ref'd meanwhile)
  private async message(m: unknown): Promise<Reply> {
    if (this.terminated) throw new Error("This runtime's workers were terminated (the runtime was disposed).");
    const w = this.workers[0];
    w.port.ref();
    try {
      return await w.send(m);
    } finally {
      if (!this.terminated) w.port.unref();
    }
  }

  private async post(units: Call[][], scratchBytes: readonly number[], before?: () => void, out?: OutPart): Promise<void> {
    if (this.terminated) throw new Error("This runtime's workers were terminated (the runtime was disposed).");
    if (units.length === 0 && out === undefined) return before?.();
    const mem = this.mem;
    const blocks: number[][] = [];
    // this job's counter: the next unit, the units done. A worker that reads it after the job has ended takes
    // nothing (a counter shared by all jobs would hand it a unit of the next job, with this job's calls)
    const shared = new SharedArrayBuffer(8);
    const counter = new Int32Array(shared);
    try {
      for (let t = 0; t < this.size; t++) blocks.push(scratchBytes.map((b) => mem.alloc(b, 64)));
      for (const w of this.workers) w.port.ref();
      const sends = this.workers.map((w, i) =>
        w.send({ type: "job", units, scratch: blocks[i + 1], counter: shared, out: i === 0 ? out : undefined }),
      );
      let failure: { error: unknown } | undefined;
      try {
        before?.();
        runUnits(this.caller, units, blocks[0], counter);
      } catch (error) {
        Atomics.store(counter, 0, units.length); // the workers take no more units
        failure = { error };
      }
      // Every unit done (the caller's loop has used the counter up, so none is left to take): the job is over,
      // whatever the workers' replies (a worker that took no unit replies later, "done"; one whose unit failed
      // left the count short; a dead worker still fails the job below, as before)
      // (not when the first worker copies a result out: the next job's units overwrite what it copies from)
      const alone = out === undefined && Atomics.load(counter, 1) === units.length;
      if (failure === undefined && alone && this.workers.every((w) => w.failed === null)) {
        for (const p of sends) p.catch(() => undefined); // a crash after this point fails the next job
        this.endedAlone++;
        return;
      }
      // every worker settled before the scratch is freed: one failing must not free what the others still use
      const settled = await Promise.allSettled(sends);
      if (failure !== undefined) throw failure.error;
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
    } finally {
      if (!this.terminated) for (const w of this.workers) w.port.unref();
      for (const b of blocks) for (const p of b) mem.dealloc(p);
    }
  }

  /** End every worker now (a job under way fails). Idempotent. */
  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    for (const w of this.workers) {
      // the job under way fails first: Deno's worker_threads report the exit inside terminate() itself
      w.fail(new Error("This runtime's workers were terminated (the runtime was disposed)."));
      w.port.terminate();
    }
    for (const s of this.scratch) this.mem.dealloc(s);
    this.scratch.length = 0;
  }
}

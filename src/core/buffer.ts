// F32Buffer: f32 values that live in the runtime's linear memory, so kernels write results there directly
// (no copy out to a JS array). `view()` makes a fresh Float32Array over them: memory growth detaches old
// views, so take a view after the call that fills the buffer and do not keep it across calls that allocate.
import { errors } from "./errors.js";
import type { LinearMemory } from "./memory.js";

const BUFFERS = new WeakSet<object>();

/** Whether `x` is a real F32Buffer (not a Proxy or a look-alike object). */
export function isF32Buffer(x: unknown): x is F32Buffer {
  return typeof x === "object" && x !== null && BUFFERS.has(x);
}

export class F32Buffer {
  readonly length: number;
  private readonly memory: LinearMemory;
  private ptrValue: number;

  constructor(memory: LinearMemory, length: number) {
    if (!(Number.isInteger(length) && length >= 0)) throw errors.option("length", length, "a non-negative integer");
    this.memory = memory;
    this.length = length;
    this.ptrValue = memory.alloc(length * 4);
    memory.expose(this.ptrValue);
    BUFFERS.add(this);
  }

  /** @internal The memory this buffer lives in (a buffer of another runtime is refused). */
  get owner(): LinearMemory {
    return this.memory;
  }

  /** Byte address in linear memory (valid until dispose). */
  get ptr(): number {
    if (this.ptrValue < 0) throw errors.disposed("buffer");
    return this.ptrValue;
  }

  /** A Float32Array over the buffer, valid until memory next grows. */
  view(): Float32Array {
    const at = this.ptr >>> 2;
    return this.memory.f32().subarray(at, at + this.length);
  }

  dispose(): void {
    if (this.ptrValue < 0) return;
    this.memory.dealloc(this.ptrValue);
    this.ptrValue = -1;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

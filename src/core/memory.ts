// The allocator over the wasm module's linear memory. Blocks are aligned (16 bytes by default, the v128
// width) and taken back on free; free neighbours merge so that allocating and freeing in a loop reuses
// the same bytes and never grows memory. Memory grows on demand, page by page, up to `maxBytes`.
// Views (u8(), f32(), ...) are re-created whenever growth has detached the old buffer: never keep one
// across a call that may allocate.
import { errors } from "./errors.js";

const PAGE = 65536;
const MIN_ALIGN = 16;

interface FreeBlock {
  ptr: number;
  size: number;
}

export class LinearMemory {
  readonly memory: WebAssembly.Memory;
  readonly maxBytes: number;
  private readonly base: number;
  private top: number; // first byte never handed out
  private readonly free: FreeBlock[] = []; // sorted by ptr, never adjacent (merged)
  private readonly live = new Map<number, number>(); // ptr -> size
  private readonly exposed = new Set<number>(); // live blocks callers hold views of (F32Buffers)
  private inUse = 0;
  private buffer: ArrayBuffer;
  private disposed = false;
  private views: { u8: Uint8Array; i32: Int32Array; u32: Uint32Array; f32: Float32Array; u16: Uint16Array } | null = null;

  constructor(memory: WebAssembly.Memory, heapBase: number, maxBytes: number) {
    this.memory = memory;
    this.base = alignUp(heapBase, 64);
    this.top = this.base;
    this.maxBytes = Math.min(maxBytes, 65536 * PAGE);
    this.buffer = memory.buffer;
  }

  /** Bytes held by live allocations. */
  get bytesInUse(): number {
    return this.inUse;
  }

  /** Current size of linear memory in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Allocate `bytes` (rounded up to 16) aligned to `align` (a power of two >= 16). Returns the pointer. */
  alloc(bytes: number, align = MIN_ALIGN): number {
    if (this.disposed) throw errors.runtimeDisposed();
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw errors.option("bytes", bytes, "a non-negative integer");
    const size = alignUp(Math.max(bytes, 1), MIN_ALIGN);
    align = Math.max(align, MIN_ALIGN);
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      const ptr = alignUp(block.ptr, align);
      if (ptr + size > block.ptr + block.size) continue;
      // keep what lies before and after the aligned block free
      const before = { ptr: block.ptr, size: ptr - block.ptr };
      const after = { ptr: ptr + size, size: block.ptr + block.size - ptr - size };
      const keep = [before, after].filter((b) => b.size > 0);
      this.free.splice(i, 1, ...keep);
      return this.take(ptr, size);
    }
    let ptr = alignUp(this.top, align);
    const end = ptr + size;
    if (end > this.maxBytes) throw errors.outOfMemory(bytes, this.inUse, this.maxBytes);
    this.ensure(end, bytes);
    if (ptr > this.top) this.release(this.top, ptr - this.top);
    this.top = end;
    return this.take(ptr, size);
  }

  /** A new arena for one call's blocks (see Scratch). */
  scratch(): Scratch {
    return new Scratch(this);
  }

  /** Give a block back. Freeing a pointer twice, or one never allocated, throws. */
  dealloc(ptr: number): void {
    if (this.disposed) return; // the runtime went first: its memory goes with it, and dispose() stays safe
    const size = this.live.get(ptr);
    if (size === undefined) throw errors.badPointer(ptr);
    this.live.delete(ptr);
    this.exposed.delete(ptr);
    this.inUse -= size;
    this.release(ptr, size);
  }

  /** Mark a live block as one callers hold views of (an F32Buffer): such views may be passed back in. */
  expose(ptr: number): void {
    if (!this.live.has(ptr)) throw errors.badPointer(ptr);
    this.exposed.add(ptr);
  }

  /** Whether bytes [offset, offset + bytes) lie inside one live exposed block. */
  isExposed(offset: number, bytes: number): boolean {
    for (const ptr of this.exposed) {
      if (offset >= ptr && offset + bytes <= ptr + this.live.get(ptr)!) return true;
    }
    return false;
  }

  /** Size of a live block. */
  sizeOf(ptr: number): number {
    const size = this.live.get(ptr);
    if (size === undefined) throw errors.badPointer(ptr);
    return size;
  }

  u8(): Uint8Array {
    return this.v().u8;
  }
  u16(): Uint16Array {
    return this.v().u16;
  }
  i32(): Int32Array {
    return this.v().i32;
  }
  u32(): Uint32Array {
    return this.v().u32;
  }
  f32(): Float32Array {
    return this.v().f32;
  }

  /** The runtime is gone: every later allocation and view throws, so no table, buffer or rope works on. */
  dispose(): void {
    this.disposed = true;
    this.views = null;
  }

  private v() {
    if (this.disposed) throw errors.runtimeDisposed();
    const buf = this.memory.buffer;
    if (this.views === null || this.buffer !== buf) {
      this.buffer = buf;
      this.views = {
        u8: new Uint8Array(buf),
        u16: new Uint16Array(buf),
        i32: new Int32Array(buf),
        u32: new Uint32Array(buf),
        f32: new Float32Array(buf),
      };
    }
    return this.views;
  }

  private take(ptr: number, size: number): number {
    this.live.set(ptr, size);
    this.inUse += size;
    return ptr;
  }

  private ensure(end: number, asked: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    // grow at least by a quarter of what we have, so many small tables do not grow page by page
    const want = Math.min(Math.max(end, have + (have >>> 2)), this.maxBytes);
    const pages = Math.ceil((Math.max(want, end) - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch {
      throw errors.outOfMemory(asked, this.inUse, Math.min(this.maxBytes, have));
    }
  }

  // Insert a free range, merging with neighbours; a range that reaches the top lowers the top instead.
  private release(ptr: number, size: number): void {
    const list = this.free;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].ptr < ptr) lo = mid + 1;
      else hi = mid;
    }
    let block: FreeBlock = { ptr, size };
    const prev = list[lo - 1];
    if (prev !== undefined && prev.ptr + prev.size === ptr) {
      prev.size += size;
      block = prev;
      lo -= 1;
    } else {
      list.splice(lo, 0, block);
    }
    const next = list[lo + 1];
    if (next !== undefined && block.ptr + block.size === next.ptr) {
      block.size += next.size;
      list.splice(lo + 1, 1);
    }
    if (block.ptr + block.size === this.top) {
      this.top = block.ptr;
      list.splice(lo, 1);
    }
  }
}

/**
 * The blocks one call allocates, freed together however the call ends (an arena per call): a call that runs
 * out of memory halfway gives back everything it took. `keep` hands a block over to something that outlives
 * the call (a cache attached to a table).
 */
export class Scratch {
  private readonly held: number[] = [];

  constructor(private readonly mem: LinearMemory) {}

  alloc(bytes: number, align?: number): number {
    const ptr = this.mem.alloc(bytes, align);
    this.held.push(ptr);
    return ptr;
  }

  keep(ptr: number): number {
    const i = this.held.lastIndexOf(ptr);
    if (i >= 0) this.held.splice(i, 1);
    return ptr;
  }

  free(): void {
    for (let i = this.held.length - 1; i >= 0; i--) this.mem.dealloc(this.held[i]);
    this.held.length = 0;
  }
}

export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

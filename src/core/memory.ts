// The allocator over the wasm module's linear memory. Blocks are aligned (16 bytes by default, the v128
// width) and taken back on free; free neighbours merge so that allocating and freeing in a loop reuses
// the same bytes and never grows memory. Memory grows on demand, page by page, up to `maxBytes`.
// Views (u8(), f32(), ...) are re-created whenever growth has detached the old buffer: never keep one
// across a call that may allocate.
//
// Free blocks are kept in size classes (powers of two) and in two maps by start and by end, so that an
// allocation looks at a few blocks of its class or the first of a larger one, and a free merges with its
// neighbours in constant time: no step is linear in the number of holes (a sorted list with first fit took
// 230 us per allocation with 20,000 holes; measured in test/allocator.test.ts).
import { errors } from "./errors.js";

const PAGE = 65536;
const MIN_ALIGN = 16;

// Size class of a free block: floor(log2(size / 16)), sizes being multiples of 16.
const classOf = (size: number) => 31 - Math.clz32(size >>> 4);
const CLASSES = 33;
// Blocks of the request's own class looked at before trying larger classes (they may be too small).
const PROBES = 16;

export class LinearMemory {
  readonly memory: WebAssembly.Memory;
  readonly maxBytes: number;
  private readonly base: number;
  private top: number; // first byte never handed out
  private readonly freeByStart = new Map<number, number>(); // start -> size; free blocks never touch (merged)
  private readonly freeByEnd = new Map<number, number>(); // end -> start
  private readonly bins: Set<number>[] = Array.from({ length: CLASSES }, () => new Set<number>()); // starts by class
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
    const found = this.findFree(size, align);
    if (found >= 0) {
      const blockSize = this.freeByStart.get(found)!;
      this.unlink(found, blockSize);
      const ptr = alignUp(found, align);
      // keep what lies before and after the aligned block free (its neighbours are live: no merging)
      if (ptr > found) this.link(found, ptr - found);
      if (found + blockSize > ptr + size) this.link(ptr + size, found + blockSize - ptr - size);
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

  // A free block that holds `size` bytes at `align`, or -1: a few of the request's own class first (first
  // fits), then the first of each larger class (they fit unless the alignment gap is large), then the rest
  // of its own class.
  private findFree(size: number, align: number): number {
    const fits = (start: number) => alignUp(start, align) + size <= start + this.freeByStart.get(start)!;
    const own = classOf(size);
    let probes = 0;
    for (const start of this.bins[own]) {
      if (fits(start)) return start;
      if (++probes === PROBES) break;
    }
    for (let c = own + 1; c < CLASSES; c++) {
      for (const start of this.bins[c]) {
        if (fits(start)) return start;
        if (align <= MIN_ALIGN) break; // a larger class always fits without an alignment gap
      }
    }
    if (probes < PROBES) return -1;
    for (const start of this.bins[own]) if (fits(start)) return start;
    return -1;
  }

  private link(start: number, size: number): void {
    this.freeByStart.set(start, size);
    this.freeByEnd.set(start + size, start);
    this.bins[classOf(size)].add(start);
  }

  private unlink(start: number, size: number): void {
    this.freeByStart.delete(start);
    this.freeByEnd.delete(start + size);
    this.bins[classOf(size)].delete(start);
  }

  // Give a range back, merging with the free neighbours; a range that reaches the top lowers the top instead.
  private release(ptr: number, size: number): void {
    let start = ptr;
    let end = ptr + size;
    const before = this.freeByEnd.get(start);
    if (before !== undefined) {
      this.unlink(before, start - before);
      start = before;
    }
    const afterSize = this.freeByStart.get(end);
    if (afterSize !== undefined) {
      this.unlink(end, afterSize);
      end += afterSize;
    }
    if (end === this.top) this.top = start;
    else this.link(start, end - start);
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

// Typed arrays from the caller, taken so that nothing they do can reach linear memory. Lengths, buffers and
// element kinds come from the engine's own typed-array getters (a subclass or a Proxy cannot answer for
// them). An array that views this runtime's linear memory (an F32Buffer's view, `lookup(ids, rt.f32Buffer(n))`)
// is detached by any call that grows memory: inputs of that kind are copied out first, outputs are filled in
// JS memory and copied back once the call has allocated all it will. Such a view must lie inside a live
// F32Buffer: a stale view of a freed buffer, or of a table's bytes, would otherwise read or overwrite
// whatever now lives there.
import { errors } from "./errors.js";
import type { LinearMemory } from "./memory.js";

const TypedArray = Object.getPrototypeOf(Int8Array) as { prototype: object };
const getter = (key: PropertyKey) => Object.getOwnPropertyDescriptor(TypedArray.prototype, key)!.get!;
const TAG = getter(Symbol.toStringTag);
const LENGTH = getter("length");
const BUFFER = getter("buffer");
const BYTE_OFFSET = getter("byteOffset");
const BYTE_LENGTH = getter("byteLength");

/** "Float32Array", "Int32Array"... for a genuine typed array (subclasses included); undefined for anything else, Proxies too. */
export function typedArrayKind(x: unknown): string | undefined {
  return typeof x === "object" && x !== null ? (TAG.call(x) as string | undefined) : undefined;
}

/** The engine's own view of a genuine typed array. */
export function typedArrayParts(x: ArrayBufferView): { buffer: ArrayBufferLike; byteOffset: number; byteLength: number; length: number } {
  return { buffer: BUFFER.call(x), byteOffset: BYTE_OFFSET.call(x), byteLength: BYTE_LENGTH.call(x), length: LENGTH.call(x) };
}

/** A plain Float32Array over the same memory as `x` (which must be a genuine Float32Array). */
export function plainF32(x: unknown, name: string): Float32Array {
  if (typedArrayKind(x) !== "Float32Array") throw errors.outKind(name, x);
  const { buffer, byteOffset, length } = typedArrayParts(x as Float32Array);
  return length === 0 ? new Float32Array(0) : new Float32Array(buffer, byteOffset, length);
}

/** A plain Uint8Array over the bytes of an ArrayBuffer or any genuine typed array or DataView. */
export function plainBytes(x: unknown, name: string): Uint8Array {
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (typedArrayKind(x) !== undefined) {
    const { buffer, byteOffset, byteLength } = typedArrayParts(x as Uint8Array);
    return byteLength === 0 ? new Uint8Array(0) : new Uint8Array(buffer, byteOffset, byteLength);
  }
  if (x instanceof DataView) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  throw errors.dataKind(name, x);
}

// Where in linear memory `view` lies (its byte offset), or -1 when it views other memory. Throws unless the
// range lies inside a live F32Buffer (or other block handed to callers) of `mem`.
function wasmOffset(view: ArrayBufferView, mem: LinearMemory, name: string): number {
  if (view.buffer !== mem.memory.buffer) return -1;
  if (!mem.isExposed(view.byteOffset, view.byteLength)) throw errors.strayView(name, view.byteOffset, view.byteLength);
  return view.byteOffset;
}

/** f32 input: a plain Float32Array that no allocation can detach (a copy when `x` views linear memory). */
export function f32In(x: unknown, name: string, mem: LinearMemory): Float32Array {
  const plain = plainF32(x, name);
  return wasmOffset(plain, mem, name) < 0 ? plain : plain.slice();
}

/** Byte input: a plain Uint8Array that no allocation can detach (a copy when `x` views linear memory). */
export function bytesIn(x: unknown, name: string, mem: LinearMemory): Uint8Array {
  const plain = plainBytes(x, name);
  return wasmOffset(plain, mem, name) < 0 ? plain : plain.slice();
}

/**
 * Where an operation writes `length` f32 values: the caller's `out` (checked), or a new array. The operation
 * fills `array`, which is always JS memory; `finish()` returns the result, copying it into linear memory
 * first when `out` views it (call it after the operation's last allocation).
 */
export class F32Out {
  readonly array: Float32Array;
  private readonly at: number;
  private readonly given: Float32Array | undefined;

  constructor(
    private readonly mem: LinearMemory,
    out: unknown,
    name: string,
    length: number,
    detail: string,
    /** Whether the operation reads `array` before writing it (in-place calls such as rope.apply). */
    inPlace = false,
  ) {
    if (out === undefined) {
      this.array = new Float32Array(length);
      this.at = -1;
      return;
    }
    const plain = plainF32(out, name);
    this.given = out as Float32Array;
    if (plain.length !== length) throw errors.outLength(name, plain.length, length, detail);
    this.at = wasmOffset(plain, mem, name);
    this.array = this.at < 0 ? plain : inPlace ? plain.slice() : new Float32Array(length);
  }

  finish(): Float32Array {
    if (this.at < 0) return this.given ?? this.array;
    const view = this.mem.f32().subarray(this.at >>> 2, (this.at >>> 2) + this.array.length);
    view.set(this.array);
    return view;
  }
}

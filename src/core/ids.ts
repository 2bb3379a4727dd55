// Token ids (and positions) from the caller, taken once: the length is read once and every element once, in
// one pass, into a fresh Uint32Array that only bitembed holds. Whatever the caller's array does later (a
// Proxy whose length changes, element getters that allocate, grow memory or dispose a table) cannot change
// what reaches wasm: only the snapshot is ever copied into linear memory.
import { errors } from "./errors.js";
import { typedArrayKind, typedArrayParts } from "./arrays.js";

export type Ids = Int32Array | Uint32Array | readonly number[];

// Longer id lists would not fit the n * 4 bytes of linear memory a call copies them into.
const MAX_IDS = 2 ** 30;

export function checkIdsKind(ids: unknown, name = "ids"): asserts ids is Ids {
  const kind = typedArrayKind(ids);
  if (!(kind === "Int32Array" || kind === "Uint32Array" || (kind === undefined && Array.isArray(ids)))) {
    throw name === "ids" ? errors.idsKind(ids) : errors.positionsKind(name, ids);
  }
}

/**
 * The values of `ids` as a new Uint32Array, each checked to be an integer in [0, limit) (throwing on the first
 * that is not, naming its position). `bad` builds the error (ids and positions word it differently).
 */
export function snapshotU32(
  values: unknown,
  name: string,
  limit: number,
  bad: (value: unknown, index: number) => Error,
): Uint32Array {
  checkIdsKind(values, name);
  const kind = typedArrayKind(values);
  if (kind !== undefined) {
    // a genuine typed array: its own length and elements, through a plain view (no getter of a subclass runs)
    const { buffer, byteOffset, length } = typedArrayParts(values as Int32Array);
    if (length === 0) return new Uint32Array(0);
    const plain = kind === "Int32Array" ? new Int32Array(buffer, byteOffset, length) : new Uint32Array(buffer, byteOffset, length);
    const out = new Uint32Array(length);
    for (let i = 0; i < length; i++) {
      const v = plain[i];
      // `v >>> 0 === v` holds only for integers in [0, 2^32)
      if (!(v >>> 0 === v && v < limit)) throw bad(v, i);
      out[i] = v;
    }
    return out;
  }
  const array = values as readonly unknown[];
  const n = array.length; // read once: a Proxy may answer differently next time
  if (!(typeof n === "number" && Number.isSafeInteger(n) && n >= 0 && n <= MAX_IDS)) {
    throw errors.option(`${name}.length`, n, `an integer in [0, ${MAX_IDS}]`);
  }
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const v = array[i]; // read once
    if (!(typeof v === "number" && v >>> 0 === v && v < limit)) throw bad(v, i);
    out[i] = v;
  }
  return out;
}

/** Ids checked against `vocab` and snapshotted (see snapshotU32). */
export function snapshotIds(ids: unknown, vocab: number, name = "ids"): Uint32Array {
  return snapshotU32(ids, name, vocab, (v, i) => errors.idOutOfRange(v, i, vocab, name));
}

const PLAIN: Record<string, new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<number>> = {
  Int32Array, Uint32Array, Float32Array, Float64Array, Int8Array, Uint8Array, Int16Array, Uint16Array,
};

/**
 * The elements of an array or typed array, each read once (the length once too), into a plain array only
 * bitembed holds: what the caller's array does afterwards, or while being read, cannot change it.
 */
export function readOnce(values: ArrayLike<unknown>, name: string): unknown[] {
  const kind = typedArrayKind(values);
  if (kind !== undefined && PLAIN[kind] !== undefined) {
    const { buffer, byteOffset, length } = typedArrayParts(values as unknown as ArrayBufferView & { length: number });
    return length === 0 ? [] : Array.from(new PLAIN[kind](buffer, byteOffset, length));
  }
  const n = values.length;
  if (!(typeof n === "number" && Number.isSafeInteger(n) && n >= 0 && n <= MAX_IDS)) {
    throw errors.option(`${name}.length`, n, `an integer in [0, ${MAX_IDS}]`);
  }
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = values[i];
  return out;
}

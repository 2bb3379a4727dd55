// Positions from the caller (token positions, token types), checked and copied into linear memory as u32.
import { errors } from "../core/errors.js";

export type Positions = Int32Array | Uint32Array | readonly number[];

export function checkPositionsKind(positions: unknown, name: string): asserts positions is Positions {
  if (!(positions instanceof Int32Array || positions instanceof Uint32Array || Array.isArray(positions))) {
    throw errors.positionsKind(name, positions);
  }
}

/** Copy into `dest` (a u32 view) at `at`, throwing on the first value that is not an integer in [0, limit). */
export function copyPositions(values: Positions, name: string, dest: Uint32Array, at: number, limit = 2 ** 32): void {
  checkPositionsKind(values, name);
  const n = values.length;
  if (values instanceof Uint32Array && limit === 2 ** 32) {
    dest.set(values, at);
    return;
  }
  for (let i = 0; i < n; i++) {
    const v = values[i];
    // `v >>> 0 === v` holds only for integers in [0, 2^32): it rejects NaN, fractions, negatives, strings
    if (!(typeof v === "number" && v >>> 0 === v && v < limit)) throw errors.badPosition(name, v, i, limit);
    dest[at + i] = v;
  }
}

export function maxOf(view: Uint32Array, at: number, n: number): number {
  let max = 0;
  for (let i = at; i < at + n; i++) if (view[i] > max) max = view[i];
  return max;
}

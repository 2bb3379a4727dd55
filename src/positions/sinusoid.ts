// Positions from the caller (token positions, token types), read once into a checked Uint32Array (see core/ids.ts).
import { errors } from "../core/errors.js";
import { checkIdsKind, snapshotU32 } from "../core/ids.js";

export type Positions = Int32Array | Uint32Array | readonly number[];

export function checkPositionsKind(positions: unknown, name: string): asserts positions is Positions {
  checkIdsKind(positions, name);
}

/** The values as a new Uint32Array, read once, each an integer in [0, limit) (see snapshotU32). */
export function snapshotPositions(values: unknown, name: string, limit = 2 ** 32): Uint32Array {
  return snapshotU32(values, name, limit, (v, i) => errors.badPosition(name, v, i, limit));
}

export function maxOf(view: Uint32Array, at: number, n: number): number {
  let max = 0;
  for (let i = at; i < at + n; i++) if (view[i] > max) max = view[i];
  return max;
}

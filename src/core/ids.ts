// Token ids from the caller, checked and copied into linear memory as u32 in one pass.
import { errors } from "./errors.js";

export type Ids = Int32Array | Uint32Array | readonly number[];

export function checkIdsKind(ids: unknown): asserts ids is Ids {
  if (!(ids instanceof Int32Array || ids instanceof Uint32Array || Array.isArray(ids))) throw errors.idsKind(ids);
}

/** Copy ids into `dest` (a u32 view) at `at`, throwing on the first id that is not an integer in [0, vocab). */
export function copyIds(ids: Ids, vocab: number, dest: Uint32Array, at: number): void {
  const n = ids.length;
  for (let i = 0; i < n; i++) dest[at + i] = checkedId(ids, i, vocab);
}

/** The id at position i, checked: an integer in [0, vocab). `id >>> 0 === id` holds only for integers in
 *  [0, 2^32): it rejects NaN, fractions, negatives and non-numbers. */
export function checkedId(ids: Ids, i: number, vocab: number): number {
  const id = ids[i];
  if (!(typeof id === "number" && id >>> 0 === id && id < vocab)) throw errors.idOutOfRange(id, i, vocab);
  return id;
}

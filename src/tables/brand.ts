// Which objects are real tables: every EmbeddingTable registers itself here when built. Operations check a
// table they are given (or `this`) against it before reading any of its fields, so a Proxy or a look-alike
// object cannot hand a kernel a pointer or a shape of its choosing.
import { errors } from "../core/errors.js";
import type { Runtime } from "../core/runtime.js";

const TABLES = new WeakSet<object>();

export function registerTable(table: object): void {
  TABLES.add(table);
}

export function isTable(x: unknown): boolean {
  return typeof x === "object" && x !== null && TABLES.has(x);
}

/** Throw unless `x` is a real table (of `rt`, when given). */
export function checkTable(x: unknown, name: string, rt?: Runtime): void {
  if (!isTable(x)) throw errors.tableKind(name, x);
  if (rt !== undefined && (x as { runtime: Runtime }).runtime !== rt) throw errors.otherRuntime(name, "a table");
}

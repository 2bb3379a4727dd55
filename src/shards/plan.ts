// How many shards a head needs under a per-shard memory budget, and their row ranges. A shard holds its rows
// as the mode that serves them needs them: the fast-mode tiled copy where the format has one (q1_0: the
// packed size; the other fast formats: 4-bit planes and an f32 scale per block and 16 rows), else the packed
// rows; per row it also needs 8 bytes of logits (in wasm and in JS), and a fixed scratch (the 1 MiB chunk
// tiled at load, the projection's slices). The runtime's own memory (isolate, JS heap, wasm code, request
// buffers) comes off the budget first: `reserveBytes`, default 24 MiB.
// Keys: V vocab, D dim, R rows per shard (a multiple of 16: whole fast-mode tiles).
import { errors } from "../core/errors.js";
import { formatInfo } from "../formats/registry.js";
import { supportsFast } from "../project/fast.js";

export interface PlanShardsOptions {
  vocab: number;
  dim: number;
  format: string;
  /** Memory one shard may use in all (a Worker / Durable Object: 128 MiB). */
  budgetBytes: number;
  /** Taken off the budget for the runtime itself (default 24 MiB). */
  reserveBytes?: number;
}

export interface ShardPlan {
  shards: number;
  ranges: { start: number; end: number }[];
  mode: "fast" | "exact";
  /** Bytes of one packed row. */
  rowBytes: number;
  /** Bytes the largest shard holds for its rows (the tiled copy in fast mode, the packed rows otherwise). */
  heldBytes: number;
  /** heldBytes + logits + scratch + reserve: what the largest shard is expected to use at its peak. */
  peakBytes: number;
}

const MiB = 2 ** 20;
const SCRATCH_BYTES = 2 * MiB; // the load chunk (1 MiB) and the projection's slices and tables

export function planShards(options: PlanShardsOptions): ShardPlan {
  const { vocab, dim, format, budgetBytes } = options ?? ({} as PlanShardsOptions);
  const f = formatInfo(format);
  if (!(Number.isInteger(vocab) && vocab > 0)) throw errors.notPositiveInt("vocab", vocab);
  if (!(Number.isInteger(dim) && dim > 0)) throw errors.notPositiveInt("dim", dim);
  if (!(typeof budgetBytes === "number" && budgetBytes > 0)) throw errors.option("budgetBytes", budgetBytes, "a number of bytes > 0");
  const reserve = options.reserveBytes ?? 24 * MiB;
  if (!(typeof reserve === "number" && reserve >= 0)) throw errors.option("reserveBytes", reserve, "a number of bytes >= 0");
  const blocks = Math.ceil(dim / f.blockElems);
  const rowBytes = blocks * f.blockBytes;
  const mode = supportsFast(format) ? "fast" : "exact";
  // bytes held per 16 rows: fast mode's tiled copy (see src/project/fast.ts), or 16 packed rows
  const held16 =
    mode === "fast" && f.fast
      ? blocks * (f.fast.planes * (f.blockElems >> 3) * 16 + (f.fast.kernel === "signs" ? 32 : 64))
      : 16 * rowBytes;
  const per16 = held16 + 16 * 8;
  const room = budgetBytes - reserve - SCRATCH_BYTES;
  const maxRows = Math.floor(room / per16) * 16;
  if (maxRows < 16) throw errors.shardBudget(budgetBytes, reserve, per16 / 16, format, dim);
  const shards = Math.ceil(vocab / maxRows);
  // as even as whole tiles allow: every shard but the last holds `rows`
  const rows = Math.min(maxRows, Math.ceil(vocab / shards / 16) * 16);
  const ranges: { start: number; end: number }[] = [];
  for (let start = 0; start < vocab; start += rows) ranges.push({ start, end: Math.min(vocab, start + rows) });
  const heldBytes = (rows / 16) * held16;
  return { shards: ranges.length, ranges, mode, rowBytes, heldBytes, peakBytes: heldBytes + rows * 8 + SCRATCH_BYTES + reserve };
}

// table.pool(): bags of ids reduced to one vector each, with PyTorch nn.EmbeddingBag's semantics, in wasm
// (assembly/pool.ts) over the packed rows: no f32 copy of the rows is ever made.
//   bag b = ids[offsets[b] .. offsets[b + 1]) (the last bag runs to the end); offsets[0] = 0, non-decreasing
//   sum: sum_i w_i row_i; mean: (sum_i w_i row_i) / count; max: elementwise max; empty bags give zeros
//   paddingId: those ids are skipped, and not counted by mean; normalize: each result divided by its L2 norm
// `weights` work with sum (as EmbeddingBag's per_sample_weights) and with mean, where the weighted rows are
// averaged over the count (model2vec's weighted mean; EmbeddingBag refuses weights with mean).
// Keys: N ids, B bags, D dim.
import { F32Buffer, isF32Buffer } from "../core/buffer.js";
import { errors } from "../core/errors.js";
import { checkIdsKind, readOnce, type Ids } from "../core/ids.js";
import { F32Out } from "../core/arrays.js";
import { checkTable } from "./brand.js";
import type { Runtime } from "../core/runtime.js";
import type { EmbeddingTable } from "./table.js";

export const POOL_MODES = Object.freeze(["mean", "sum", "max"] as const);
export type PoolMode = (typeof POOL_MODES)[number];

/** Where each bag starts in `ids`: B starts, offsets[0] = 0 (EmbeddingBag's 1-D input with offsets). */
export type Offsets = Int32Array | Uint32Array | readonly number[];

export interface PoolOptions {
  /** Default "mean", as EmbeddingBag's. */
  mode?: PoolMode;
  /** One weight per id (N), for "sum" and "mean" (EmbeddingBag's per_sample_weights). */
  weights?: Float32Array | Float64Array | readonly number[];
  /** Ids equal to this are skipped (EmbeddingBag's padding_idx); a bag of only padding gives zeros. */
  paddingId?: number;
  /** Divide each bag's vector by its L2 norm (zero vectors stay zero). */
  normalize?: boolean;
  /** Write here (B * D values) instead of allocating; an F32Buffer keeps the result in linear memory. */
  out?: Float32Array | F32Buffer;
}

const MODE_CODE: Record<PoolMode, number> = { sum: 0, mean: 1, max: 2 };
// Rows decoded per step (about 32 KB of f32, in L1), and bags per output slice copied out to JS.
const SCRATCH_BYTES = 1 << 15;
const OUT_BYTES = 1 << 18;

export function poolRows(table: EmbeddingTable, rt: Runtime, idsIn: Ids, offsetsIn: Offsets, options: PoolOptions = {}): Float32Array {
  checkTable(table, "table");
  void table.ptr; // throws once disposed
  // every value the caller supplies is read once, here, before linear memory is touched (see core/ids.ts)
  const { mode: modeOption, weights: weightsIn, paddingId, normalize, out: outIn } = options ?? {};
  checkIdsKind(idsIn);
  if (!(offsetsIn instanceof Int32Array || offsetsIn instanceof Uint32Array || Array.isArray(offsetsIn))) throw errors.offsetsKind(offsetsIn);
  const mode = modeOption ?? "mean";
  if (!POOL_MODES.includes(mode)) throw errors.unknownMode(mode, POOL_MODES);
  const ids = readOnce(idsIn, "ids");
  const offsets = readOnce(offsetsIn, "offsets");
  const n = ids.length;
  const bags = offsets.length;
  const dim = table.dim;
  const vocab = table.vocab;
  checkOffsets(offsets, n);
  let weights: unknown[] | undefined;
  if (weightsIn !== undefined) {
    if (!(weightsIn instanceof Float32Array || weightsIn instanceof Float64Array || Array.isArray(weightsIn))) throw errors.weightsKind(weightsIn);
    if (mode === "max") throw errors.weightsMode(mode);
    weights = readOnce(weightsIn, "weights");
    if (weights.length !== n) throw errors.outLength("weights", weights.length, n, "one per id");
  }
  if (paddingId !== undefined && !(Number.isInteger(paddingId) && paddingId >= 0 && paddingId < vocab)) {
    throw errors.option("paddingId", paddingId, `an integer in [0, ${vocab - 1}]`);
  }
  const expected = bags * dim;
  const mem = rt.memory;
  let buffer: F32Buffer | undefined;
  let target: F32Out | undefined;
  if (outIn instanceof F32Buffer) {
    if (!isF32Buffer(outIn)) throw errors.notOurs("out", "an F32Buffer", outIn);
    if (outIn.owner !== mem) throw errors.otherRuntime("out", "an F32Buffer");
    if (outIn.length !== expected) throw errors.outLength("out", outIn.length, expected, `${bags} bags x dim ${dim}`);
    buffer = outIn;
  } else {
    target = new F32Out(mem, outIn, "out", expected, `${bags} bags x dim ${dim}`);
  }
  const tablePtr = table.ptr;
  if (bags === 0) return buffer !== undefined ? buffer.view() : target!.finish();

  const scratchBlocks = mem.scratch();
  const alloc = (bytes: number) => scratchBlocks.alloc(bytes);
  try {
    const idsPtr = alloc(Math.max(4, n * 4));
    const offPtr = alloc((bags + 1) * 4);
    const wPtr = weights === undefined ? 0 : alloc(Math.max(4, n * 4));
    // ids checked and copied, padding left out; offsets rewritten to the kept ids
    {
      const u32 = mem.u32();
      const f32 = mem.f32();
      const at = idsPtr >>> 2;
      const wAt = wPtr >>> 2;
      const pad = paddingId ?? -1;
      let kept = 0;
      for (let b = 0; b < bags; b++) {
        u32[(offPtr >>> 2) + b] = kept;
        const end = b + 1 < bags ? (offsets[b + 1] as number) : n;
        for (let i = offsets[b] as number; i < end; i++) {
          const id = ids[i];
          if (!(typeof id === "number" && id >>> 0 === id && id < vocab)) throw errors.idInBag(id, i, b, vocab);
          if (id === pad) continue;
          if (weights !== undefined) {
            const w = weights[i];
            if (typeof w !== "number") throw errors.badWeight(i, w, b);
            f32[wAt + kept] = w;
          }
          u32[at + kept++] = id;
        }
      }
      u32[(offPtr >>> 2) + bags] = kept;
    }
    const scratchRows = Math.max(1, Math.min(64, Math.floor(SCRATCH_BYTES / (dim * 4))));
    const block = alloc(scratchRows * dim * 4 + 16);
    const scratch = (block + 15) & ~15;
    const pool = (first: number, count: number, into: number) =>
      rt.kernels.pool_rows(
        table.info.id, tablePtr, table.rowBytes, dim, idsPtr, offPtr + first * 4, count,
        wPtr, MODE_CODE[mode], normalize ? 1 : 0, scratch, scratchRows, into,
      );
    if (buffer !== undefined) {
      pool(0, bags, buffer.ptr);
      return buffer.view();
    }
    const result = target!.array;
    const chunk = Math.max(1, Math.min(bags, Math.floor(OUT_BYTES / (dim * 4))));
    const slice = alloc(chunk * dim * 4);
    for (let b = 0; b < bags; b += chunk) {
      const count = Math.min(chunk, bags - b);
      pool(b, count, slice);
      result.set(mem.f32().subarray(slice >>> 2, (slice >>> 2) + count * dim), b * dim);
    }
  } finally {
    scratchBlocks.free();
  }
  return target!.finish();
}

// offsets[0] = 0, each an integer, non-decreasing, at most N; none at all only when there are no ids.
function checkOffsets(offsets: readonly unknown[], n: number): void {
  if (offsets.length === 0) {
    if (n > 0) throw errors.noBags(n);
    return;
  }
  let previous = 0;
  for (let b = 0; b < offsets.length; b++) {
    const v = offsets[b];
    if (!(typeof v === "number" && Number.isInteger(v) && v >= 0)) throw errors.badOffset(b, v, "expected a non-negative integer");
    if (b === 0 && v !== 0) throw errors.badOffset(0, v, "the first bag must start at 0 (as in EmbeddingBag)");
    if (v < previous) throw errors.badOffset(b, v, `smaller than offsets[${b - 1}] = ${previous}; offsets must not decrease`);
    if (v > n) throw errors.badOffset(b, v, `past the end of \`ids\` (${n} ids)`);
    previous = v;
  }
}

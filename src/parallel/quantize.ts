// tableFromF32Async and quantizeAsync: encodeRows (formats/codec.ts) with the slices encoded by the pool's
// workers and the caller. Rows are encoded independently, block by block, so any cut gives the same bytes. The
// caller copies the next round of f32 slices into linear memory while the workers start on the current one
// (two sets of slots), then encodes slices of it too. quantizeAsync's result is built by the first worker
// (pool.ts OutPart): at the start of each round it copies the last round's packed bytes out of a staging block
// per slot into it, and hands it over whole at the end (transferred, not copied). That keeps the result's
// fresh pages (faulted in at 1.5-2 GB/s on this VM: 0.4 s for 661 MB, at times 2 s) off the caller, which has
// the f32 to copy in, and lets 3 or more threads split the copies (BENCHMARKS.md, threads, has the times).
// tableFromF32Async's table is not zeroed first (the encoders write every byte): a serial pass less.
// With the caller computing, threads: 2 is one worker and the caller (two workers and a caller that only
// copied made 1.4x: three threads on two cores, the caller's copies, the serial part, got two thirds of a core).
// Keys: V vocab, D dim, Dp = D padded to whole blocks, R rows per slice.
import { CHUNK_BYTES } from "../formats/codec.js";
import { errors } from "../core/errors.js";
import { blocksPerRow, formatInfo, rowBytes, type FormatInfo } from "../formats/registry.js";
import { checkDims, EmbeddingTable, type TableFromF32Options } from "../tables/table.js";
import type { Runtime } from "../core/runtime.js";
import type { QuantizeOptions } from "../formats/quantize.js";
import type { Call, WorkerPool } from "./pool.js";
import { minParallelWork } from "./crossover.js";

// Slices per thread in one round (a slice: CHUNK_BYTES of f32). A round ends at a barrier that costs a wake-up
// round trip and waits for the slowest thread's last slice; a q8_0 slice encodes in ~0.1 ms, so a round must
// hold many of them. 32 per thread: 8 MiB of f32 per thread per set of slots (4 to 32 measured the same).
const SLICES_PER_THREAD = 32;

function checked(values: unknown, options: TableFromF32Options): { info: FormatInfo; vocab: number; dim: number } {
  const { vocab, dim, format } = options ?? ({} as TableFromF32Options);
  const info = formatInfo(format);
  checkDims(vocab, dim);
  if (!(values instanceof Float32Array)) throw errors.outKind("values", values);
  if (values.length !== vocab * dim) throw errors.outLength("values", values.length, vocab * dim, `vocab ${vocab} x dim ${dim}`);
  return { info, vocab, dim };
}

function poolFor(rt: Runtime, values: Float32Array): WorkerPool | undefined {
  const pool = rt.pool;
  return pool !== undefined && values.length * 4 >= minParallelWork("quantize") ? pool : undefined;
}

/** rt.quantizeAsync: rt.quantize's bytes on the runtime's threads. */
export async function quantizeAsync(rt: Runtime, values: Float32Array, options: Omit<QuantizeOptions, "runtime">): Promise<Uint8Array> {
  const { info, vocab, dim } = checked(values, options);
  const pool = poolFor(rt, values);
  if (pool === undefined) return rt.quantize(values, options);
  return (await encodeRowsAsync(rt, pool, info, values, vocab, dim, "js")) as Uint8Array;
}

/** rt.tableFromF32Async: rt.tableFromF32's table, byte for byte, on the runtime's threads. */
export async function tableFromF32Async(rt: Runtime, values: Float32Array, options: TableFromF32Options): Promise<EmbeddingTable> {
  const { info, vocab, dim } = checked(values, options);
  const pool = poolFor(rt, values);
  if (pool === undefined) return rt.tableFromF32(values, options);
  // not zeroed: the encoders write every byte (on the threads, in parallel), or the table is disposed
  const table = EmbeddingTable.allocate(rt, { vocab, dim, format: options.format }, false);
  try {
    await encodeRowsAsync(rt, pool, info, values, vocab, dim, table.ptr);
  } catch (e) {
    table.dispose();
    throw e;
  }
  return table;
}

async function encodeRowsAsync(
  rt: Runtime, pool: WorkerPool, info: FormatInfo, values: Float32Array, vocab: number, dim: number, dest: number | "js",
): Promise<Uint8Array | undefined> {
  const mem = rt.memory;
  const paddedDim = blocksPerRow(info, dim) * info.blockElems;
  const bytesPerRow = rowBytes(info, dim);
  const sliceRows = Math.min(vocab, Math.max(1, Math.floor(CHUNK_BYTES / (paddedDim * 4))));
  const slices = Math.ceil(vocab / sliceRows);
  const perRound = Math.min(slices, pool.size * SLICES_PER_THREAD);
  const owned: number[] = [];
  // a JS result: built by the first worker (pool.takeOut)
  const out = typeof dest === "number" ? undefined : pool.newOut();
  try {
    // two sets of slots: f32 in, and (a JS destination) packed bytes out
    const sets = [0, 1].map(() => {
      const input: number[] = [];
      const staging: number[] = [];
      for (let i = 0; i < perRound; i++) {
        input.push(mem.alloc(sliceRows * paddedDim * 4));
        owned.push(input[i]);
        if (out !== undefined) {
          staging.push(mem.alloc(sliceRows * bytesPerRow));
          owned.push(staging[i]);
        }
      }
      return { input, staging };
    });
    // copy round `first` (slices first..) into set s; its units
    const fill = (s: number, first: number): Call[][] => {
      const units: Call[][] = [];
      const heap = mem.f32();
      for (let i = 0; i < perRound && first + i < slices; i++) {
        const r = (first + i) * sliceRows;
        const rows = Math.min(sliceRows, vocab - r);
        const at = sets[s].input[i] >>> 2;
        if (paddedDim === dim) {
          heap.set(values.subarray(r * dim, (r + rows) * dim), at);
        } else {
          for (let j = 0; j < rows; j++) {
            heap.set(values.subarray((r + j) * dim, (r + j + 1) * dim), at + j * paddedDim);
            heap.fill(0, at + j * paddedDim + dim, at + (j + 1) * paddedDim);
          }
        }
        const to = typeof dest === "number" ? dest + r * bytesPerRow : sets[s].staging[i];
        units.push([[info.encode, sets[s].input[i], rows * paddedDim, to]]);
      }
      return units;
    };
    // the copies (source, length, offset in the result) from the staging of round `first` (set s)
    const copiesOf = (s: number, first: number, count: number): number[] => {
      const copies: number[] = [];
      for (let i = 0; i < count; i++) {
        const r = (first + i) * sliceRows;
        const rows = Math.min(sliceRows, vocab - r);
        copies.push(sets[s].staging[i], rows * bytesPerRow, r * bytesPerRow);
      }
      return copies;
    };
    let units = fill(0, 0);
    let copies: number[] = [];
    for (let first = 0, s = 0; first < slices; first += perRound, s ^= 1) {
      // while the caller copies the next round's f32 in (set s ^ 1: its input is no longer read), the first
      // worker copies the last round's bytes out (set s ^ 1's staging, written again only next round); then
      // both encode this round's slices
      let next: Call[][] = [];
      const part = out === undefined ? undefined : { id: out, bytes: first === 0 ? vocab * bytesPerRow : undefined, copies };
      await pool.run(units, [], () => {
        if (first + perRound < slices) next = fill(s ^ 1, first + perRound);
      }, part);
      copies = copiesOf(s, first, units.length);
      units = next;
    }
    return out === undefined ? undefined : await pool.takeOut(out, copies);
  } catch (e) {
    if (out !== undefined) pool.dropOut(out).catch(() => undefined);
    throw e;
  } finally {
    for (const p of owned) mem.dealloc(p);
  }
}

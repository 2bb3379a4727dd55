// projectAsync and topkAsync: the projection of project.ts cut into units of rows (exact) or of 16-row tiles
// (fast) that the caller and the workers take by a shared counter (guided sizes: units.ts). Units follow the single-thread call's slices (the
// same passes of vectors, rows split only at multiples of the decode tile and of 4 inside a slice), so each row
// meets the same kernel path: logits are the same bits. Top-k: the workers write a pass's logits to linear
// memory and the caller pushes them, in row order, into the same heaps the single-thread call fills (so ties
// break the same way). Mode "ggml" over a format with integer dots quantizes the activations on the calling
// thread (as project does), then the workers run project_int on their rows (each row on its own: the same bits).
// Mode "ggml" over the other formats, calls below MIN_PARALLEL_WORK (crossover.ts), and exact or ggml mode on a table with rows
// of non-finite block scale (the single-thread call patches those one vector at a time) run on the calling thread.
// Keys: V vocab, D dim, N hidden vectors.
import { errors } from "../core/errors.js";
import {
  checkK, checkMode, checkPost, Heaps, hiddenCount, nonFiniteOf, prepareHidden, project, sliceGeometry, topk,
  type ProjectOptions, type TopK, type TopKOptions,
} from "../project/project.js";
import { FAST_BATCH, type FastHead } from "../project/fast.js";
import { f32In } from "../core/arrays.js";
import type { EmbeddingTable } from "../tables/table.js";
import type { Call, WorkerPool } from "./pool.js";
import { minParallelWork } from "./crossover.js";
import { fastHeadAsync } from "./fast-tile.js";
import { guidedLength, minUnit } from "./units.js";

export { setMinParallelWork } from "./crossover.js";

type Post = { scale: number; cap: number };
const NO_POST: Post = { scale: 1, cap: 0 };

/** The pool a call over `table` with `n` vectors in `mode` runs on, or undefined: the calling thread. */
export function poolFor(table: EmbeddingTable, n: number, mode: string): WorkerPool | undefined {
  const pool = table.runtime.pool;
  if (pool === undefined || (mode === "ggml" && !table.info.intDot)) return undefined;
  if (mode !== "fast" && nonFiniteOf(table).length > 0) return undefined;
  return table.byteLength * n < minParallelWork(mode === "fast" ? "fast" : "exact") ? undefined : pool;
}

// A call small enough for the calling thread may still need the fast tiled copy of a big table: the workers build it.
async function tiledBeforehand(table: EmbeddingTable, mode: string): Promise<void> {
  const pool = table.runtime.pool;
  if (mode === "fast" && pool !== undefined) await fastHeadAsync(table, pool);
}

/** table.projectAsync: table.project's logits, bit for bit, on the runtime's threads. */
export async function projectAsync(table: EmbeddingTable, hidden: Float32Array, options: ProjectOptions = {}): Promise<Float32Array> {
  table.ptr; // throws when disposed
  const { vocab, dim } = table;
  const mem = table.runtime.memory;
  const n = hiddenCount(hidden, dim);
  const mode = checkMode(options?.mode, table.format);
  const pool = poolFor(table, n, mode);
  if (pool === undefined) {
    await tiledBeforehand(table, mode);
    return project(table, hidden, options);
  }
  hidden = f32In(hidden, "hidden", mem);
  const post = checkPost(options.scale, options.softcap);
  const out = options.out;
  if (out !== undefined && !(out instanceof Float32Array)) throw errors.outKind("out", out);
  if (out !== undefined && out.length !== n * vocab) throw errors.outLength("out", out.length, n * vocab, `${n} hidden vectors x vocab ${vocab}`);
  // a new result is allocated while the workers start on the first pass, before the caller takes its units,
  // and its pages touched there: their first-touch faults (0.1-0.2 ms for 128256 floats on this VM) would
  // otherwise come in the serial copy after the last pass
  let result = out;
  const allocate = (): Float32Array => (result ??= new Float32Array(n * vocab).fill(0));
  const scratch = mem.scratch();
  try {
    const { x: xPtr, act } = prepareHidden(table, hidden, n, mode, scratch);
    if (mode === "fast") {
      const sink = (o: number, stride: number, v0: number, m: number) => {
        const f32 = mem.f32();
        const r = allocate();
        for (let v = 0; v < m; v++) r.set(f32.subarray((o >>> 2) + v * stride, (o >>> 2) + v * stride + vocab), (v0 + v) * vocab);
      };
      await fastPasses(await fastHeadAsync(table, pool), xPtr, n, pool, post, sink, allocate);
    } else {
      const sink = (o: number, b0: number, nb: number) => allocate().set(mem.f32().subarray(o >>> 2, (o >>> 2) + nb * vocab), b0 * vocab);
      await exactPasses(table, xPtr, act, n, pool, postCalls(post), sink, allocate);
    }
  } finally {
    scratch.free();
  }
  return allocate();
}

/** table.topkAsync: table.topk's ids and scores, bit for bit (ties too), on the runtime's threads. */
export async function topkAsync(table: EmbeddingTable, hidden: Float32Array, k: number, options: TopKOptions = {}): Promise<TopK> {
  table.ptr;
  const { vocab, dim } = table;
  const n = hiddenCount(hidden, dim);
  checkK(k, vocab);
  const mode = checkMode(options?.mode, table.format);
  const pool = poolFor(table, n, mode);
  if (pool === undefined) {
    await tiledBeforehand(table, mode);
    return topk(table, hidden, k, options);
  }
  const mem = table.runtime.memory;
  hidden = f32In(hidden, "hidden", mem);
  const { scale, cap } = checkPost(options.scale, options.softcap);
  const scratch = mem.scratch();
  try {
    const { x: xPtr, act } = prepareHidden(table, hidden, n, mode, scratch);
    const h = new Heaps(table, n, k, scratch);
    if (mode === "fast") {
      const head = await fastHeadAsync(table, pool);
      await fastPasses(head, xPtr, n, pool, NO_POST, (ptr, stride, v0, m) => h.push({ ptr, stride, b0: v0, nb: m, r0: 0, rows: head.vocab }));
    } else {
      await exactPasses(table, xPtr, act, n, pool, postCalls(NO_POST), (ptr, b0, nb) => h.push({ ptr, stride: vocab, b0, nb, r0: 0, rows: vocab }));
    }
    return h.finish(scale, cap);
  } finally {
    scratch.free();
  }
}

/** table.argmaxAsync. */
export async function argmaxAsync(table: EmbeddingTable, hidden: Float32Array, options: TopKOptions = {}): Promise<Int32Array> {
  return (await topkAsync(table, hidden, 1, options)).ids;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Kernel calls a unit runs on each vector's scores of its rows (at `ptr`: rows r0..r0 + rows) once computed. */
export type AfterRows = (ptr: number, r0: number, rows: number) => Call[];

const postCalls = (post: Post): AfterRows =>
  post.scale !== 1 || post.cap > 0 ? (ptr, _r0, rows) => [["logits_post", ptr, rows, post.scale, post.cap]] : () => [];

// Exact mode (and mode "ggml" with integer dots: `act` the activation records, else 0): each pass of vectors
// (as forEachSlice makes them) becomes one job; its logits land in a [nb x V] block of linear memory handed to
// `sink` before the next pass. `after`: what each unit runs on its rows' scores (logits_post, nearest's metric).
// `whileRunning`: caller work done once the first pass is posted, before the caller takes its units.
export async function exactPasses(
  table: EmbeddingTable, xPtr: number, act: number, n: number, pool: WorkerPool, after: AfterRows,
  sink: (ptr: number, b0: number, nb: number) => void, whileRunning?: () => void,
): Promise<void> {
  const { vocab, dim, rowBytes } = table;
  const { batch, nbMax, tile, stride } = sliceGeometry(vocab, dim, n);
  const mem = table.runtime.memory;
  const k = table.runtime.kernels;
  const needsDecode = !table.info.inPlace && !act;
  const actBytes = act ? k.activation_bytes(table.info.id, dim) : 0;
  // rows split only at multiples of the decode tile and of 4 (the kernels' row groups) inside a slice
  const align = (tile * 4) / gcd(tile, 4);
  const min = minUnit(vocab, pool.size);
  let out = 0;
  let iota = 0;
  try {
    out = mem.alloc(nbMax * vocab * 4);
    if (needsDecode) {
      iota = mem.alloc(tile * 4);
      const u32 = mem.u32();
      for (let i = 0; i < tile; i++) u32[(iota >>> 2) + i] = i;
    }
    const tablePtr = table.ptr;
    for (let b0 = 0; b0 < n; b0 += batch) {
      const nb = Math.min(batch, n - b0);
      const units: Call[][] = [];
      // guided units (units.ts), each also ending where its slice ends
      for (let u = 0; u < vocab; ) {
        const sliceEnd = Math.min(vocab, (Math.floor(u / stride) + 1) * stride);
        const rows = Math.min(sliceEnd - u, guidedLength(vocab - u, pool.size, align, min));
        const unit: Call[] = [
          act
            ? ["project_int", table.info.id, tablePtr + u * rowBytes, rowBytes, rows, act + b0 * actBytes, nb, dim, out + u * 4, vocab, "$0"]
            : ["project_rows", table.info.id, tablePtr + u * rowBytes, rowBytes, rows, xPtr + b0 * dim * 4, nb, dim, needsDecode ? "$0" : 0, iota, tile, out + u * 4, vocab],
        ];
        for (let b = 0; b < nb; b++) unit.push(...after(out + (b * vocab + u) * 4, u, rows));
        units.push(unit);
        u += rows;
      }
      const scratchBytes = act ? [k.activation_scratch_bytes(table.info.id, dim)] : needsDecode ? [tile * dim * 4] : [];
      await pool.run(units, scratchBytes, b0 === 0 ? whileRunning : undefined);
      sink(out, b0, nb);
    }
  } finally {
    if (out) mem.dealloc(out);
    if (iota) mem.dealloc(iota);
  }
}

// Fast mode: FastHead.projectAt with the lookup kernel's tiles cut into units; the activation tables
// (fast_lut) and the rows kept apart run on the caller.
async function fastPasses(
  head: FastHead, xPtr: number, n: number, pool: WorkerPool, post: Post,
  sink: (ptr: number, stride: number, v0: number, m: number) => void, whileRunning?: () => void,
): Promise<void> {
  const rt = head.runtime;
  const mem = rt.memory;
  const k = rt.kernels;
  const tiled = head.ptr;
  const { tiles, blocks, f, hasApart } = head.shape;
  const { dim } = head;
  const tileBytes = head.tileBytes;
  const dp = blocks * f.blockElems;
  const nb = Math.min(n, FAST_BATCH);
  const lutStride = dp * 4;
  const pairs = f.blockElems >> 3;
  const stride = tiles * 16;
  const planes = f.fast.kernel === "planes";
  const hasSums = f.fast.k !== 0 ? 1 : 0;
  const splitBytes = blocks * f.fast.planes * pairs * 32;
  const min = minUnit(tiles, pool.size);
  const postInUnits = !hasApart && (post.scale !== 1 || post.cap > 0);
  const owned: number[] = [];
  const alloc = (bytes: number) => {
    const p = mem.alloc(bytes);
    owned.push(p);
    return p;
  };
  try {
    const xPad = dp > dim ? alloc(nb * dp * 4) : 0;
    const lut = alloc(nb * lutStride);
    const scale = alloc(nb * blocks * 4);
    const sums = alloc(nb * blocks * 4);
    const o = alloc(nb * stride * 4);
    const apart = hasApart ? alloc(dim * 4 + 16) : 0;
    for (let v0 = 0; v0 < n; v0 += nb) {
      const m = Math.min(nb, n - v0);
      const xv = xPtr + v0 * dim * 4;
      let x = xv;
      if (xPad) {
        const u8 = mem.u8();
        for (let v = 0; v < m; v++) {
          u8.copyWithin(xPad + v * dp * 4, xv + v * dim * 4, xv + (v + 1) * dim * 4);
          u8.fill(0, xPad + (v * dp + dim) * 4, xPad + (v + 1) * dp * 4);
        }
        x = xPad;
      }
      k.fast_lut(x, m, dp, f.blockElems, f.fast.mult, f.fast.k, lut, scale, sums);
      const units: Call[][] = [];
      for (let t0 = 0, count = 0; t0 < tiles; t0 += count) {
        count = guidedLength(tiles - t0, pool.size, 1, min);
        const src = tiled + t0 * tileBytes;
        const dst = o + t0 * 64;
        let call: Call;
        if (!planes) {
          call = m === 1
            ? ["fast_signs_project1", src, count, blocks, lut, scale, dst]
            : ["fast_signs_projectn", src, count, blocks, lut, lutStride, scale, m, stride, "$0", dst];
        } else {
          call = m === 1
            ? ["fast_project1", src, count, blocks, f.fast.planes, pairs, lut, scale, sums, hasSums, dst]
            : ["fast_projectn", src, count, blocks, f.fast.planes, pairs, lut, lutStride, scale, sums, hasSums, m, stride, "$0", dst];
        }
        const unit: Call[] = [call];
        if (postInUnits) for (let v = 0; v < m; v++) unit.push(["logits_post", dst + v * stride * 4, count * 16, post.scale, post.cap]);
        units.push(unit);
      }
      await pool.run(units, m === 1 ? [] : [splitBytes], v0 === 0 ? whileRunning : undefined);
      if (apart) head.projectApart(xv, m, o, stride, apart);
      if (!postInUnits && (post.scale !== 1 || post.cap > 0)) k.logits_post(o, m * stride, post.scale, post.cap);
      sink(o, stride, v0, m);
    }
  } finally {
    for (const p of owned) mem.dealloc(p);
  }
}

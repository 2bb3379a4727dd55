// Projection mode "fast": lookup-table (T-MAC) kernels (assembly/fast/) for the formats whose registry entry has
// fast traits. A FastHead holds a row-tiled copy of a table's bits (16 rows per tile, bit-planes, 4 weights to a
// nibble, each block's d as f32), built once; every call turns the hidden vectors into int8 tables of the 16
// signed sums of each group of 4 activations (one scale per weight block) and looks them up 16 rows at a time.
// Keys: V vocab, D dim, Dp = D padded to whole blocks, N hidden vectors, T = ceil(V / 16), B blocks per row.
//
// Memory: the tiled copy takes about as much as the packed table (d as f32: 64 bytes per 16 rows and block;
// q1_0's "signs" kernels keep |d| as f16 with the sign folded into the bits, so its copy is exactly the packed
// size). A table owns its FastHead (built on first fast call, freed by dispose or releaseFast). A head kept only
// for projection needs no table: FastHead.fromBytes (JS bytes) and FastHead.fromStream (pieces as they arrive)
// tile a chunk of rows at a time through a small scratch, so wasm memory holds the tiled copy alone (151936 x
// 4096 q1_0: 87.5 MB; test/runtimes/workerd.test.ts builds it under a 128 MiB cap); fastTopk (project.ts) ranks
// its rows. Rows with an Inf or NaN block scale (which the q1_0 tiled layout cannot hold, and whose lookups would
// not match exact mode in any format) are computed by the exact kernel, so they come out as exact mode gives them.
//
// Accuracy (derivation in test/reference/fast.ts): with s_b = max_g sum_k |x_4g+k| / 127 over block b,
//   |fast - exact| <= sum_b |d_b| * mult * (2^P - 1) * (E / 4) * s_b / 2   (+ f32 rounding, ~1e-6 relative)
// for a row whose block b has scale d_b (E elements per block, P bit-planes; mult = 1 for q1_0, 1/2 else);
// q1_0 adds 8 |d_b| s_b per block, as it averages pairs of lookups (assembly/fast/signs.ts): 24 |d_b| s_b in all.
// Speed (bench/fast.mjs, Node 20): q1_0 128256 x 4096, one vector ~8 ms on a 2-core EPYC VM, 13.7-16.7 ms on a
// 2-core Xeon VM whose wasm streaming of the 74 MB tiled copy alone took 7.6-8.9 ms. The core loop spends ~19
// instructions per 16 rows x 8 weights: 3 to split nibbles, 2 swizzles plus V8's range fix-up of each (a paddusb
// and a constant load; i8x16.relaxed_swizzle drops them where the engine has relaxed SIMD), 1 average and 3 to
// keep the sums exact in 16-bit lanes.
import { FAST_FORMAT_NAMES, formatInfo, type FastTraits, type FormatInfo } from "../formats/registry.js";
import { errors } from "../core/errors.js";
import { nonFiniteRows } from "../formats/nonfinite.js";
import type { Runtime } from "../core/runtime.js";
import type { Call } from "../parallel/pool.js";

type FastFormat = FormatInfo & { readonly fast: FastTraits };

/** Vectors looked up per pass over the tiles (each pass reads the tiled table once). */
export const FAST_BATCH = 8;

/** Receives a batch's logits in linear memory: vector v0 + v's logit of row r is at ptr + 4 * (v * stride + r). */
export type FastLogitsSink = (batch: { ptr: number; stride: number; v0: number; m: number }) => void;

/** Packed rows in a runtime's memory (an EmbeddingTable, or anything laid out the same way). */
export interface PackedTable {
  readonly runtime: Runtime;
  readonly ptr: number;
  readonly rowBytes: number;
  readonly vocab: number;
  readonly dim: number;
  readonly format: string;
}

export function supportsFast(format: unknown): boolean {
  return typeof format === "string" && (FAST_FORMAT_NAMES as readonly string[]).includes(format);
}

function fastFormat(format: unknown): FastFormat {
  if (!supportsFast(format)) throw errors.unknownFormat(format, FAST_FORMAT_NAMES);
  return formatInfo(format) as FastFormat;
}

// Bytes per 16 rows and block of the tiled copy: the index vectors, then d (f32; the signs kernels: |d| as f16).
function tileBlockBytes(f: FastFormat): number {
  return f.fast.planes * (f.blockElems >> 3) * 16 + (f.fast.kernel === "signs" ? 32 : 64);
}

export class FastHead {
  readonly vocab: number;
  readonly dim: number;
  readonly format: string;
  /** Bytes of the tiled copy. */
  readonly byteLength: number;
  private readonly rt: Runtime;
  private readonly f: FastFormat;
  private readonly blocks: number;
  private readonly tiles: number;
  private ptrValue: number;
  // rows with an Inf or NaN block scale, computed by the exact kernel (formats/nonfinite.ts): their packed bytes
  private readonly apart = new Map<number, Uint8Array>();

  // An empty tiled copy for V rows (filled by tileRows).
  private constructor(rt: Runtime, vocab: number, dim: number, format: string) {
    const f = fastFormat(format);
    this.rt = rt;
    this.f = f;
    this.vocab = vocab;
    this.dim = dim;
    this.format = format;
    this.blocks = Math.ceil(dim / f.blockElems);
    this.tiles = Math.ceil(vocab / 16);
    this.byteLength = this.tiles * this.blocks * tileBlockBytes(f);
    this.ptrValue = rt.memory.alloc(this.byteLength, 64);
  }

  /** A head tiled from packed rows already in wasm memory (the rows stay where they are; the caller owns the head). */
  static of(table: PackedTable): FastHead {
    const head = FastHead.untiled(table);
    try {
      head.tileRows(table.ptr, 0, table.vocab);
    } catch (e) {
      head.dispose();
      throw e;
    }
    return head;
  }

  /**
   * A head from packed bytes alone, which stay in JS: they are tiled `chunkRows` rows at a time (a multiple
   * of 16; default: what fits in 1 MiB) through a wasm scratch, so linear memory holds only the tiled copy and
   * one chunk (a 151936 x 4096 q1_0 head: 87.5 MB, under a Worker's 128 MB).
   */
  static fromBytes(rt: Runtime, options: FastHeadOptions & { data: ArrayBufferView | ArrayBuffer }): FastHead {
    const filler = new Filler(rt, options);
    try {
      filler.push(options.data, "data");
      return filler.finish("data");
    } finally {
      filler.free();
    }
  }

  /**
   * A head from packed bytes arriving in pieces of any size (a fetch or R2 body, a file stream): each chunk of
   * rows is tiled as soon as it is complete, so neither JS nor wasm ever holds the packed table whole.
   */
  static async fromStream(
    rt: Runtime,
    options: FastHeadOptions,
    source: AsyncIterable<ArrayBufferView | ArrayBuffer> | Iterable<ArrayBufferView | ArrayBuffer> | ReadableStream<Uint8Array>,
  ): Promise<FastHead> {
    const filler = new Filler(rt, options);
    try {
      if (source && typeof (source as ReadableStream).getReader === "function") {
        const reader = (source as ReadableStream<Uint8Array>).getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            filler.push(value, "source");
          }
        } finally {
          reader.releaseLock();
        }
      } else {
        for await (const piece of source as AsyncIterable<ArrayBufferView | ArrayBuffer>) filler.push(piece, "source");
      }
      return filler.finish("source");
    } finally {
      filler.free();
    }
  }

  // An empty head for a table's rows, once their row size is checked.
  private static untiled(table: PackedTable): FastHead {
    const f = fastFormat(table.format);
    const expected = Math.ceil(table.dim / f.blockElems) * f.blockBytes;
    if (table.rowBytes !== expected) {
      throw errors.dataLength("rowBytes", table.rowBytes, expected, `${table.format} rows of dim ${table.dim}`);
    }
    return new FastHead(table.runtime, table.vocab, table.dim, table.format);
  }

  /**
   * @internal FastHead.of with the tiling cut into units of `tilesPerUnit` whole tiles that `run` carries out
   * (the worker pool: each unit is one tiling kernel call on its own rows, so the copy has the same bytes);
   * `apartRows`: the table's rows with a non-finite block scale (nonFiniteOf; what tileRows would find).
   */
  static async tiledBy(
    table: PackedTable, apartRows: readonly number[], tilesPerUnit: number, run: (units: Call[][]) => Promise<void>,
  ): Promise<FastHead> {
    const head = FastHead.untiled(table);
    try {
      const { f, blocks, tiles } = head;
      const src = table.ptr;
      const rowBytes = table.rowBytes;
      const units: Call[][] = [];
      for (let t0 = 0; t0 < tiles; t0 += tilesPerUnit) {
        const r0 = t0 * 16;
        const rows = Math.min(tilesPerUnit * 16, table.vocab - r0);
        const at = src + r0 * rowBytes;
        const out = head.ptr + t0 * head.tileBytes;
        units.push([
          f.fast.kernel === "planes"
            ? ["fast_tile", f.id, at, rowBytes, rows, blocks, f.blockElems, f.blockBytes, f.fast.planes, out]
            : ["fast_tile_signs", at, rowBytes, rows, blocks, out],
        ]);
      }
      await run(units);
      const bytes = head.rt.memory.u8();
      for (const r of apartRows) head.apart.set(r, bytes.slice(src + r * rowBytes, src + (r + 1) * rowBytes));
    } catch (e) {
      head.dispose();
      throw e;
    }
    return head;
  }

  /** @internal A head whose tiled copy is filled chunk by chunk (Filler). */
  static empty(rt: Runtime, vocab: number, dim: number, format: string): FastHead {
    return new FastHead(rt, vocab, dim, format);
  }

  /** @internal Tile `rows` packed rows at `src`, rows r0.. of the head (r0 a multiple of 16: whole tiles). */
  tileRows(src: number, r0: number, rows: number): void {
    const { f, blocks } = this;
    const rowBytes = blocks * f.blockBytes;
    const out = this.ptr + (r0 / 16) * blocks * tileBlockBytes(f);
    const k = this.rt.kernels;
    if (f.fast.kernel === "planes") {
      k.fast_tile(f.id, src, rowBytes, rows, blocks, f.blockElems, f.blockBytes, f.fast.planes, out);
      // an Inf or NaN scale tiles, but the lookups would not give what the exact kernel gives: apart too
      const bytes = this.rt.memory.u8();
      for (const r of nonFiniteRows(bytes, src, rowBytes, rows, f)) {
        this.apart.set(r0 + r, bytes.slice(src + r * rowBytes, src + (r + 1) * rowBytes));
      }
      return;
    }
    if (k.fast_tile_signs(src, rowBytes, rows, blocks, out) === 0) return;
    const mem = this.rt.memory;
    const ids = mem.alloc(rows * 4);
    try {
      const n = k.fast_signs_nonfinite_rows(src, rowBytes, rows, blocks, ids);
      const u32 = mem.u32();
      const bytes = mem.u8();
      for (let i = 0; i < n; i++) {
        const r = u32[(ids >>> 2) + i];
        this.apart.set(r0 + r, bytes.slice(src + r * rowBytes, src + (r + 1) * rowBytes));
      }
    } finally {
      mem.dealloc(ids);
    }
  }

  /** The runtime whose memory holds the tiled copy. */
  get runtime(): Runtime {
    return this.rt;
  }

  /** Pointer to the tiled copy (valid until dispose). */
  get ptr(): number {
    if (this.ptrValue < 0) throw errors.disposed("fast head");
    return this.ptrValue;
  }

  /**
   * Logits of `n` hidden vectors ([n x dim]) into `out` ([n x vocab]), or, when `out` is a function, handed to
   * it batch by batch while still in linear memory. Inputs are trusted (table.project and fastTopk check them).
   */
  project(hidden: Float32Array, n: number, out: Float32Array | FastLogitsSink): void {
    const mem = this.rt.memory;
    const xPtr = mem.alloc(n * this.dim * 4);
    try {
      mem.f32().set(hidden.subarray(0, n * this.dim), xPtr >>> 2);
      this.projectAt(xPtr, n, out);
    } finally {
      mem.dealloc(xPtr);
    }
  }

  /**
   * @internal project() for hidden vectors already in linear memory at `xPtr` ([n x dim] f32, NaN-checked by
   * the caller); logits are scaled and soft-capped in wasm when asked, as exact mode does.
   */
  projectAt(xPtr: number, n: number, out: Float32Array | FastLogitsSink, post: { scale: number; cap: number } = NO_POST): void {
    const tiled = this.ptr;
    const { f, blocks, tiles, dim, vocab } = this;
    const mem = this.rt.memory;
    const k = this.rt.kernels;
    const dp = blocks * f.blockElems;
    const nb = Math.min(n, FAST_BATCH);
    const lutStride = dp * 4; // 16 bytes per group of 4
    const pairs = f.blockElems >> 3;
    const stride = tiles * 16;
    const planes = f.fast.kernel === "planes";
    const hasSums = f.fast.k !== 0 ? 1 : 0;
    const blocksList: number[] = [];
    const alloc = (bytes: number) => {
      const p = mem.alloc(bytes);
      blocksList.push(p);
      return p;
    };
    try {
      // vectors padded to whole blocks (a copy inside wasm) when dim is not a multiple of the block
      const xPad = dp > dim ? alloc(nb * dp * 4) : 0;
      const lut = alloc(nb * lutStride);
      const scale = alloc(nb * blocks * 4);
      const sums = alloc(nb * blocks * 4);
      const split = alloc(blocks * f.fast.planes * pairs * 32); // the nibbles of one tile
      const o = alloc(nb * stride * 4);
      // the exact kernel's scratch for rows computed apart (one decoded row, its id 0)
      const apart = this.apart.size > 0 ? alloc(dim * 4 + 16) : 0;
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
        if (!planes) {
          if (m === 1) k.fast_signs_project1(tiled, tiles, blocks, lut, scale, o);
          else k.fast_signs_projectn(tiled, tiles, blocks, lut, lutStride, scale, m, stride, split, o);
        } else if (m === 1) k.fast_project1(tiled, tiles, blocks, f.fast.planes, pairs, lut, scale, sums, hasSums, o);
        else k.fast_projectn(tiled, tiles, blocks, f.fast.planes, pairs, lut, lutStride, scale, sums, hasSums, m, stride, split, o);
        if (apart) this.projectApart(xv, m, o, stride, apart);
        if (post.scale !== 1 || post.cap > 0) k.logits_post(o, m * stride, post.scale, post.cap);
        if (typeof out === "function") {
          out({ ptr: o, stride, v0, m });
          continue;
        }
        const res = mem.f32();
        for (let v = 0; v < m; v++) {
          const at = (o >>> 2) + v * stride;
          out.set(res.subarray(at, at + vocab), (v0 + v) * vocab);
        }
      }
    } finally {
      for (const p of blocksList) mem.dealloc(p);
    }
  }

  /** @internal Tiles, blocks per row and the format's traits (the threaded calls cut the same work). */
  get shape(): { tiles: number; blocks: number; f: FastFormat; hasApart: boolean } {
    return { tiles: this.tiles, blocks: this.blocks, f: this.f, hasApart: this.apart.size > 0 };
  }

  /** @internal Bytes of the tiled copy per tile (16 rows). */
  get tileBytes(): number {
    return this.blocks * tileBlockBytes(this.f);
  }

  /** @internal The rows kept apart, through the exact kernel (one row at a time from a copy of its bytes), into the batch. */
  projectApart(x: number, m: number, o: number, stride: number, scratch: number): void {
    const { rt, f, dim } = this;
    const rowBytes = this.blocks * f.blockBytes;
    const row = rt.memory.alloc(rowBytes);
    try {
      const iota = scratch + dim * 4;
      rt.memory.u32()[iota >>> 2] = 0;
      for (const [r, bytes] of this.apart) {
        rt.memory.u8().set(bytes, row);
        // one vector at a time: the direct dot (ggml's d * block sum), whatever the batch
        for (let v = 0; v < m; v++) {
          rt.kernels.project_rows(f.id, row, rowBytes, 1, x + v * dim * 4, 1, dim, scratch, iota, 1, o + (v * stride + r) * 4, stride);
        }
      }
    } finally {
      rt.memory.dealloc(row);
    }
  }

  dispose(): void {
    if (this.ptrValue < 0) return;
    this.rt.memory.dealloc(this.ptrValue);
    this.ptrValue = -1;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

const NO_POST = { scale: 1, cap: 0 };

export interface FastHeadOptions {
  vocab: number;
  dim: number;
  format: string;
  /** Rows tiled per step, a multiple of 16 (default: what fits in 1 MiB). */
  chunkRows?: number;
}

// Fills a new head's tiled copy from packed bytes pushed in pieces of any size: a scratch of one chunk of rows
// in wasm memory, tiled whenever it is full. The tiled copy is allocated first, the scratch above it (freed,
// it leaves no hole under the head). On any error the head is disposed.
class Filler {
  private readonly head: FastHead;
  private readonly rowBytes: number;
  private readonly chunkBytes: number;
  private readonly total: number;
  private scratch = 0;
  private filled = 0; // bytes in the scratch
  private r0 = 0; // first row of the scratch
  private done = false;

  constructor(
    private readonly rt: Runtime,
    options: FastHeadOptions,
  ) {
    const { vocab, dim, format } = options;
    const f = fastFormat(format);
    if (!(Number.isInteger(vocab) && vocab > 0)) throw errors.notPositiveInt("vocab", vocab);
    if (!(Number.isInteger(dim) && dim > 0)) throw errors.notPositiveInt("dim", dim);
    const rowBytes = Math.ceil(dim / f.blockElems) * f.blockBytes;
    let chunk = options.chunkRows ?? Math.max(16, Math.floor(CHUNK_BYTES / rowBytes / 16) * 16);
    if (!(Number.isInteger(chunk) && chunk > 0 && chunk % 16 === 0)) {
      throw errors.option("chunkRows", options.chunkRows, "a positive multiple of 16");
    }
    chunk = Math.min(chunk, Math.ceil(vocab / 16) * 16);
    this.rowBytes = rowBytes;
    this.chunkBytes = chunk * rowBytes;
    this.total = vocab * rowBytes;
    this.head = FastHead.empty(rt, vocab, dim, format);
    try {
      this.scratch = rt.memory.alloc(this.chunkBytes);
    } catch (e) {
      this.head.dispose();
      throw e;
    }
  }

  push(piece: ArrayBufferView | ArrayBuffer, name: string): void {
    const bytes = asBytes(piece, name);
    const { head } = this;
    if (this.r0 * this.rowBytes + this.filled + bytes.byteLength > this.total) {
      throw errors.dataLength(name, this.r0 * this.rowBytes + this.filled + bytes.byteLength, this.total, this.what());
    }
    for (let off = 0; off < bytes.byteLength; ) {
      const take = Math.min(bytes.byteLength - off, this.chunkBytes - this.filled);
      this.rt.memory.u8().set(bytes.subarray(off, off + take), this.scratch + this.filled);
      this.filled += take;
      off += take;
      if (this.filled === this.chunkBytes) {
        head.tileRows(this.scratch, this.r0, this.chunkBytes / this.rowBytes);
        this.r0 += this.chunkBytes / this.rowBytes;
        this.filled = 0;
      }
    }
  }

  finish(name: string): FastHead {
    const got = this.r0 * this.rowBytes + this.filled;
    if (got !== this.total) throw errors.dataLength(name, got, this.total, this.what());
    if (this.filled > 0) this.head.tileRows(this.scratch, this.r0, this.filled / this.rowBytes);
    this.done = true;
    return this.head;
  }

  /** Free the scratch; the head too unless finish() handed it out. */
  free(): void {
    if (this.scratch) this.rt.memory.dealloc(this.scratch);
    this.scratch = 0;
    if (!this.done) this.head.dispose();
  }

  private what(): string {
    const { vocab, dim, format } = this.head;
    return `${vocab} rows x ${this.rowBytes} bytes per ${format} row of dim ${dim}`;
  }
}

function asBytes(piece: unknown, name: string): Uint8Array {
  if (piece instanceof Uint8Array) return piece;
  if (piece instanceof ArrayBuffer) return new Uint8Array(piece);
  if (ArrayBuffer.isView(piece)) return new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength);
  throw errors.dataKind(name, piece);
}

// Packed rows copied into wasm per tiling step.
const CHUNK_BYTES = 1 << 20;

// Projection mode "fast": T-MAC lookup tables (assembly/tmac.ts) for the low-bit formats q1_0, q2_0, q4_0,
// tq1_0 and tq2_0. A FastHead holds a row-tiled copy of a table's bits (16 rows per tile, bit-planes, 4 weights
// to a nibble, each block's d as f32), built once; every call turns the hidden vectors into int8 tables of the
// 16 signed sums of each group of 4 activations (one scale per weight block) and looks them up 16 rows at a
// time. Keys: V vocab, D dim, Dp = D padded to whole blocks, N hidden vectors, T = ceil(V / 16), B blocks per row.
//
// Memory: the tiled copy takes about as much as the packed table (d as f32: 64 bytes per 16 rows and block;
// q1_0 keeps |d| as f16 with the sign folded into the bits, so its copy is exactly the packed size). A table
// kept only for projection can skip the row layout: FastHead.fromBytes (JS bytes) and FastHead.fromStream
// (pieces as they arrive) tile a chunk of rows at a time through a small scratch, so wasm memory holds the
// tiled copy alone (151936 x 4096 q1_0: 87.5 MB; test/runtimes/workerd.test.ts builds it under a 128 MiB
// cap); fastTopk (project.ts) ranks its rows. q1_0 rows with an Inf or NaN block scale are computed apart,
// as exact mode would (they come out Inf or NaN).
//
// Accuracy (derivation in test/reference/tmac.ts): with s_b = max_g sum_k |x_4g+k| / 127 over block b,
//   |fast - exact| <= sum_b |d_b| * mult * (2^P - 1) * (E / 4) * s_b / 2   (+ f32 rounding, ~1e-6 relative)
// for a row whose block b has scale d_b (E elements per block, P bit-planes; mult = 1 for q1_0, 1/2 else);
// q1_0 adds 8 |d_b| s_b per block, as it averages pairs of lookups (assembly/tmac_q1.ts): 24 |d_b| s_b in all.
// Speed (bench/tmac.mjs, Node 20): q1_0 128256 x 4096, one vector ~8 ms on a 2-core EPYC VM, 13.7-16.7 ms on a
// 2-core Xeon VM whose wasm streaming of the 74 MB tiled copy alone took 7.6-8.9 ms. The core loop spends ~19
// instructions per 16 rows x 8 weights: 3 to split nibbles, 2 swizzles plus V8's range fix-up of each (a paddusb
// and a constant load; i8x16.relaxed_swizzle drops them where the engine has relaxed SIMD), 1 average and 3 to
// keep the sums exact in 16-bit lanes.
import { FORMATS, type Format } from "../formats/registry.js";
import { errors } from "../core/errors.js";
import type { Runtime } from "../core/runtime.js";

/** How each fast format splits into bit-planes: w = d * (mult * sum_p 2^p s_p + k), s_p = +-1. */
interface FastFormat {
  readonly id: number;
  readonly blockElems: number;
  readonly blockBytes: number;
  readonly planes: number;
  readonly mult: number;
  readonly k: number;
}

// see: FORMATS.md (block layouts); codes: q1_0 bit -> 2b - 1; q2_0/tq2_0/tq1_0 code c -> c - 1 with
// c = b0 + 2 b1; q4_0 nibble q -> q - 8 with q = b0 + 2 b1 + 4 b2 + 8 b3.
// Sizes and ids come from THE format table; only the bit-plane split is stated here.
const planesOf = (name: Format, planes: number, mult: number, k: number): FastFormat => {
  const { id, blockElems, blockBytes } = FORMATS[name];
  return { id, blockElems, blockBytes, planes, mult, k };
};
export const FAST_FORMATS: Readonly<Record<string, FastFormat>> = Object.freeze({
  q1_0: planesOf("q1_0", 1, 1, 0),
  q2_0: planesOf("q2_0", 2, 0.5, 0.5),
  q4_0: planesOf("q4_0", 4, 0.5, -0.5),
  tq1_0: planesOf("tq1_0", 2, 0.5, 0.5),
  tq2_0: planesOf("tq2_0", 2, 0.5, 0.5),
});

/** Vectors looked up per pass over the tiles (each pass reads the tiled table once). */
export const FAST_BATCH = 8;

/** Receives a batch's logits in linear memory: vector v0 + v's logit of row r is at ptr + 4 * (v * stride + r). */
export type FastLogitsSink = (batch: { ptr: number; stride: number; v0: number; m: number }) => void;

/** A packed table in a runtime's memory (an EmbeddingTable, or anything laid out the same way). */
export interface PackedTable {
  readonly runtime: Runtime;
  readonly ptr: number;
  readonly rowBytes: number;
  readonly vocab: number;
  readonly dim: number;
  readonly format: string;
  attach?(key: string, ptr: number): void;
  attached?(key: string): number | undefined;
}

export function supportsFast(format: unknown): boolean {
  return typeof format === "string" && Object.prototype.hasOwnProperty.call(FAST_FORMATS, format);
}

function fastFormat(format: unknown): FastFormat {
  if (!supportsFast(format)) throw errors.unknownFormat(format, Object.keys(FAST_FORMATS));
  return FAST_FORMATS[format as string];
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
  private owned: boolean;

  /** Tile `table`'s rows (the table keeps its own bytes). */
  constructor(table: PackedTable) {
    const f = fastFormat(table.format);
    const blocks = Math.ceil(table.dim / f.blockElems);
    if (table.rowBytes !== blocks * f.blockBytes) {
      throw errors.dataLength("rowBytes", table.rowBytes, blocks * f.blockBytes, `${table.format} rows of dim ${table.dim}`);
    }
    this.rt = table.runtime;
    this.f = f;
    this.vocab = table.vocab;
    this.dim = table.dim;
    this.format = table.format;
    this.blocks = blocks;
    this.tiles = Math.ceil(table.vocab / 16);
    this.byteLength = this.tiles * blocks * tileBlockBytes(f);
    this.ptrValue = this.rt.memory.alloc(this.byteLength, 64);
    this.owned = true;
    if (table.ptr !== UNFILLED) this.tileRows(table.ptr, 0, table.vocab);
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

  /** @internal Tile `rows` packed rows at `src`, rows r0.. of the head (r0 a multiple of 16: whole tiles). */
  tileRows(src: number, r0: number, rows: number): void {
    const { f, blocks } = this;
    const rowBytes = blocks * f.blockBytes;
    const out = this.ptrValue + (r0 / 16) * blocks * tileBlockBytes(f);
    const k = this.rt.kernels;
    if (f.id !== Q1_ID) {
      k.tmac_tile(f.id, src, rowBytes, rows, blocks, f.blockElems, f.blockBytes, f.planes, out);
      return;
    }
    if (k.tmac_tile_q1(src, rowBytes, rows, blocks, out) > 0) this.keepNonFinite(src, r0, rows);
  }

  // q1_0 rows with an Inf or NaN block scale (tiled with d = 0): their packed bytes, to compute them apart.
  private readonly nonFinite = new Map<number, Uint8Array>();

  private keepNonFinite(src: number, r0: number, rows: number): void {
    const rowBytes = this.blocks * this.f.blockBytes;
    const bytes = this.rt.memory.u8();
    for (let r = 0; r < rows; r++) {
      const row = bytes.subarray(src + r * rowBytes, src + (r + 1) * rowBytes);
      for (let b = 0; b < this.blocks; b++) {
        if ((row[b * 18 + 1] & 0x7c) === 0x7c) {
          this.nonFinite.set(r0 + r, row.slice());
          break;
        }
      }
    }
  }

  // Logits of the rows kept by keepNonFinite, as exact mode gives them: the sum over their non-finite blocks
  // of d * sum(+-x) (Inf, -Inf or NaN; the finite blocks cannot change that). Written into the batch at o.
  private patchNonFinite(hidden: Float32Array, v0: number, m: number, o: number, stride: number): void {
    const heap = this.rt.memory.f32();
    const { dim } = this;
    for (const [r, row] of this.nonFinite) {
      for (let v = 0; v < m; v++) {
        const x = hidden.subarray((v0 + v) * dim, (v0 + v + 1) * dim);
        let logit = 0;
        for (let b = 0; b < this.blocks; b++) {
          const hi = row[b * 18 + 1];
          if ((hi & 0x7c) !== 0x7c) continue;
          const d = (hi & 3) | row[b * 18] ? NaN : hi & 0x80 ? -Infinity : Infinity;
          let dot = 0;
          for (let j = 0; j < 128 && b * 128 + j < dim; j++) {
            dot += (row[b * 18 + 2 + (j >> 3)] >> (j & 7)) & 1 ? x[b * 128 + j] : -x[b * 128 + j];
          }
          logit += d * dot;
        }
        heap[(o >>> 2) + v * stride + r] = logit;
      }
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
   * it batch by batch while still in linear memory (top-k consumes them there). Inputs are trusted.
   */
  project(hidden: Float32Array, n: number, out: Float32Array | FastLogitsSink): void {
    const tiled = this.ptr;
    const { f, blocks, tiles, dim, vocab } = this;
    const mem = this.rt.memory;
    const k = this.rt.kernels;
    const dp = blocks * f.blockElems;
    const nb = Math.min(n, FAST_BATCH);
    const lutStride = dp * 4; // 16 bytes per group of 4
    const pairs = f.blockElems >> 3;
    const stride = tiles * 16;
    const xPtr = mem.alloc(nb * dp * 4);
    const lut = mem.alloc(nb * lutStride);
    const scale = mem.alloc(nb * blocks * 4);
    const sums = mem.alloc(nb * blocks * 4);
    const split = mem.alloc(blocks * f.planes * pairs * 32); // the nibbles of one tile
    const o = mem.alloc(nb * stride * 4);
    try {
      for (let v0 = 0; v0 < n; v0 += nb) {
        const m = Math.min(nb, n - v0);
        const heap = mem.f32();
        for (let v = 0; v < m; v++) {
          const at = (xPtr >>> 2) + v * dp;
          heap.set(hidden.subarray((v0 + v) * dim, (v0 + v + 1) * dim), at);
          if (dp > dim) heap.fill(0, at + dim, at + dp);
        }
        k.tmac_lut(xPtr, m, dp, f.blockElems, f.mult, f.k, lut, scale, sums);
        if (f.id === Q1_ID) {
          if (m === 1) k.tmac_q1_project1(tiled, tiles, blocks, lut, scale, o);
          else k.tmac_q1_projectn(tiled, tiles, blocks, lut, lutStride, scale, m, stride, split, o);
        } else if (m === 1) k.tmac_project1(tiled, tiles, blocks, f.planes, pairs, lut, scale, sums, f.k !== 0 ? 1 : 0, o);
        else k.tmac_projectn(tiled, tiles, blocks, f.planes, pairs, lut, lutStride, scale, sums, f.k !== 0 ? 1 : 0, m, stride, split, o);
        if (this.nonFinite.size > 0) this.patchNonFinite(hidden, v0, m, o, stride);
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
      for (const p of [xPtr, lut, scale, sums, split, o]) mem.dealloc(p);
    }
  }

  /** Hand the tiled copy to `table`, which frees it on its own dispose. */
  attachTo(table: PackedTable, key: string): void {
    if (!table.attach) return;
    table.attach(key, this.ptr);
    this.owned = false;
  }

  dispose(): void {
    if (this.ptrValue < 0) return;
    if (this.owned) this.rt.memory.dealloc(this.ptrValue);
    this.ptrValue = -1;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

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
    this.head = new FastHead({ runtime: rt, ptr: UNFILLED, rowBytes, vocab, dim, format });
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

// fromBytes: allocate the tiled copy, fill it chunk by chunk afterwards (no valid table pointer is negative).
const UNFILLED = -1;
// Packed rows copied into wasm per tiling step.
const CHUNK_BYTES = 1 << 20;

// Bytes per 16 rows and block of the tiled copy: the index vectors, then d (f32; q1_0: |d| as f16).
function tileBlockBytes(f: FastFormat): number {
  return f.planes * (f.blockElems >> 3) * 16 + (f.id === Q1_ID ? 32 : 64);
}

// q1_0 has kernels of its own (assembly/tmac_q1.ts).
const Q1_ID = FORMATS.q1_0.id;

const ATTACH_KEY = "tmac";
const heads = new WeakMap<object, FastHead>();

/** The table's FastHead, built on first use and kept with the table (freed by its dispose when it can). */
export function fastHead(table: PackedTable): FastHead {
  const cached = heads.get(table);
  if (cached !== undefined) {
    // a table that took ownership answers with the same pointer until it is disposed (then throws)
    if (table.attached === undefined || table.attached(ATTACH_KEY) === cached.ptr) return cached;
  }
  const head = new FastHead(table);
  head.attachTo(table, ATTACH_KEY);
  heads.set(table, head);
  return head;
}

/** Free a table's cached FastHead now (tables with `attach` also free it on their dispose). */
export function releaseFast(table: PackedTable): void {
  const head = heads.get(table);
  if (head === undefined) return;
  heads.delete(table);
  if (table.attached === undefined) head.dispose();
}

/**
 * Logits [n x vocab] of `n` hidden vectors [n x dim] by lookup tables (mode "fast"). Checks lengths; NaN in
 * `hidden` gives meaningless logits (callers that must refuse NaN check first).
 */
export function projectFast(table: PackedTable, hidden: Float32Array, n: number, out: Float32Array): void {
  if (!(hidden instanceof Float32Array)) throw errors.outKind("hidden", hidden);
  if (!(out instanceof Float32Array)) throw errors.outKind("out", out);
  if (!(Number.isInteger(n) && n > 0)) throw errors.notPositiveInt("n", n);
  if (hidden.length !== n * table.dim) throw errors.outLength("hidden", hidden.length, n * table.dim, `${n} vectors x dim ${table.dim}`);
  if (out.length !== n * table.vocab) throw errors.outLength("out", out.length, n * table.vocab, `${n} vectors x vocab ${table.vocab}`);
  fastHead(table).project(hidden, n, out);
}

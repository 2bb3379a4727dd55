// Rope: rotary position embeddings applied in place to x [T, H, D] f32, for any config (pairing, partial
// rotary, scalings). Frequencies are float64, computed once per config (per sequence length for dynamic NTK);
// the wasm builds cos/sin rows with the angle reduced in float64, then rotates with SIMD.
// Keys: T tokens, H heads, D head dim, R rotary dim, F = R/2; a table row is 2R f32 (see assembly/rope.ts).
import { errors } from "../core/errors.js";
import { snapshotPositions, type Positions } from "./sinusoid.js";
import { F32Out, plainF32 } from "../core/arrays.js";
import {
  dynamicBase,
  resolveRopeConfig,
  ropeFrequencies,
  ropeMagnitude,
  type ResolvedRopeConfig,
  type RopeConfig,
  type RopePairing,
  type RopeScaling,
} from "./rope-freqs.js";
import { ropeConfigFromGGUF, ropeConfigFromHF } from "./rope-metadata.js";
import type { Runtime } from "../core/runtime.js";

// Rotate in slices of about this many bytes of x, so the scratch copy stays in cache.
const CHUNK_BYTES = 1 << 18;

const registry =
  typeof FinalizationRegistry !== "undefined"
    ? new FinalizationRegistry<() => void>((release) => release())
    : undefined;

export class Rope {
  readonly headDim: number;
  readonly rotaryDim: number;
  readonly base: number;
  readonly pairing: RopePairing;
  readonly scaling: Readonly<RopeScaling>;
  /** What cos and sin are multiplied by (the YaRN magnitude; 1 for most configs). */
  readonly magnitude: number;

  static configFromGGUF = ropeConfigFromGGUF;
  static configFromHF = ropeConfigFromHF;

  private readonly rt: Runtime;
  private readonly config: ResolvedRopeConfig;
  private readonly freqs: number; // F
  private freqPtr: number; // F f64, padded to an even count
  private freqKey = NaN; // the dynamic base the frequencies in freqPtr are for
  private cachePtr = -1;
  private cacheRows = 0;
  private cacheKey = NaN;
  private readonly held: { freq: number; cache: number }; // what the finalizer frees

  constructor(rt: Runtime, config: RopeConfig) {
    const cfg = resolveRopeConfig(config);
    this.rt = rt;
    this.config = cfg;
    this.headDim = cfg.headDim;
    this.rotaryDim = cfg.rotaryDim;
    this.base = cfg.base;
    this.pairing = cfg.pairing;
    this.scaling = cfg.scaling;
    this.magnitude = ropeMagnitude(cfg);
    this.freqs = cfg.rotaryDim / 2;
    this.freqPtr = rt.memory.alloc((this.freqs + (this.freqs & 1)) * 8);
    const memory = rt.memory;
    const held = { freq: this.freqPtr, cache: -1 };
    this.held = held;
    registry?.register(this, () => {
      memory.dealloc(held.freq);
      if (held.cache >= 0) memory.dealloc(held.cache);
    }, this);
  }

  /** The inverse frequencies used for a call whose largest position is `seqLen - 1` (F float64 values). */
  frequencies(seqLen = 1): Float64Array {
    return ropeFrequencies(this.config, seqLen);
  }

  /**
   * Rotate x [T, heads, headDim] in place, token t at `positions[t]` (any non-negative integers: shifted
   * caches, packed sequences). Returns x.
   */
  apply(x: Float32Array, positions: Positions, heads: number): Float32Array {
    this.check();
    const mem = this.rt.memory;
    plainF32(x, "x");
    if (!(typeof heads === "number" && Number.isInteger(heads) && heads > 0)) throw errors.notPositiveInt("heads", heads);
    const pos = snapshotPositions(positions, "positions"); // the caller's code runs here and only here
    const n = pos.length;
    const tokenFloats = heads * this.headDim;
    const target = new F32Out(mem, x, "x", n * tokenFloats, `${n} positions x ${heads} heads x headDim ${this.headDim}`, true);
    this.check();
    if (n === 0) return target.finish();
    const values = target.array;
    const chunk = Math.max(1, Math.min(n, Math.floor(CHUNK_BYTES / (tokenFloats * 4))));
    const rowBytes = this.rotaryDim * 8;
    let maxPos = 0;
    for (let i = 0; i < n; i++) if (pos[i] > maxPos) maxPos = pos[i];
    const scratchBlocks = mem.scratch();
    try {
      const posPtr = scratchBlocks.alloc(n * 4);
      mem.u32().set(pos, posPtr >>> 2);
      const key = this.useFrequencies(maxPos + 1);
      const cached = this.cachePtr >= 0 && this.cacheKey === key && maxPos < this.cacheRows;
      const scratch = scratchBlocks.alloc(chunk * tokenFloats * 4);
      let table = -1;
      let rows = -1;
      if (!cached) {
        table = scratchBlocks.alloc(chunk * rowBytes);
        rows = scratchBlocks.alloc(chunk * 4);
        const identity = mem.u32();
        for (let i = 0; i < chunk; i++) identity[(rows >>> 2) + i] = i;
      }
      const k = this.rt.kernels;
      const rotate = this.pairing === "neox" ? k.rope_apply_neox : k.rope_apply_norm;
      for (let t = 0; t < n; t += chunk) {
        const count = Math.min(chunk, n - t);
        if (!cached) {
          k.rope_table(posPtr + t * 4, count, this.freqPtr, this.freqs, this.magnitude, this.pairing === "neox" ? 1 : 0, table);
        }
        const heap = mem.f32();
        heap.set(values.subarray(t * tokenFloats, (t + count) * tokenFloats), scratch >>> 2);
        rotate(cached ? posPtr + t * 4 : rows, count, heads, this.headDim, this.rotaryDim, cached ? this.cachePtr : table, scratch);
        values.set(mem.f32().subarray(scratch >>> 2, (scratch >>> 2) + count * tokenFloats), t * tokenFloats);
      }
    } finally {
      scratchBlocks.free();
    }
    return target.finish();
  }

  /**
   * Keep cos/sin rows for positions [0, maxPosition) in wasm memory (2 * rotaryDim * 4 bytes per position);
   * apply() then skips the trigonometry for calls whose positions all fall in range. `cache(0)` drops it.
   * With dynamic NTK and no fixed `seqLen`, the rows are for sequences of length maxPosition.
   */
  cache(maxPosition: number): this {
    this.check();
    if (!(typeof maxPosition === "number" && Number.isInteger(maxPosition) && maxPosition >= 0 && maxPosition <= 2 ** 32)) {
      throw errors.option("maxPosition", maxPosition, "an integer in [0, 2^32]");
    }
    const mem = this.rt.memory;
    this.dropCache();
    if (maxPosition === 0) return this;
    const rowBytes = this.rotaryDim * 8;
    const scratch = mem.scratch();
    try {
      const ptr = scratch.alloc(maxPosition * rowBytes);
      const posPtr = scratch.alloc(Math.min(maxPosition, 4096) * 4);
      this.cacheKey = this.useFrequencies(maxPosition);
      const k = this.rt.kernels;
      for (let p = 0; p < maxPosition; p += 4096) {
        const count = Math.min(4096, maxPosition - p);
        const u32 = mem.u32();
        for (let i = 0; i < count; i++) u32[(posPtr >>> 2) + i] = p + i;
        k.rope_table(posPtr, count, this.freqPtr, this.freqs, this.magnitude, this.pairing === "neox" ? 1 : 0, ptr + p * rowBytes);
      }
      this.cachePtr = scratch.keep(ptr);
      this.cacheRows = maxPosition;
      this.held.cache = ptr;
    } finally {
      scratch.free();
    }
    return this;
  }

  /** Positions covered by the cache (0 when there is none). */
  get cachedPositions(): number {
    return this.cacheRows;
  }

  dispose(): void {
    if (this.freqPtr < 0) return;
    registry?.unregister(this);
    this.dropCache();
    this.rt.memory.dealloc(this.freqPtr);
    this.freqPtr = -1;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // Make freqPtr hold the frequencies for sequences of length seqLen; returns their key (the dynamic base).
  private useFrequencies(seqLen: number): number {
    const key = dynamicBase(this.config, seqLen);
    if (key !== this.freqKey) {
      const f = ropeFrequencies(this.config, seqLen);
      const heap = new Float64Array(this.rt.memory.memory.buffer, this.freqPtr, this.freqs + (this.freqs & 1));
      heap.set(f);
      if (f.length & 1) heap[f.length] = 0; // the kernel reads frequencies two at a time
      this.freqKey = key;
    }
    return key;
  }

  private dropCache(): void {
    if (this.cachePtr < 0) return;
    this.rt.memory.dealloc(this.cachePtr);
    this.cachePtr = -1;
    this.cacheRows = 0;
    this.cacheKey = NaN;
    this.held.cache = -1;
  }

  private check(): void {
    if (this.freqPtr < 0) throw errors.disposed("rope");
  }
}

// hadamard(): the normalized Sylvester-Walsh-Hadamard transform of Ternary Bonsai 2's rotated weight basis, in
// place over consecutive blocks of B values of the last axis: forward y = H_B(s * x) (what the activations of a
// rotated weight get), inverse y = s * H_B(x) (what a looked-up latent row gets), s an optional +-1 vector as wide
// as the last axis. The work is one wasm kernel (assembly/hadamard.ts): f64 butterflies, one rounding to f32.
// Keys: W width of the last axis (signs.length, or the whole array without signs), B block, N = length / W rows.
// see: docs/BONSAI2.md §4.2.
import { F32Buffer } from "../core/buffer.js";
import { errors } from "../core/errors.js";
import { defaultRuntime } from "../formats/quantize.js";
import type { Runtime } from "../core/runtime.js";

export interface HadamardOptions {
  /** Block size B, a power of two dividing the width (default 1024, Bonsai 2's). */
  block?: number;
  /** +-1 per column of the last axis (its length is the width W); none: the "identity" sign mode. */
  signs?: ArrayLike<number>;
  /** false (default): y = H(s * x), the activation side. true: y = s * H(x), the lookup side. */
  inverse?: boolean;
}

const CHUNK_BYTES = 1 << 20;
const MAX_BLOCK = 1 << 24;

/** Check the options against `length` values; returns the block, the width and the signs as f32. */
export function checkHadamard(length: number, options: HadamardOptions): { block: number; width: number; signs?: Float32Array; inverse: boolean } {
  const { block = 1024, signs, inverse = false } = options ?? {};
  if (!(Number.isInteger(block) && block >= 1 && block <= MAX_BLOCK && (block & (block - 1)) === 0)) {
    throw errors.option("block", block, `a power of two from 1 to ${MAX_BLOCK}`);
  }
  if (typeof inverse !== "boolean") throw errors.option("inverse", inverse, "true or false");
  let width = length;
  let s: Float32Array | undefined;
  if (signs !== undefined) {
    if (!(ArrayBuffer.isView(signs) || Array.isArray(signs))) throw errors.option("signs", signs, "an array of +1 and -1");
    width = signs.length;
    if (!(width > 0 && width % block === 0)) throw errors.option("signs.length", width, `a positive multiple of the block (${block})`);
    s = new Float32Array(width);
    for (let i = 0; i < width; i++) {
      const v = signs[i];
      if (v !== 1 && v !== -1) throw errors.signsValue("signs", i, v);
      s[i] = v;
    }
    if (length % width !== 0) throw errors.outLength("x", length, Math.ceil(length / width) * width, `a whole number of rows of the signs' width ${width}`);
  } else if (length % block !== 0) {
    throw errors.outLength("x", length, Math.ceil(length / block) * block, `a whole number of blocks of ${block}`);
  }
  return { block, width, signs: s, inverse };
}

/**
 * Transform `rows` rows of `width` f32 at `ptr` (linear memory) in place. `signsPtr`: `width` f32 of +-1 in
 * linear memory, or 0. `scratch`: B f64 for the kernel; allocated (and freed) here when not given, so a caller
 * that must not allocate passes its own.
 */
export function hadamardRows(rt: Runtime, ptr: number, rows: number, width: number, block: number, signsPtr: number, inverse: boolean, scratch?: number): void {
  if (scratch !== undefined) {
    rt.kernels.hadamard_rows(ptr, rows, width, block, signsPtr, inverse ? 1 : 0, scratch);
    return;
  }
  const own = rt.memory.alloc(block * 8);
  try {
    rt.kernels.hadamard_rows(ptr, rows, width, block, signsPtr, inverse ? 1 : 0, own);
  } finally {
    rt.memory.dealloc(own);
  }
}

/** rt.hadamard: transform `x` (a Float32Array, or an F32Buffer in this runtime's memory) in place; returns x. */
export function hadamardOn<T extends Float32Array | F32Buffer>(rt: Runtime, x: T, options: HadamardOptions = {}): T {
  if (!(x instanceof Float32Array || x instanceof F32Buffer)) throw errors.outKind("x", x);
  const { block, width, signs, inverse } = checkHadamard(x.length, options);
  if (x.length === 0) return x;
  const mem = rt.memory;
  const held: number[] = [];
  try {
    let signsPtr = 0;
    if (signs !== undefined) {
      signsPtr = mem.alloc(width * 4);
      held.push(signsPtr);
      mem.f32().set(signs, signsPtr >>> 2);
    }
    if (x instanceof F32Buffer) {
      hadamardRows(rt, x.ptr, x.length / width, width, block, signsPtr, inverse);
      return x;
    }
    // rows through a wasm buffer of about CHUNK_BYTES (at least one row)
    const rowsPer = Math.max(1, Math.floor(CHUNK_BYTES / (width * 4)));
    const rows = x.length / width;
    const buf = mem.alloc(Math.min(rows, rowsPer) * width * 4);
    held.push(buf);
    for (let r = 0; r < rows; r += rowsPer) {
      const n = Math.min(rowsPer, rows - r);
      const part = x.subarray(r * width, (r + n) * width);
      mem.f32().set(part, buf >>> 2);
      hadamardRows(rt, buf, n, width, block, signsPtr, inverse);
      part.set(mem.f32().subarray(buf >>> 2, (buf >>> 2) + n * width));
    }
    return x;
  } finally {
    for (const p of held) mem.dealloc(p);
  }
}

/**
 * The Bonsai 2 rotation of `x` in place, on `options.runtime` (default: the most recently created runtime):
 * y = H_B(s * x) per block of B values of the last axis, or s * H_B(x) with `inverse: true`. Returns x.
 */
export function hadamard<T extends Float32Array | F32Buffer>(x: T, options: HadamardOptions & { runtime?: Runtime } = {}): T {
  const rt = options?.runtime ?? defaultRuntime("hadamard");
  return hadamardOn(rt, x, options);
}

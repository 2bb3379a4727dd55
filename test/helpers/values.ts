// The tests' one random generator: a seeded 32-bit LCG (Numerical Recipes' constants), the same numbers on
// every run and runtime; and the value shapes suites draw from it.
import { FORMATS, type Format, type FormatInfo } from "../../src/formats/registry.js";
import { f32ToF16Bits } from "../reference/half.js";

export class Random {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  /** The next state, a uint32. */
  u32(): number {
    return (this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0);
  }
  /** Uniform in [0, 1). */
  unit(): number {
    return this.u32() / 2 ** 32;
  }
  /** Uniform in (0, 1), never 0 (for logarithms). */
  open(): number {
    return (this.u32() + 0.5) / 2 ** 32;
  }
  /** Unit normal (Box-Muller). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.open())) * Math.cos(2 * Math.PI * this.open());
  }
}

/** Uniform values in [-spread/2, spread/2). */
export function randomValues(n: number, seed: number, spread = 1): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => (r.unit() - 0.5) * spread);
}

/** Values of many magnitudes: uniform in [-1/2, 1/2) times 2^e, e uniform in -10..9. */
export function wideValues(n: number, seed: number): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => (r.unit() - 0.5) * 2 ** Math.floor(r.unit() * 20 - 10));
}

/** Unit-normal values. */
export function gaussianValues(n: number, seed: number): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

// V rows of D values zero-padded to whole blocks of `block`, as a table stores them.
export function padRows(values: Float32Array, vocab: number, dim: number, block: number): Float32Array {
  const padded = Math.ceil(dim / block) * block;
  const out = new Float32Array(vocab * padded);
  for (let r = 0; r < vocab; r++) out.set(values.subarray(r * dim, (r + 1) * dim), r * padded);
  return out;
}

/**
 * Random packed rows of a fast-mode format: random code bytes, and at the registry's scale offset of each block
 * a d that is a random finite f16 of either sign in [2^-10, 2).
 */
export function randomPacked(format: Format, vocab: number, dim: number, seed: number): Uint8Array {
  const { blockElems, blockBytes, fast }: FormatInfo = FORMATS[format];
  if (fast === undefined) throw new Error(`randomPacked: ${format} has no fast-mode traits`);
  const blocks = Math.ceil(dim / blockElems);
  const data = new Uint8Array(vocab * blocks * blockBytes);
  const noise = randomValues(data.length, seed, 2);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor((noise[i] + 1) * 128) & 255;
  const ds = randomValues(vocab * blocks, seed + 1, 2);
  for (let i = 0; i < vocab * blocks; i++) {
    const h = f32ToF16Bits(Math.sign(ds[i]) * 2 ** (-10 + 11 * Math.abs(ds[i])));
    data[i * blockBytes + fast.scaleOffset] = h & 255;
    data[i * blockBytes + fast.scaleOffset + 1] = h >> 8;
  }
  return data;
}

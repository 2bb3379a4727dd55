// Plain references for projection mode "fast" (T-MAC lookup tables), written from the algorithm in
// assembly/fast/planes.ts and signs.ts, row by row, no tiling. A format enters through the registry (block
// size, fast traits) and its plain reference's codes(); nothing here names a format.
//   fastRef      the same int8 tables (built with the same f32 operations, Math.fround after each), exact
//                integer sums, float64 for everything after: the wasm must match it to f32 rounding.
//   exactRef     float64 sum of deq(w) * x over the packed rows: the truth the fast mode approximates.
//   fastBound    the max abs error of fast vs exact per logit, derived below.
// Keys: V vocab, D dim, Dp padded dim, E elements per block, B blocks per row, G = E / 4 groups per block.
//
// Error bound. For block b of a row, deq(w_j) = d * (mult * sum_p 2^p s_pj + K) with s_pj = +-1, so
//   exact_b = d * (mult * sum_p 2^p sum_g L_g[i_pg] + K * X_b),  L_g[i] = sum_k (+-) x_4g+k,  X_b = sum_j x_j.
// Fast mode replaces L_g[i] by s * q with q = round(L_g[i] * fl(127 / m)), s = fl(m / 127), m = max |L| of the
// block (= max over groups of sum |x|). |q - L*inv| <= 1/2 and the three f32 roundings add <= 3 eps |L|
// (eps = 2^-24, |L| <= m <= 127 s (1 + eps)), so |s q - L| <= s/2 + 3 * 127 s eps * 1.0001 < 0.50003 s.
// Summed over the P planes (weights 2^p, total 2^P - 1) and G groups:
//   |fast_b - exact_b| <= |d| * mult * (2^P - 1) * G * 0.50003 * s_b    (+ |d K| times the f32 error of X_b)
// (q1_0's signs kernel adds up to 8 s_b per block: its pairs of lookups are averaged, see signsBlock)
// and the f32 accumulation over blocks adds at most (B + 4) eps times the sum of the magnitudes of the terms.

import { FORMATS, type Format, type FormatInfo } from "../../src/formats/registry.js";
import { REFERENCES } from "./formats/index.js";
import { f16At } from "./half.js";

/** A fast-mode format as the reference sees it: the registry's block and fast traits, the reference's codes. */
export interface FastSpec {
  format: Format;
  blockElems: number;
  blockBytes: number;
  planes: number;
  mult: number;
  k: number;
  /** "signs": q1_0's kernel (one plane, pairs of lookups averaged); "planes": the generic one. */
  kernel: "planes" | "signs";
  /** Byte offset of d in a block. */
  scaleOffset: number;
  /** The E codes of one block (test/reference/formats/<format>.ts). */
  codes(block: Uint8Array): Uint8Array;
}

export function fastSpec(format: Format): FastSpec {
  const info: FormatInfo = FORMATS[format];
  if (info.fast === undefined) throw new Error(`${format} has no fast-mode traits in the registry`);
  const codes = REFERENCES[format].codes;
  if (codes === undefined) throw new Error(`test/reference/formats/${format}.ts gives no codes() for fast mode`);
  // the signs kernel is written for blocks of 128 (16 index bytes of two groups each)
  if (info.fast.kernel === "signs" && info.blockElems !== 128) throw new Error(`${format}: the signs kernel takes blocks of 128`);
  return { format, blockElems: info.blockElems, blockBytes: info.blockBytes, ...info.fast, codes };
}

/** The weight of a code: mult * sum_p 2^p s_p + k with s_p = +-1 from bit p, i.e. mult * (2 code - (2^P - 1)) + k. */
function weightOf(spec: FastSpec, code: number): number {
  return spec.mult * (2 * code - (2 ** spec.planes - 1)) + spec.k;
}

function dOf(spec: FastSpec, block: Uint8Array): number {
  return f16At(block, spec.scaleOffset);
}

/** Row r's dequantized values (Dp of them) as float64: d * weight of each code. */
export function deqRow(spec: FastSpec, data: Uint8Array, rowBytes: number, r: number, dp: number): Float64Array {
  const out = new Float64Array(dp);
  for (let b = 0; b < dp / spec.blockElems; b++) {
    const block = data.subarray(r * rowBytes + b * spec.blockBytes, r * rowBytes + (b + 1) * spec.blockBytes);
    const d = dOf(spec, block);
    const codes = spec.codes(block);
    for (let e = 0; e < spec.blockElems; e++) out[b * spec.blockElems + e] = d * weightOf(spec, codes[e]);
  }
  return out;
}

export interface Luts {
  /** Per group, 16 entries q + 128 (u8), as the wasm builds them. */
  q: Uint8Array;
  /** Per block: s = fl(m / 127) and the f32 block sum X_b (sequential). */
  s: Float64Array;
  x: Float64Array;
}

const f = Math.fround;

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The int8 tables of one hidden vector (padded to Dp with zeros), same f32 steps as fast_lut. */
export function lutsRef(x: Float32Array, blockElems: number): Luts {
  const groups = x.length / 4;
  const blocks = x.length / blockElems;
  const gpb = blockElems / 4;
  const entries = (g: number) =>
    Array.from({ length: 16 }, (_, i) => {
      const sg = (k: number) => (((i >> k) & 1) === 1 ? x[4 * g + k] : -x[4 * g + k]);
      return f(f(f(sg(0) + sg(1)) + sg(2)) + sg(3));
    });
  const q = new Uint8Array(groups * 16);
  const s = new Float64Array(blocks);
  const xs = new Float64Array(blocks);
  for (let b = 0; b < blocks; b++) {
    let m = 0;
    let total = 0;
    for (let g = b * gpb; g < (b + 1) * gpb; g++) {
      for (const e of entries(g)) m = Math.max(m, Math.abs(e));
      for (let k = 0; k < 4; k++) total = f(total + x[4 * g + k]);
    }
    s[b] = m > 0 ? f(m / 127) : 0;
    xs[b] = total;
    const inv = m > 0 ? f(127 / m) : 0;
    for (let g = b * gpb; g < (b + 1) * gpb; g++) {
      entries(g).forEach((e, i) => (q[16 * g + i] = roundHalfEven(f(e * inv)) + 128));
    }
  }
  return { q, s, x: xs };
}

/** Fast-mode logits of one hidden vector over V packed rows: exact integer sums of the tables, float64 after. */
export function fastRef(spec: FastSpec, data: Uint8Array, vocab: number, dim: number, hidden: Float32Array): Float64Array {
  const blocks = Math.ceil(dim / spec.blockElems);
  const dp = blocks * spec.blockElems;
  const rowBytes = blocks * spec.blockBytes;
  const x = new Float32Array(dp);
  x.set(hidden.subarray(0, dim));
  const luts = lutsRef(x, spec.blockElems);
  const out = new Float64Array(vocab);
  for (let r = 0; r < vocab; r++) {
    let acc = 0;
    for (let b = 0; b < blocks; b++) {
      const block = data.subarray(r * rowBytes + b * spec.blockBytes, r * rowBytes + (b + 1) * spec.blockBytes);
      const codes = spec.codes(block);
      if (spec.kernel === "signs") {
        acc += signsBlock(dOf(spec, block), codes, luts, b);
        continue;
      }
      let sum = 0; // sum_p 2^p sum_g (q - 128)
      for (let p = 0; p < spec.planes; p++) {
        for (let g = 0; g < spec.blockElems / 4; g++) {
          let idx = 0;
          for (let k = 0; k < 4; k++) idx |= ((codes[4 * g + k] >> p) & 1) << k;
          sum += 2 ** p * (luts.q[16 * (b * (spec.blockElems / 4) + g) + idx] - 128);
        }
      }
      acc += dOf(spec, block) * (spec.mult * luts.s[b] * sum + spec.k * luts.x[b]);
    }
    out[r] = acc;
  }
  return out;
}

// The signs kernel (assembly/fast/signs.ts, q1_0): a negative d becomes |d| with the bits inverted; the two
// lookups of groups 2i and 2i+1 are averaged as u8, (a + b + 1) >> 1, and the block's sum of 16 averages less
// 16 * 128 + 4 (the bias and the mean rounding) is doubled.
function signsBlock(d: number, codes: Uint8Array, luts: Luts, b: number): number {
  const flip = d < 0 || Object.is(d, -0) ? 15 : 0;
  const nibble = (g: number) => codes[4 * g] | (codes[4 * g + 1] << 1) | (codes[4 * g + 2] << 2) | (codes[4 * g + 3] << 3);
  let sum = 0;
  for (let i = 0; i < 16; i++) {
    const ga = 2 * i;
    const ua = luts.q[16 * (32 * b + ga) + (nibble(ga) ^ flip)];
    const ub = luts.q[16 * (32 * b + ga + 1) + (nibble(ga + 1) ^ flip)];
    sum += (ua + ub + 1) >> 1;
  }
  return Math.abs(d) * luts.s[b] * 2 * (sum - (16 * 128 + 4));
}

/** float64 logits over the dequantized rows. */
export function exactRef(spec: FastSpec, data: Uint8Array, vocab: number, dim: number, hidden: Float32Array): Float64Array {
  const blocks = Math.ceil(dim / spec.blockElems);
  const dp = blocks * spec.blockElems;
  const rowBytes = blocks * spec.blockBytes;
  const out = new Float64Array(vocab);
  for (let r = 0; r < vocab; r++) {
    const w = deqRow(spec, data, rowBytes, r, dp);
    let acc = 0;
    for (let j = 0; j < dim; j++) acc += w[j] * hidden[j];
    out[r] = acc;
  }
  return out;
}

const EPS = 2 ** -24;

/** Per row: the bound on |fast - exact| derived above, and the magnitude of the terms (for rounding checks). */
export function fastBound(spec: FastSpec, data: Uint8Array, vocab: number, dim: number, hidden: Float32Array): { bound: Float64Array; magnitude: Float64Array } {
  const blocks = Math.ceil(dim / spec.blockElems);
  const dp = blocks * spec.blockElems;
  const rowBytes = blocks * spec.blockBytes;
  const x = new Float32Array(dp);
  x.set(hidden.subarray(0, dim));
  const luts = lutsRef(x, spec.blockElems);
  const G = spec.blockElems / 4;
  const absSum = new Float64Array(blocks);
  for (let j = 0; j < dp; j++) absSum[Math.floor(j / spec.blockElems)] += Math.abs(x[j]);
  const bound = new Float64Array(vocab);
  const magnitude = new Float64Array(vocab);
  for (let r = 0; r < vocab; r++) {
    let lut = 0;
    let mag = 0;
    for (let b = 0; b < blocks; b++) {
      const d = Math.abs(dOf(spec, data.subarray(r * rowBytes + b * spec.blockBytes)));
      const planesW = spec.mult * (2 ** spec.planes - 1) * G;
      lut += d * planesW * 0.50003 * luts.s[b];
      // the signs kernel averages pairs of lookups: +-1/2 step of rounding per pair, taken at its mean: <= 8 steps
      if (spec.kernel === "signs") lut += d * 8 * luts.s[b];
      // X_b summed in f32: error <= E eps sum|x|
      lut += d * Math.abs(spec.k) * spec.blockElems * EPS * absSum[b];
      mag += d * (planesW * 128 * luts.s[b] + Math.abs(spec.k) * absSum[b]);
    }
    magnitude[r] = mag;
    bound[r] = lut + (blocks + 4) * 4 * EPS * mag;
  }
  return { bound, magnitude };
}

// Plain references for projection mode "fast" (T-MAC lookup tables), written from FORMATS.md and the
// algorithm in assembly/fast/planes.ts, row by row, no tiling:
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
// (q1_0 adds up to 8 s_b per block: its pairs of lookups are averaged, see q1Block)
// and the f32 accumulation over blocks adds at most (B + 4) eps times the sum of the magnitudes of the terms.

import { f16ToF32Bits, f32FromBits, f32ToF16Bits } from "./half.js";

export interface FastSpec {
  blockElems: number;
  blockBytes: number;
  planes: number;
  mult: number;
  k: number;
  /** Byte offset of d in a block. */
  dOffset: number;
  /** Code of element e of the block (w = d * (code - o)). */
  code(block: Uint8Array, e: number): number;
  /** Offset o of the code: w = d * (code - o). */
  o: number;
}

const byte = (b: Uint8Array, i: number) => b[i];

// see: FORMATS.md, one entry per format
export const FAST_SPECS: Record<string, FastSpec> = {
  q1_0: { blockElems: 128, blockBytes: 18, planes: 1, mult: 1, k: 0, dOffset: 0, o: 0.5, code: (b, e) => (byte(b, 2 + (e >> 3)) >> (e & 7)) & 1 },
  q2_0: { blockElems: 64, blockBytes: 18, planes: 2, mult: 0.5, k: 0.5, dOffset: 0, o: 1, code: (b, e) => (byte(b, 2 + (e >> 2)) >> (2 * (e & 3))) & 3 },
  q4_0: { blockElems: 32, blockBytes: 18, planes: 4, mult: 0.5, k: -0.5, dOffset: 0, o: 8, code: (b, e) => (e < 16 ? byte(b, 2 + e) & 15 : byte(b, 2 + e - 16) >> 4) },
  tq2_0: {
    blockElems: 256, blockBytes: 66, planes: 2, mult: 0.5, k: 0.5, dOffset: 64, o: 1,
    code: (b, e) => {
      const c = Math.floor(e / 128), l = Math.floor((e % 128) / 32), m = e % 32;
      return (byte(b, c * 32 + m) >> (2 * l)) & 3;
    },
  },
  tq1_0: {
    blockElems: 256, blockBytes: 54, planes: 2, mult: 0.5, k: 0.5, dOffset: 52, o: 1,
    code: (b, e) => {
      let v: number, n: number;
      if (e < 160) [v, n] = [byte(b, e % 32), Math.floor(e / 32)];
      else if (e < 240) [v, n] = [byte(b, 32 + ((e - 160) % 16)), Math.floor((e - 160) / 16)];
      else [v, n] = [byte(b, 48 + ((e - 240) % 4)), Math.floor((e - 240) / 4)];
      const q = (v * 3 ** n) & 255;
      return (q * 3) >> 8;
    },
  },
  // Ternary Bonsai 2 (docs/BONSAI2.md §2, §3)
  pq2_0: { blockElems: 128, blockBytes: 34, planes: 2, mult: 0.5, k: 0.5, dOffset: 0, o: 1, code: (b, e) => (byte(b, 2 + (e >> 2)) >> (2 * (e & 3))) & 3 },
  ptq1_0: {
    blockElems: 128, blockBytes: 28, planes: 2, mult: 0.5, k: 0.5, dOffset: 26, o: 1,
    code: (b, e) => {
      let v: number, n: number;
      if (e < 80) [v, n] = [byte(b, e % 16), Math.floor(e / 16)];
      else if (e < 120) [v, n] = [byte(b, 16 + ((e - 80) % 8)), Math.floor((e - 80) / 8)];
      else [v, n] = [byte(b, 24 + ((e - 120) % 2)), Math.floor((e - 120) / 2)];
      const q = (v * 3 ** n) & 255;
      return (q * 3) >> 8;
    },
  },
};

// q1_0's code is a bit: w = d * (2 bit - 1) = 2 d (bit - 1/2).
function weightOf(spec: FastSpec, code: number): number {
  return spec.o === 0.5 ? 2 * code - 1 : code - spec.o;
}

function dOf(spec: FastSpec, block: Uint8Array): number {
  return f32FromBits(f16ToF32Bits(block[spec.dOffset] | (block[spec.dOffset + 1] << 8)));
}

/** Row r's dequantized values (Dp of them) as float64. */
export function deqRow(spec: FastSpec, data: Uint8Array, rowBytes: number, r: number, dp: number): Float64Array {
  const out = new Float64Array(dp);
  for (let b = 0; b < dp / spec.blockElems; b++) {
    const block = data.subarray(r * rowBytes + b * spec.blockBytes, r * rowBytes + (b + 1) * spec.blockBytes);
    const d = dOf(spec, block);
    for (let e = 0; e < spec.blockElems; e++) out[b * spec.blockElems + e] = d * weightOf(spec, spec.code(block, e));
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
      if (spec === FAST_SPECS.q1_0) {
        acc += q1Block(block, luts, b);
        continue;
      }
      let sum = 0; // sum_p 2^p sum_g (q - 128)
      for (let p = 0; p < spec.planes; p++) {
        for (let g = 0; g < spec.blockElems / 4; g++) {
          let idx = 0;
          for (let k = 0; k < 4; k++) idx |= ((spec.code(block, 4 * g + k) >> p) & 1) << k;
          sum += 2 ** p * (luts.q[16 * (b * (spec.blockElems / 4) + g) + idx] - 128);
        }
      }
      acc += dOf(spec, block) * (spec.mult * luts.s[b] * sum + spec.k * luts.x[b]);
    }
    out[r] = acc;
  }
  return out;
}

// q1_0's kernel (assembly/fast/signs.ts): a negative d becomes |d| with the bits inverted; the two lookups of
// groups 2i and 2i+1 are averaged as u8, (a + b + 1) >> 1, and the block's sum of 16 averages less
// 16 * 128 + 4 (the bias and the mean rounding) is doubled.
function q1Block(block: Uint8Array, luts: Luts, b: number): number {
  const d = dOf(FAST_SPECS.q1_0, block);
  const flip = d < 0 || Object.is(d, -0) ? 15 : 0;
  let sum = 0;
  for (let i = 0; i < 16; i++) {
    const byte = block[2 + i];
    const ga = 32 * b + 2 * i;
    const ua = luts.q[16 * ga + ((byte & 15) ^ flip)];
    const ub = luts.q[16 * (ga + 1) + ((byte >> 4) ^ flip)];
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
      // q1_0 averages pairs of lookups: +-1/2 step of rounding per pair, taken at its mean (q1Block): <= 8 steps
      if (spec === FAST_SPECS.q1_0) lut += d * 8 * luts.s[b];
      // X_b summed in f32: error <= E eps sum|x|
      lut += d * Math.abs(spec.k) * spec.blockElems * EPS * absSum[b];
      mag += d * (planesW * 128 * luts.s[b] + Math.abs(spec.k) * absSum[b]);
    }
    magnitude[r] = mag;
    bound[r] = lut + (blocks + 4) * 4 * EPS * mag;
  }
  return { bound, magnitude };
}

/**
 * Plain quantizers (FORMATS.md rules, float64, f16 d) for the accuracy tests of formats whose wasm encoder
 * may be missing: q1_0 (d = mean |x|, bit = x >= 0) and q4_0 (d = max / -8, q = min(15, trunc(x / d + 8.5))).
 */
export function quantizeRef(format: "q1_0" | "q4_0", values: Float32Array, vocab: number, dim: number): Uint8Array {
  const spec = FAST_SPECS[format];
  const E = spec.blockElems;
  const blocks = Math.ceil(dim / E);
  const out = new Uint8Array(vocab * blocks * spec.blockBytes);
  const x = new Float64Array(E);
  for (let r = 0; r < vocab; r++) {
    for (let b = 0; b < blocks; b++) {
      x.fill(0);
      for (let e = 0; e < E && b * E + e < dim; e++) x[e] = values[r * dim + b * E + e];
      const at = (r * blocks + b) * spec.blockBytes;
      let d: number;
      if (format === "q1_0") {
        d = x.reduce((s, v) => s + Math.abs(v), 0) / E;
        for (let e = 0; e < E; e++) if (x[e] >= 0) out[at + 2 + (e >> 3)] |= 1 << (e & 7);
      } else {
        let max = 0;
        for (const v of x) if (Math.abs(v) > Math.abs(max)) max = v;
        d = max / -8;
        const id = d !== 0 ? 1 / d : 0;
        for (let e = 0; e < 16; e++) {
          const lo = Math.min(15, Math.trunc(x[e] * id + 8.5));
          const hi = Math.min(15, Math.trunc(x[e + 16] * id + 8.5));
          out[at + 2 + e] = lo | (hi << 4);
        }
      }
      const h = f32ToF16Bits(d);
      out[at] = h & 255;
      out[at + 1] = h >> 8;
    }
  }
  return out;
}

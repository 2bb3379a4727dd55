// Plain float64 model of mode "ggml" with integer dots: the hidden vectors quantized exactly as llama.cpp's CPU
// backend quantizes activations on x86 (f32 arithmetic, Math.fround after every operation), then, per row,
// the sum over blocks of weight value x activation code x activation scale in float64, the weight values
// written from their codes and scales in float64 (d * sc * q - dmin * m without f32 roundings). ggml's
// integer kernels compute the same sums; they differ from this model only by f32 roundings of the block
// products and sums. The formats dotted with Q8_1 (q4_1, q5_1: value d * q + m) take their minimum apart, as
// ggml does: the weight values are d * q, plus m of each block times the record's s = f16(d_x * sum codes),
// which is not m * d_x * sum codes (d_x is rounded to f16, s is rounded after the product).
// Keys: D dim, P = D padded to whole blocks, BX activation block (32 or 256), N vectors, V rows.
// see: ggml-cpu/arch/x86/quants.c quantize_row_q8_0, quantize_row_q8_1, ggml_vec_dot_q4_1_q8_1,
// ggml_vec_dot_q5_1_q8_1; ggml-quants.c quantize_row_q8_K_ref, dequantize_row_*.
import { f16ToF32Bits, f32FromBits, f32ToF16Bits } from "./half.js";
import { scaleMinOf } from "./formats/kquants.js";
import { KVALUES } from "./formats/iq4_nl.js";

const fr = Math.fround;

/** One quantized hidden vector: P codes (zeros past D), one scale per block, the sum of each 16 codes; Q8_1:
 * block_q8_1's s per block. */
export interface QuantizedActivations {
  block: number;
  codes: Int8Array;
  d: Float32Array;
  sums16: Int16Array;
  s?: Float32Array;
}

function half(x: number): number {
  return f32FromBits(f16ToF32Bits(f32ToF16Bits(x)));
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** cvtps2dq after rounding: NaN and out of range give INT_MIN. */
function x86Int(v: number): number {
  return v >= -2147483648 && v < 2147483648 ? roundHalfEven(v) : -2147483648;
}

/** x86Int, then packssdw / packsswb: saturated to int8. */
function x86Code(v: number): number {
  return Math.max(-128, Math.min(127, x86Int(v)));
}

const bits = new Float32Array(1);
const bitsU32 = new Uint32Array(bits.buffer);

/** ggml's nearest_int of an f32: the bits of v + 12582912.0f, masked to the mantissa, minus 0x400000 (ties to
 * even for |v| < 2^22; other values give what the trick gives, -4194304 for -inf). */
function nearestInt(v: number): number {
  bits[0] = fr(v + 12582912);
  return (bitsU32[0] & 0x7fffff) - 0x400000;
}

/** AVX quantize_row_q8_0: d = f16(amax / 127), q = round-half-even(x * (127 / amax)). */
export function quantizeQ8_0(x: ArrayLike<number>, dim: number): QuantizedActivations {
  const nb = Math.ceil(dim / 32);
  const codes = new Int8Array(nb * 32);
  const d = new Float32Array(nb);
  for (let b = 0; b < nb; b++) {
    const v = (j: number) => (32 * b + j < dim ? x[32 * b + j] : 0);
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(v(j)));
    d[b] = half(fr(amax / 127));
    const id = amax !== 0 ? fr(127 / amax) : 0;
    for (let j = 0; j < 32 && 32 * b + j < dim; j++) codes[32 * b + j] = x86Code(fr(v(j) * id));
  }
  return { block: 32, codes, d, sums16: sums16(codes) };
}

/**
 * AVX quantize_row_q8_1: the codes and d of quantizeQ8_0, and s = f16(fr(amax / 127) * sum), the sum over the
 * block's i32 codes before saturation, added in i32 with wrap-around (over the D real values only).
 */
export function quantizeQ8_1(x: ArrayLike<number>, dim: number): QuantizedActivations {
  const q = quantizeQ8_0(x, dim);
  const s = new Float32Array(q.d.length);
  for (let b = 0; b < s.length; b++) {
    let amax = 0;
    for (let j = 0; j < 32 && 32 * b + j < dim; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]));
    const id = amax !== 0 ? fr(127 / amax) : 0;
    let sum = 0;
    for (let j = 0; j < 32 && 32 * b + j < dim; j++) sum = (sum + x86Int(fr(x[32 * b + j] * id))) | 0;
    s[b] = half(fr(fr(amax / 127) * fr(sum)));
  }
  return { ...q, s };
}

/** quantize_row_q8_K_ref: max = the value of largest |x| (first of equals), iscale = -127 / max. */
export function quantizeQ8_K(x: ArrayLike<number>, dim: number): QuantizedActivations {
  const nb = Math.ceil(dim / 256);
  const codes = new Int8Array(nb * 256);
  const d = new Float32Array(nb);
  for (let b = 0; b < nb; b++) {
    const v = (j: number) => (256 * b + j < dim ? x[256 * b + j] : 0);
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 256; j++) {
      if (Math.abs(v(j)) > amax) {
        amax = Math.abs(v(j));
        max = v(j);
      }
    }
    if (amax === 0) continue;
    const iscale = fr(-127 / max);
    // int -> int8_t keeps the low byte (what Int8Array stores)
    for (let j = 0; j < 256 && 256 * b + j < dim; j++) codes[256 * b + j] = Math.min(127, nearestInt(fr(iscale * v(j))));
    d[b] = fr(1 / iscale);
  }
  return { block: 256, codes, d, sums16: sums16(codes) };
}

function sums16(codes: Int8Array): Int16Array {
  const s = new Int16Array(codes.length / 16);
  for (let g = 0; g < s.length; g++) for (let i = 0; i < 16; i++) s[g] += codes[16 * g + i];
  return s;
}

const f16 = (bytes: Uint8Array, at: number) => f32FromBits(f16ToF32Bits(bytes[at] | (bytes[at + 1] << 8)));
const i8 = (byte: number) => (byte << 24) >> 24;

/**
 * The weight values of one packed row as float64, computed from codes and scales without rounding:
 * what ggml's integer dot multiplies activation codes by. Formats: those with integer dots.
 */
export const WEIGHT_VALUES: Record<string, (row: Uint8Array, blocks: number) => Float64Array> = {
  q8_0(row, blocks) {
    const w = new Float64Array(blocks * 32);
    for (let b = 0; b < blocks; b++) {
      const d = f16(row, 34 * b);
      for (let j = 0; j < 32; j++) w[32 * b + j] = d * i8(row[34 * b + 2 + j]);
    }
    return w;
  },
  q4_0(row, blocks) {
    const w = new Float64Array(blocks * 32);
    for (let b = 0; b < blocks; b++) {
      const d = f16(row, 18 * b);
      for (let j = 0; j < 16; j++) {
        const byte = row[18 * b + 2 + j];
        w[32 * b + j] = d * ((byte & 15) - 8);
        w[32 * b + 16 + j] = d * ((byte >> 4) - 8);
      }
    }
    return w;
  },
  q5_0(row, blocks) {
    const w = new Float64Array(blocks * 32);
    for (let b = 0; b < blocks; b++) {
      const d = f16(row, 22 * b);
      const qh = row[22 * b + 2] | (row[22 * b + 3] << 8) | (row[22 * b + 4] << 16) | (row[22 * b + 5] << 24);
      for (let j = 0; j < 16; j++) {
        const byte = row[22 * b + 6 + j];
        w[32 * b + j] = d * ((byte & 15) + 16 * ((qh >>> j) & 1) - 16);
        w[32 * b + 16 + j] = d * ((byte >> 4) + 16 * ((qh >>> (16 + j)) & 1) - 16);
      }
    }
    return w;
  },
  iq4_nl(row, blocks) {
    const w = new Float64Array(blocks * 32);
    for (let b = 0; b < blocks; b++) {
      const d = f16(row, 18 * b);
      for (let j = 0; j < 16; j++) {
        const byte = row[18 * b + 2 + j];
        w[32 * b + j] = d * KVALUES[byte & 15];
        w[32 * b + 16 + j] = d * KVALUES[byte >> 4];
      }
    }
    return w;
  },
  // q4_1 and q5_1: d * q only (their minimum: BLOCK_MINS)
  q4_1(row, blocks) {
    const w = new Float64Array(blocks * 32);
    for (let b = 0; b < blocks; b++) {
      const d = f16(row, 20 * b);
      for (let j = 0; j < 16; j++) {
        const byte = row[20 * b + 4 + j];
        w[32 * b + j] = d * (byte & 15);
        w[32 * b + 16 + j] = d * (byte >> 4);
      }
    }
    return w;
  },
  q5_1(row, blocks) {
    const w = new Float64Array(blocks * 32);
    for (let b = 0; b < blocks; b++) {
      const d = f16(row, 24 * b);
      const qh = row[24 * b + 4] | (row[24 * b + 5] << 8) | (row[24 * b + 6] << 16) | (row[24 * b + 7] << 24);
      for (let j = 0; j < 16; j++) {
        const byte = row[24 * b + 8 + j];
        w[32 * b + j] = d * ((byte & 15) + 16 * ((qh >>> j) & 1));
        w[32 * b + 16 + j] = d * ((byte >> 4) + 16 * ((qh >>> (16 + j)) & 1));
      }
    }
    return w;
  },
  q6_k(row, blocks) {
    const w = new Float64Array(blocks * 256);
    for (let b = 0; b < blocks; b++) {
      const y = row.subarray(210 * b, 210 * (b + 1));
      const d = f16(y, 208);
      for (let h = 0; h < 2; h++) {
        for (let l = 0; l < 32; l++) {
          const lo = y[64 * h + l];
          const lo2 = y[64 * h + 32 + l];
          const hb = y[128 + 32 * h + l];
          const q = [(lo & 15) | ((hb & 3) << 4), (lo2 & 15) | (((hb >> 2) & 3) << 4), (lo >> 4) | (((hb >> 4) & 3) << 4), (lo2 >> 4) | (((hb >> 6) & 3) << 4)];
          for (let k = 0; k < 4; k++) w[256 * b + 128 * h + 32 * k + l] = d * i8(y[192 + 8 * h + 2 * k + (l >> 4)]) * (q[k] - 32);
        }
      }
    }
    return w;
  },
  q4_k(row, blocks) {
    return kValues(row, blocks, 144, 16, -1);
  },
  q5_k(row, blocks) {
    return kValues(row, blocks, 176, 48, 16);
  },
  // Q3_K (110 bytes): hmask[32] qs[64] scales[12] d; value d * (s - 32) * q, q = low 2 bits - (high bit ? 0 : 4)
  q3_k(row, blocks) {
    const w = new Float64Array(blocks * 256);
    for (let b = 0; b < blocks; b++) {
      const y = row.subarray(110 * b, 110 * (b + 1));
      const d = f16(y, 108);
      for (let e = 0; e < 256; e++) {
        const h = e >> 7; // half
        const k = (e >> 5) & 3; // 2-bit run within the half
        const l = e & 31;
        const low = (y[32 + 32 * h + l] >> (2 * k)) & 3;
        const high = (y[l] >> (4 * h + k)) & 1;
        const g = e >> 4;
        // six-bit scale: 4 low bits from scales[g % 8] (low nibble for g < 8), 2 high bits from scales[8 + g % 4]
        const lowBits = g < 8 ? y[96 + g] & 15 : y[96 + g - 8] >> 4;
        const highBits = (y[104 + (g % 4)] >> (2 * Math.floor(g / 4))) & 3;
        const s = lowBits | (highBits << 4);
        w[256 * b + e] = d * (s - 32) * (high ? low : low - 4);
      }
    }
    return w;
  },
  // Q2_K (84 bytes): scales[16] (low nibble scale, high nibble min) qs[64] d dmin; value d * s * q - dmin * m
  q2_k(row, blocks) {
    const w = new Float64Array(blocks * 256);
    for (let b = 0; b < blocks; b++) {
      const y = row.subarray(84 * b, 84 * (b + 1));
      const d = f16(y, 80);
      const dmin = f16(y, 82);
      for (let e = 0; e < 256; e++) {
        const q = (y[16 + 32 * (e >> 7) + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3;
        const sc = y[e >> 4];
        w[256 * b + e] = d * (sc & 15) * q - dmin * (sc >> 4);
      }
    }
    return w;
  },
  // IQ4_XS (136 bytes): d scales_h scales_l[4] qs[128]; value d * (ls - 32) * KVALUES[nibble] per sub-block of 32
  iq4_xs(row, blocks) {
    const w = new Float64Array(blocks * 256);
    for (let b = 0; b < blocks; b++) {
      const y = row.subarray(136 * b, 136 * (b + 1));
      const d = f16(y, 0);
      const scalesH = y[2] | (y[3] << 8);
      for (let e = 0; e < 256; e++) {
        const ib = e >> 5;
        const ls = ((y[4 + (ib >> 1)] >> (4 * (ib & 1))) & 15) | (((scalesH >> (2 * ib)) & 3) << 4);
        const byte = y[8 + 16 * ib + (e & 15)];
        const nibble = e & 16 ? byte >> 4 : byte & 15;
        w[256 * b + e] = d * (ls - 32) * KVALUES[nibble];
      }
    }
    return w;
  },
};

/** The minimum m (f16 at byte 2) of each block of the formats dotted with Q8_1 activations. */
export const BLOCK_MINS: Record<string, (row: Uint8Array, blocks: number) => Float64Array> = {
  q4_1: (row, blocks) => Float64Array.from({ length: blocks }, (_, b) => f16(row, 20 * b + 2)),
  q5_1: (row, blocks) => Float64Array.from({ length: blocks }, (_, b) => f16(row, 24 * b + 2)),
};

// Q4_K / Q5_K: (d * sc) * q - dmin * m per group of 32 (qh at byte 16 for Q5_K, else none).
function kValues(row: Uint8Array, blocks: number, blockBytes: number, qs: number, qh: number): Float64Array {
  const w = new Float64Array(blocks * 256);
  for (let b = 0; b < blocks; b++) {
    const y = row.subarray(blockBytes * b, blockBytes * (b + 1));
    const d = f16(y, 0);
    const dmin = f16(y, 2);
    const scales = y.subarray(4, 16);
    for (let e = 0; e < 256; e++) {
      const j = e >> 5;
      const l = e & 31;
      const byte = y[qs + 32 * (e >> 6) + l];
      let q = (j & 1) === 0 ? byte & 15 : byte >> 4;
      if (qh >= 0) q |= ((y[qh + l] >> j) & 1) << 4;
      const [sc, m] = scaleMinOf(j, scales);
      w[256 * b + e] = d * sc * q - dmin * m;
    }
  }
  return w;
}

/** The activation quantizer of a format's vec_dot_type. */
export function quantizeActivations(vecDot: string, x: ArrayLike<number>, dim: number): QuantizedActivations {
  if (vecDot === "q8_k") return quantizeQ8_K(x, dim);
  if (vecDot === "q8_0") return quantizeQ8_0(x, dim);
  if (vecDot === "q8_1") return quantizeQ8_1(x, dim);
  throw new Error(`no integer activations for ${vecDot}`);
}

/**
 * Logits [N * V] of mode "ggml" in float64, and the sum of |terms| of each (the scale for tolerances).
 * data: V packed rows of rowBytes; blocks per row = rowBytes / blockBytes.
 */
export function ggmlDotRef(
  format: string, vecDot: string, data: Uint8Array, vocab: number, rowBytes: number, blockElems: number, dim: number, hidden: Float32Array,
): { logits: Float64Array; magnitude: Float64Array } {
  const n = hidden.length / dim;
  const blocks = Math.ceil(dim / blockElems);
  const acts = Array.from({ length: n }, (_, b) => quantizeActivations(vecDot, hidden.subarray(b * dim, (b + 1) * dim), dim));
  const logits = new Float64Array(n * vocab);
  const magnitude = new Float64Array(n * vocab);
  for (let r = 0; r < vocab; r++) {
    const row = data.subarray(r * rowBytes, (r + 1) * rowBytes);
    const w = WEIGHT_VALUES[format](row, blocks);
    const mins = BLOCK_MINS[format]?.(row, blocks);
    for (let b = 0; b < n; b++) {
      const a = acts[b];
      let s = 0;
      let m = 0;
      for (let j = 0; j < dim; j++) {
        const t = w[j] * a.codes[j] * a.d[Math.floor(j / a.block)];
        s += t;
        m += Math.abs(t);
      }
      // Q8_1: each block's minimum times the record's s
      for (let k = 0; mins !== undefined && k < blocks; k++) {
        const t = mins[k] * a.s![k];
        s += t;
        m += Math.abs(t);
      }
      logits[b * vocab + r] = s;
      magnitude[b * vocab + r] = m;
    }
  }
  return { logits, magnitude };
}

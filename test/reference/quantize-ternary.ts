// Plain references for the 2-bit and ternary formats (Q2_0, TQ1_0, TQ2_0), written from ggml's reference
// quantizers and dequantizers: one element at a time, every f32 operation rounded with Math.fround, C's
// float-to-int conversions as x86-64 does them: Q2_0's (int)roundf gives INT_MIN for NaN and out-of-range
// values, TQ's lroundf a 64-bit LONG_MIN. Layouts: see FORMATS.md.
import { f16ToF32Bits, f32FromBits, f32ToF16Bits } from "./half.js";

const fr = Math.fround;
const INT_MIN = -(2 ** 31);

/** C roundf: nearest, ties away from zero. */
function roundf(x: number): number {
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}

/** (int) of a float on x86: INT_MIN for NaN and values outside the int range. */
function toInt(x: number): number {
  return x >= -(2 ** 31) && x < 2 ** 31 ? Math.trunc(x) : INT_MIN;
}

/** The low 32 bits of C's lroundf on x86-64 (TQ formats): 64-bit result, LONG_MIN (low bits 0) out of range. */
function lroundLow(x: number): number {
  const r = roundf(x);
  return Math.abs(r) < 2 ** 63 ? Number(BigInt.asIntN(32, BigInt(r))) : 0;
}

/** ggml's per-block scale d = max|x| (as `MAX(amax, fabsf(v))`) and id = d ? 1/d : 0, in f32. */
function scale(x: Float32Array, start: number, n: number): { d: number; id: number } {
  let amax = 0;
  for (let j = 0; j < n; j++) {
    const a = Math.abs(x[start + j]);
    amax = amax > a ? amax : a;
  }
  return { d: amax, id: amax !== 0 ? fr(1 / amax) : 0 };
}

function f16(bits: number): number {
  return f32FromBits(f16ToF32Bits(bits));
}

// ---- Q2_0: 64 per block, [d f16][qs 16]; element j = bits 2(j%4) of qs[j/4]; value (q - 1) * d
export function quantizeQ2_0(x: Float32Array): Uint8Array {
  const nb = x.length / 64;
  const out = new Uint8Array(nb * 18);
  const view = new DataView(out.buffer);
  for (let i = 0; i < nb; i++) {
    const { d, id } = scale(x, i * 64, 64);
    view.setUint16(i * 18, f32ToF16Bits(d), true);
    for (let j = 0; j < 64; j++) {
      const q = toInt(roundf(fr(x[i * 64 + j] * id)));
      const code = Math.min(2, Math.max(-1, q)) + 1;
      out[i * 18 + 2 + (j >> 2)] |= code << (2 * (j & 3));
    }
  }
  return out;
}

export function dequantizeQ2_0(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let e = 0; e < n; e++) {
    const block = Math.floor(e / 64) * 18;
    const j = e % 64;
    const q = (bytes[block + 2 + (j >> 2)] >> (2 * (j & 3))) & 3;
    out[e] = (q - 1) * f16(view.getUint16(block, true));
  }
  return out;
}

// ---- TQ2_0: 256 per block, [qs 64][d f16]; element 128c + 32l + m = bits 2l of qs[32c + m]
export function quantizeTQ2_0(x: Float32Array): Uint8Array {
  const nb = x.length / 256;
  const out = new Uint8Array(nb * 66);
  const view = new DataView(out.buffer);
  for (let i = 0; i < nb; i++) {
    const { d, id } = scale(x, i * 256, 256);
    for (let e = 0; e < 256; e++) {
      const xi = lroundLow(fr(x[i * 256 + e] * id)) + 1;
      const c = e >> 7;
      const l = (e >> 5) & 3;
      const m = e & 31;
      out[i * 66 + 32 * c + m] |= (xi & 3) << (2 * l);
    }
    view.setUint16(i * 66 + 64, f32ToF16Bits(d), true);
  }
  return out;
}

export function dequantizeTQ2_0(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let e = 0; e < n; e++) {
    const block = Math.floor(e / 256) * 66;
    const k = e % 256;
    const q = (bytes[block + 32 * (k >> 7) + (k & 31)] >> (2 * ((k >> 5) & 3))) & 3;
    out[e] = (q - 1) * f16(view.getUint16(block + 64, true));
  }
  return out;
}

// ---- TQ1_0: 256 per block, [qs 48][qh 4][d f16]. Which byte and which base-3 digit holds element k:
// qs[m] (m < 32) digit n: k = 32n + m; qs[32 + m] (m < 16) digit n: k = 160 + 16n + m; qh[j] digit n: 240 + 4n + j.
function tq1Place(k: number): { byte: number; digit: number } {
  if (k < 160) return { byte: k % 32, digit: Math.floor(k / 32) };
  if (k < 240) return { byte: 32 + ((k - 160) % 16), digit: Math.floor((k - 160) / 16) };
  return { byte: 48 + ((k - 240) % 4), digit: Math.floor((k - 240) / 4) };
}

export function quantizeTQ1_0(x: Float32Array): Uint8Array {
  const nb = x.length / 256;
  const out = new Uint8Array(nb * 54);
  const view = new DataView(out.buffer);
  for (let i = 0; i < nb; i++) {
    const { d, id } = scale(x, i * 256, 256);
    // trits per byte, most significant (digit 0) first; C accumulates in a uint8_t
    const acc = new Array<number>(52).fill(0);
    for (let k = 0; k < 256; k++) {
      const { byte } = tq1Place(k);
      const xi = lroundLow(fr(x[i * 256 + k] * id)) + 1;
      acc[byte] = (acc[byte] * 3 + xi) & 255; // elements of one byte arrive in digit order
    }
    for (let b = 0; b < 52; b++) {
      const v = b >= 48 ? (acc[b] * 3) & 255 : acc[b]; // qh: four trits, then a zero fifth
      out[i * 54 + b] = Math.floor((v * 256 + 242) / 243) & 255;
    }
    view.setUint16(i * 54 + 52, f32ToF16Bits(d), true);
  }
  return out;
}

export function dequantizeTQ1_0(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let e = 0; e < n; e++) {
    const block = Math.floor(e / 256) * 54;
    const { byte, digit } = tq1Place(e % 256);
    const q = (bytes[block + byte] * 3 ** digit) & 255;
    const t = (q * 3) >> 8;
    out[e] = (t - 1) * f16(view.getUint16(block + 52, true));
  }
  return out;
}

export const TERNARY_REFERENCE = {
  q2_0: { blockElems: 64, quantize: quantizeQ2_0, dequantize: dequantizeQ2_0 },
  tq1_0: { blockElems: 256, quantize: quantizeTQ1_0, dequantize: dequantizeTQ1_0 },
  tq2_0: { blockElems: 256, quantize: quantizeTQ2_0, dequantize: dequantizeTQ2_0 },
} as const;

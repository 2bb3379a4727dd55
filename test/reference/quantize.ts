// Plain references for ggml's block quantizers and dequantizers of Q8_0, Q4_0, Q4_1 and Q1_0, written as
// ggml's C reads (quantize_row_*_ref, dequantize_row_*): element order, f32 arithmetic (Math.fround after
// every operation), x86 float-to-int conversion (NaN and out-of-range give INT_MIN). Slow and obvious.
// Keys: n values, a multiple of the block size; B block elements.
// see: ggml-quants.c; FORMATS.md in the design notes.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const fr = Math.fround;

/** f16 bits -> f32 value (exact). NaN becomes quiet with its payload kept. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 31;
  const mant = h & 1023;
  if (exp === 31) {
    if (mant === 0) return sign * Infinity;
    u32[0] = ((h & 0x8000) << 16) | 0x7fc00000 | (mant << 13);
    return f32[0];
  }
  return sign * (exp === 0 ? mant * 2 ** -24 : (1 + mant / 1024) * 2 ** (exp - 15));
}

/** f32 value -> f16 bits: round to nearest even, beyond the range -> inf, NaN -> quiet NaN. */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const sign = (u32[0] >>> 16) & 0x8000;
  if (Number.isNaN(x)) return sign | 0x7e00 | ((u32[0] >>> 13) & 0x3ff);
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00; // 65520 lies halfway to 2^16: ties to even go up, to inf
  const exp = (u32[0] >>> 23) & 255; // f32 binade (a is an f32)
  const e = Math.max(-14, exp - 127); // subnormal halves share the ulp 2^-24
  const ulp = 2 ** (e - 10);
  let r = Math.floor(a / ulp);
  const frac = a / ulp - r;
  if (frac > 0.5 || (frac === 0.5 && r % 2 === 1)) r += 1;
  // r * ulp is exact; r may carry into the next binade, which the bit arithmetic below absorbs
  if (e === -14 && r < 1024) return sign | r;
  return sign | (((e + 15) << 10) + (r - 1024));
}

/** C's (int) conversion of an f32 on x86 (cvttss2si): truncate; NaN and out-of-range give INT_MIN. */
export function x86Int(x: number): number {
  if (!(x >= -2147483648 && x < 2147483648)) return -2147483648;
  return Math.trunc(x);
}

/** (int8_t) of an int: the low byte, signed. */
function int8(v: number): number {
  return (v << 24) >> 24;
}

/** C roundf: half away from zero. */
export function roundf(x: number): number {
  if (!Number.isFinite(x)) return x;
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}

export const BLOCK = { q8_0: [32, 34], q4_0: [32, 18], q4_1: [32, 20], q1_0: [128, 18] } as const;
export type RefFormat = keyof typeof BLOCK;

function setHalf(out: Uint8Array, at: number, h: number): void {
  out[at] = h & 255;
  out[at + 1] = h >>> 8;
}

// y[i].d, amax = MAX(amax, fabsf(v)) as the C macro reads: a > b ? a : b.
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / 32) * 34);
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) {
      const a = Math.abs(x[b * 32 + j]);
      amax = amax > a ? amax : a;
    }
    const d = fr(amax / 127);
    const id = d !== 0 ? fr(1 / d) : 0;
    setHalf(out, b * 34, floatToHalf(d));
    for (let j = 0; j < 32; j++) {
      out[b * 34 + 2 + j] = x86Int(roundf(fr(x[b * 32 + j] * id))) & 255;
    }
  }
  return out;
}

export function quantizeQ4_0(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / 32) * 18);
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = x[b * 32 + j];
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fr(max / -8);
    const id = d !== 0 ? fr(1 / d) : 0;
    setHalf(out, b * 18, floatToHalf(d));
    for (let j = 0; j < 16; j++) {
      const q0 = int8(x86Int(fr(fr(x[b * 32 + j] * id) + 8.5)));
      const q1 = int8(x86Int(fr(fr(x[b * 32 + 16 + j] * id) + 8.5)));
      const xi0 = (15 < q0 ? 15 : q0) & 255;
      const xi1 = (15 < q1 ? 15 : q1) & 255;
      out[b * 18 + 2 + j] = (xi0 | (xi1 << 4)) & 255;
    }
  }
  return out;
}

export function quantizeQ4_1(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / 32) * 20);
  for (let b = 0; b < x.length / 32; b++) {
    let min = 3.4028234663852886e38;
    let max = -3.4028234663852886e38;
    for (let j = 0; j < 32; j++) {
      const v = x[b * 32 + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = fr(fr(max - min) / 15);
    const id = d !== 0 ? fr(1 / d) : 0;
    setHalf(out, b * 20, floatToHalf(d));
    setHalf(out, b * 20 + 2, floatToHalf(min));
    for (let j = 0; j < 16; j++) {
      const q0 = int8(x86Int(fr(fr(fr(x[b * 32 + j] - min) * id) + 0.5)));
      const q1 = int8(x86Int(fr(fr(fr(x[b * 32 + 16 + j] - min) * id) + 0.5)));
      const xi0 = (15 < q0 ? 15 : q0) & 255;
      const xi1 = (15 < q1 ? 15 : q1) & 255;
      out[b * 20 + 4 + j] = (xi0 | (xi1 << 4)) & 255;
    }
  }
  return out;
}

// d = mean |x| as a running f32 sum; bit j%8 of qs[j/8] is set when x >= 0.
export function quantizeQ1_0(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / 128) * 18);
  for (let b = 0; b < x.length / 128; b++) {
    let sum = 0;
    for (let j = 0; j < 128; j++) sum = fr(sum + Math.abs(x[b * 128 + j]));
    setHalf(out, b * 18, floatToHalf(fr(sum / 128)));
    for (let j = 0; j < 128; j++) {
      if (x[b * 128 + j] >= 0) out[b * 18 + 2 + (j >> 3)] |= 1 << (j & 7);
    }
  }
  return out;
}

const half = (bytes: Uint8Array, at: number) => halfToFloat(bytes[at] | (bytes[at + 1] << 8));

/** Dequantize `n` values (whole blocks) of `bytes` as ggml's dequantize_row_* does. */
export function dequantizeRef(format: RefFormat, bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const [elems, size] = BLOCK[format];
  for (let b = 0; b < n / elems; b++) {
    const o = b * size;
    const y = b * elems;
    const d = half(bytes, o);
    if (format === "q8_0") {
      for (let j = 0; j < 32; j++) out[y + j] = fr(((bytes[o + 2 + j] << 24) >> 24) * d);
    } else if (format === "q4_0") {
      for (let j = 0; j < 16; j++) {
        out[y + j] = fr(((bytes[o + 2 + j] & 15) - 8) * d);
        out[y + j + 16] = fr(((bytes[o + 2 + j] >> 4) - 8) * d);
      }
    } else if (format === "q4_1") {
      const m = half(bytes, o + 2);
      for (let j = 0; j < 16; j++) {
        out[y + j] = fr(fr((bytes[o + 4 + j] & 15) * d) + m);
        out[y + j + 16] = fr(fr((bytes[o + 4 + j] >> 4) * d) + m);
      }
    } else {
      for (let j = 0; j < 128; j++) out[y + j] = (bytes[o + 2 + (j >> 3)] >> (j & 7)) & 1 ? d : -d;
    }
  }
  return out;
}

export const quantizeRef: Record<RefFormat, (x: Float32Array) => Uint8Array> = {
  q8_0: quantizeQ8_0,
  q4_0: quantizeQ4_0,
  q4_1: quantizeQ4_1,
  q1_0: quantizeQ1_0,
};

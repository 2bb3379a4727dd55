// Mode "ggml" for the formats without integer dots (the others quantize in wasm, assembly/activations.ts, the
// same way): hidden vectors rounded the way llama.cpp's CPU backend (x86) rounds activations before its dot
// products (each weight type's vec_dot_type), so that the exact projection over the rounded activations
// reproduces ggml's logits up to f32 summation order. Rounding a few N x D activations is cheap next to
// the projection, so it is done here, in float64 with Math.fround where ggml works in f32.
// Each format's vec_dot_type is its registry entry's `vecDot`:
//   f32: unchanged      f16 / bf16: to that type, nearest even
//   q8_0: blocks of 32: d = amax / 127, q = round-half-even(x * (127 / amax)) (the AVX quantize_row_q8_0;
//     the reference quantizer's 1 / d and roundf differ in ties), x' = q * f16(d)
//   q8_1: the same codes (ggml also keeps f16(d * sum q) for the min term, which only the integer dots of q4_1
//     and q5_1 reproduce, assembly/activations.ts; here it serves their rows with a non-finite scale)
//   q8_k: blocks of 256: m = the value of largest |x|, iscale = -127 / m,
//     q = min(127, nearest-even(iscale * x)), x' = q / iscale
// see: ggml-quants.c quantize_row_q8_0_ref, quantize_row_q8_1_ref, quantize_row_q8_K_ref; ggml-cpu.c
// type_traits_cpu (vec_dot_type of each type).
import { formatInfo, type Format } from "./registry.js";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 -> nearest f16 (ties to even, overflow to inf) -> f32. */
export function roundF16(x: number): number {
  x = Math.fround(x);
  const a = Math.abs(x);
  if (!Number.isFinite(a)) return x;
  if (a >= 65520) return x > 0 ? Infinity : -Infinity;
  // the f16 ulp at a's exponent, read from the f32 bits (subnormals share the smallest one)
  f32[0] = a;
  const exp = ((u32[0] >>> 23) & 255) - 127;
  const ulp = 2 ** (Math.max(exp, -14) - 10);
  const q = a / ulp;
  let r = Math.round(q);
  if (r - q === 0.5 && r % 2 !== 0) r -= 1; // Math.round rounds halves up: make them even
  return Math.sign(x) * r * ulp;
}

/** f32 -> nearest bf16 (ties to even) -> f32. */
export function roundBf16(x: number): number {
  f32[0] = x;
  const w = u32[0];
  if ((w & 0x7fffffff) > 0x7f800000) return x;
  u32[0] = ((w + 0x7fff + ((w >>> 16) & 1)) >>> 16) << 16;
  return f32[0];
}

function nearestEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function roundQ8_0(x: Float32Array, at: number, len: number): void {
  let amax = 0;
  for (let j = at; j < at + len; j++) amax = Math.max(amax, Math.abs(x[j]));
  const dh = roundF16(Math.fround(amax / 127));
  const id = amax !== 0 ? Math.fround(127 / amax) : 0;
  for (let j = at; j < at + len; j++) {
    const v = Math.fround(x[j] * id);
    // cvtps2dq after rounding to even: NaN and out of range give INT_MIN, which packsswb saturates to -128
    const q = v >= -2147483648 && v < 2147483648 ? Math.max(-128, Math.min(127, nearestEven(v))) : -128;
    x[j] = q * dh;
  }
}

function roundQ8_K(x: Float32Array, at: number, len: number): void {
  let amax = 0;
  let max = 0;
  for (let j = at; j < at + len; j++) {
    if (Math.abs(x[j]) > amax) {
      amax = Math.abs(x[j]);
      max = x[j];
    }
  }
  if (amax === 0) {
    x.fill(0, at, at + len);
    return;
  }
  const iscale = Math.fround(-127 / max);
  const d = Math.fround(1 / iscale);
  for (let j = at; j < at + len; j++) x[j] = Math.min(127, nearestEven(Math.fround(iscale * x[j]))) * d;
}

/** A copy of `hidden` (N vectors of D) rounded as ggml rounds activations for a table in `format`. */
export function ggmlActivations(hidden: Float32Array, dim: number, format: Format): Float32Array {
  const x = hidden.slice();
  const vecDot = formatInfo(format).vecDot;
  if (vecDot === "f32") return x;
  if (vecDot === "f16" || vecDot === "bf16") {
    const round = vecDot === "f16" ? roundF16 : roundBf16;
    for (let i = 0; i < x.length; i++) x[i] = round(x[i]);
    return x;
  }
  // q8_0 and q8_1 share their codes (q8_1 also keeps d * sum q for the min term, which only changes the
  // arithmetic of q4_1-style dots, not the rounded activations)
  const [block, roundBlock] = vecDot === "q8_k" ? [256, roundQ8_K] : [32, roundQ8_0];
  for (let b = 0; b < x.length; b += dim) {
    for (let j = 0; j < dim; j += block) roundBlock(x, b + j, Math.min(block, dim - j));
  }
  return x;
}

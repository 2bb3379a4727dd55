// Logit post-processing on Float32Arrays, in place: softmax and log-softmax with temperature, scaling and
// Gemma-2 soft-capping. Rows of `size` values (default: the whole array) are processed independently, so a
// batch of N x V logits from table.project works as it is. Sums run in float64; the row max is subtracted
// first, so large logits never overflow.
import { errors } from "../core/errors.js";

export interface SoftmaxOptions {
  /** Divide logits by this before normalising (> 0; default 1). */
  temperature?: number;
  /** Values per row (default: the whole array is one row). */
  size?: number;
}

function rowsOf(logits: unknown, size: unknown, name: string): number {
  if (!(logits instanceof Float32Array)) throw errors.outKind(name, logits);
  const n = size ?? logits.length;
  if (!(typeof n === "number" && Number.isInteger(n) && n > 0 && logits.length % n === 0)) {
    throw errors.option("size", size, `a positive integer dividing the length ${logits.length} of \`${name}\``);
  }
  return n;
}

function checkPositive(name: string, value: unknown): number {
  if (!(typeof value === "number" && Number.isFinite(value) && value > 0)) {
    throw errors.option(name, value, "a finite number > 0");
  }
  return value;
}

// Normalise one row at [at, at + size): returns the row max and log(sum exp((x - max) / t)). A row holding +Inf
// has its limit instead (max - max would be NaN): `infinite` counts the +Inf entries, which share all the mass.
function logNormaliser(x: Float32Array, at: number, size: number, t: number): { max: number; logSum: number; infinite: number } {
  let max = -Infinity;
  for (let i = at; i < at + size; i++) if (x[i] > max) max = x[i];
  if (max === Infinity) {
    let infinite = 0;
    for (let i = at; i < at + size; i++) if (x[i] === Infinity) infinite++;
    return { max, logSum: Math.log(infinite), infinite };
  }
  let sum = 0;
  for (let i = at; i < at + size; i++) sum += Math.exp((x[i] - max) / t);
  return { max, logSum: Math.log(sum), infinite: 0 };
}

/**
 * Probabilities exp(x / t) / sum exp(x / t), in place. Returns `logits`. The +Inf entries of a row share its
 * mass equally (the limit: softmax([Inf, 1]) is [1, 0]); a NaN gives NaN; a row of -Inf only is NaN.
 */
export function softmax(logits: Float32Array, options: SoftmaxOptions = {}): Float32Array {
  const size = rowsOf(logits, options.size, "logits");
  const t = options.temperature === undefined ? 1 : checkPositive("temperature", options.temperature);
  for (let at = 0; at < logits.length; at += size) {
    const { max, logSum, infinite } = logNormaliser(logits, at, size, t);
    for (let i = at; i < at + size; i++) {
      const x = logits[i];
      logits[i] = infinite > 0 ? (x === Infinity ? 1 / infinite : Number.isNaN(x) ? NaN : 0) : Math.exp((x - max) / t - logSum);
    }
  }
  return logits;
}

/** Log-probabilities x / t - log sum exp(x / t), in place. Returns `logits`. +Inf entries as in softmax. */
export function logSoftmax(logits: Float32Array, options: SoftmaxOptions = {}): Float32Array {
  const size = rowsOf(logits, options.size, "logits");
  const t = options.temperature === undefined ? 1 : checkPositive("temperature", options.temperature);
  for (let at = 0; at < logits.length; at += size) {
    const { max, logSum, infinite } = logNormaliser(logits, at, size, t);
    for (let i = at; i < at + size; i++) {
      const x = logits[i];
      logits[i] = infinite > 0 ? (x === Infinity ? 0 - logSum : Number.isNaN(x) ? NaN : -Infinity) : (x - max) / t - logSum;
    }
  }
  return logits;
}

/** x * scale, in place (Cohere's logit_scale; Granite's is 1 / logit_scale). Returns `logits`. */
export function scaleLogits(logits: Float32Array, scale: number): Float32Array {
  rowsOf(logits, undefined, "logits");
  if (!(typeof scale === "number" && Number.isFinite(scale))) throw errors.option("scale", scale, "a finite number");
  for (let i = 0; i < logits.length; i++) logits[i] *= scale;
  return logits;
}

/**
 * Gemma-2 soft-capping cap * tanh(x / cap), in place. Returns `logits`.
 * see: Gemma 2 report (arXiv:2408.00118) §2; final_logit_softcapping = 30 in its config.
 */
export function softcap(logits: Float32Array, cap: number): Float32Array {
  rowsOf(logits, undefined, "logits");
  checkPositive("cap", cap);
  for (let i = 0; i < logits.length; i++) logits[i] = cap * Math.tanh(logits[i] / cap);
  return logits;
}

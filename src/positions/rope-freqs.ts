// RoPE configs: their shape, their validation, and the inverse frequencies each scaling gives, in float64.
// Keys: D head dim, R rotary dim (even, <= D), F = R/2 frequencies; inv_freq[i] = base^(-2i/R), i < F.
// see: FORMATS.md (RoPE); Hugging Face transformers modeling_rope_utils.py and ggml's rope for the scalings.
import { errors } from "../core/errors.js";

export type RopePairing = "norm" | "neox";
export const ROPE_PAIRINGS: readonly RopePairing[] = Object.freeze(["norm", "neox"]);

export type RopeScaling =
  | { type: "none" }
  | { type: "linear"; factor: number }
  /** NTK-aware base change (HF "dynamic"); `seqLen` defaults to the largest position of each call + 1. */
  | { type: "dynamic"; factor: number; originalContext: number; seqLen?: number }
  | {
      type: "yarn";
      factor: number;
      originalContext: number;
      betaFast?: number;
      betaSlow?: number;
      /** multiplies the YaRN magnitude 0.1 ln(factor) + 1 (ggml's attn_factor). */
      attnFactor?: number;
      /** Round the ramp's ends to whole dims (default true; gpt-oss sets HF's `truncate: false`). */
      truncate?: boolean;
    }
  | { type: "llama3"; factor: number; lowFreqFactor: number; highFreqFactor: number; originalContext: number }
  /** Explicit per-frequency divisors (GGUF `rope_freqs.weight`, LongRoPE factors); angle = pos * inv_freq / d. */
  | { type: "freqs"; divisors: Float32Array | Float64Array | readonly number[]; attnFactor?: number };

export type RopeScalingType = RopeScaling["type"];
export const ROPE_SCALINGS: readonly RopeScalingType[] = Object.freeze([
  "none",
  "linear",
  "dynamic",
  "yarn",
  "llama3",
  "freqs",
]);

export interface RopeConfig {
  /** Values per head (D). */
  headDim: number;
  /** Dimensions rotated (R, even, <= D; default D); the rest pass through. */
  rotaryDim?: number;
  /** Frequency base theta (default 10000). */
  base?: number;
  /** "norm": adjacent pairs (GGUF llama-family); "neox": halves (every HF checkpoint, GGUF Qwen/Gemma/Phi...). */
  pairing: RopePairing;
  scaling?: RopeScaling | null;
}

/** A validated config with every default filled in. */
export interface ResolvedRopeConfig {
  readonly headDim: number;
  readonly rotaryDim: number;
  readonly base: number;
  readonly pairing: RopePairing;
  readonly scaling: Readonly<RopeScaling>;
}

export function resolveRopeConfig(config: unknown): ResolvedRopeConfig {
  if (typeof config !== "object" || config === null) throw errors.configKind("config", config);
  const c = config as Partial<RopeConfig>;
  const headDim = c.headDim;
  if (!(typeof headDim === "number" && Number.isInteger(headDim) && headDim > 0 && headDim < 2 ** 20)) {
    throw errors.notPositiveInt("headDim", headDim);
  }
  const rotaryDim = c.rotaryDim ?? headDim;
  if (!(typeof rotaryDim === "number" && Number.isInteger(rotaryDim) && rotaryDim >= 2 && rotaryDim % 2 === 0 && rotaryDim <= headDim)) {
    throw errors.option("rotaryDim", rotaryDim, `an even integer in [2, headDim = ${headDim}]`);
  }
  const base = c.base ?? 10000;
  if (!(typeof base === "number" && Number.isFinite(base) && base > 1)) {
    throw errors.option("base", base, "a finite number > 1");
  }
  if (!ROPE_PAIRINGS.includes(c.pairing as RopePairing)) throw errors.unknownChoice("pairing", c.pairing, ROPE_PAIRINGS);
  const scaling = resolveScaling(c.scaling ?? { type: "none" }, rotaryDim);
  return Object.freeze({ headDim, rotaryDim, base, pairing: c.pairing as RopePairing, scaling });
}

function resolveScaling(s: unknown, rotaryDim: number): Readonly<RopeScaling> {
  if (typeof s !== "object" || s === null) throw errors.configKind("scaling", s);
  const type = (s as { type?: unknown }).type;
  const get = (field: string) => (s as Record<string, unknown>)[field];
  const positive = (field: string, fallback?: number): number => {
    const v = get(field) ?? fallback;
    if (!(typeof v === "number" && Number.isFinite(v) && v > 0)) throw errors.option(`scaling.${field}`, v, "a finite number > 0");
    return v;
  };
  const context = (field: string): number => {
    const v = get(field);
    if (!(typeof v === "number" && Number.isInteger(v) && v > 0)) throw errors.notPositiveInt(`scaling.${field}`, v);
    return v;
  };
  switch (type) {
    case "none":
      return Object.freeze({ type });
    case "linear":
      return Object.freeze({ type, factor: positive("factor") });
    case "dynamic": {
      const seqLen = get("seqLen");
      if (seqLen !== undefined) context("seqLen");
      const out = { type, factor: positive("factor"), originalContext: context("originalContext") };
      return Object.freeze(seqLen === undefined ? out : { ...out, seqLen: seqLen as number });
    }
    case "yarn": {
      const truncate = get("truncate") ?? true;
      if (typeof truncate !== "boolean") throw errors.option("scaling.truncate", truncate, "true or false");
      return Object.freeze({
        type,
        factor: positive("factor"),
        originalContext: context("originalContext"),
        betaFast: positive("betaFast", 32),
        betaSlow: positive("betaSlow", 1),
        attnFactor: positive("attnFactor", 1),
        truncate,
      });
    }
    case "llama3": {
      const lowFreqFactor = positive("lowFreqFactor");
      const highFreqFactor = positive("highFreqFactor");
      if (!(highFreqFactor > lowFreqFactor)) {
        throw errors.option("scaling.highFreqFactor", highFreqFactor, `a number > scaling.lowFreqFactor = ${lowFreqFactor}`);
      }
      return Object.freeze({
        type,
        factor: positive("factor"),
        lowFreqFactor,
        highFreqFactor,
        originalContext: context("originalContext"),
      });
    }
    case "freqs": {
      const d = get("divisors");
      if (!(d instanceof Float32Array || d instanceof Float64Array || Array.isArray(d))) {
        throw errors.positionsKind("scaling.divisors", d);
      }
      if (d.length !== rotaryDim / 2) {
        throw errors.outLength("scaling.divisors", d.length, rotaryDim / 2, `one divisor per frequency, rotaryDim ${rotaryDim} / 2`);
      }
      const divisors = Float64Array.from(d as ArrayLike<number>);
      divisors.forEach((v, i) => {
        if (!(Number.isFinite(v) && v > 0)) throw errors.option(`scaling.divisors[${i}]`, v, "a finite number > 0");
      });
      return Object.freeze({ type, divisors, attnFactor: positive("attnFactor", 1) });
    }
    default:
      throw errors.unknownChoice("scaling.type", type, ROPE_SCALINGS);
  }
}

/** base^(-2i/R) for i < F, in float64. */
function baseFrequencies(base: number, rotaryDim: number): Float64Array {
  const f = new Float64Array(rotaryDim / 2);
  for (let i = 0; i < f.length; i++) f[i] = Math.pow(base, (-2 * i) / rotaryDim);
  return f;
}

/**
 * The inverse frequencies after scaling, F float64 values. `seqLen` matters only to dynamic NTK scaling:
 * the sequence length the frequencies are for (the config's `seqLen` wins when set).
 */
export function ropeFrequencies(cfg: ResolvedRopeConfig, seqLen = 1): Float64Array {
  const { rotaryDim: d, base, scaling: s } = cfg;
  switch (s.type) {
    case "none":
      return baseFrequencies(base, d);
    case "linear":
      return baseFrequencies(base, d).map((v) => v / s.factor);
    case "dynamic":
      return baseFrequencies(dynamicBase(cfg, seqLen), d);
    case "yarn":
      return yarnFrequencies(base, d, s);
    case "llama3":
      return llama3Frequencies(base, d, s);
    case "freqs": {
      const divisors = s.divisors;
      return baseFrequencies(base, d).map((v, i) => v / divisors[i]);
    }
  }
}

/** The base dynamic NTK uses for `seqLen` (the config's `seqLen` wins): unchanged up to the original context. */
export function dynamicBase(cfg: ResolvedRopeConfig, seqLen: number): number {
  const s = cfg.scaling;
  if (s.type !== "dynamic") return cfg.base;
  const L = Math.max(s.seqLen ?? seqLen, s.originalContext);
  const d = cfg.rotaryDim;
  // see: HF _compute_dynamic_ntk_parameters (Reddit "NTK-aware scaled RoPE", bloc97)
  return cfg.base * Math.pow((s.factor * L) / s.originalContext - (s.factor - 1), d / (d - 2));
}

/** What cos and sin are multiplied by: YaRN's 0.1 ln(factor) + 1 times attnFactor; attnFactor for freqs; else 1. */
export function ropeMagnitude(cfg: ResolvedRopeConfig): number {
  const s = cfg.scaling;
  if (s.type === "yarn") return (s.factor > 1 ? 0.1 * Math.log(s.factor) + 1 : 1) * (s.attnFactor ?? 1);
  if (s.type === "freqs") return s.attnFactor ?? 1;
  return 1;
}

// see: Peng et al. 2023, YaRN, section 3.2 ("NTK-by-parts"); ggml_rope_yarn_corr_dims for the rounding.
function yarnFrequencies(base: number, d: number, s: Extract<RopeScaling, { type: "yarn" }>): Float64Array {
  const inv = baseFrequencies(base, d);
  const corrDim = (rotations: number) => (d * Math.log(s.originalContext / (2 * Math.PI * rotations))) / (2 * Math.log(base));
  const truncate = s.truncate ?? true;
  const low = Math.max(truncate ? Math.floor(corrDim(s.betaFast ?? 32)) : corrDim(s.betaFast ?? 32), 0);
  const high = Math.min(truncate ? Math.ceil(corrDim(s.betaSlow ?? 1)) : corrDim(s.betaSlow ?? 1), d - 1);
  return inv.map((v, i) => {
    const ramp = 1 - Math.min(Math.max((i - low) / Math.max(high - low, 0.001), 0), 1);
    return (v / s.factor) * (1 - ramp) + v * ramp;
  });
}

// see: HF _compute_llama3_parameters (Llama 3.1 release).
function llama3Frequencies(base: number, d: number, s: Extract<RopeScaling, { type: "llama3" }>): Float64Array {
  const lowWavelen = s.originalContext / s.lowFreqFactor;
  const highWavelen = s.originalContext / s.highFreqFactor;
  return baseFrequencies(base, d).map((v) => {
    const wavelen = (2 * Math.PI) / v;
    if (wavelen < highWavelen) return v;
    if (wavelen > lowWavelen) return v / s.factor;
    const smooth = (s.originalContext / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    return ((1 - smooth) * v) / s.factor + smooth * v;
  });
}

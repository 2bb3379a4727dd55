// Plain float64 RoPE, written from FORMATS.md (RoPE) and the papers, sharing no code with src/.
// Keys: T tokens, H heads, D head dim, R rotary dim, F = R/2.

export type RefScaling =
  | { type: "none" }
  | { type: "linear"; factor: number }
  | { type: "dynamic"; factor: number; originalContext: number; seqLen?: number }
  | { type: "yarn"; factor: number; originalContext: number; betaFast?: number; betaSlow?: number; attnFactor?: number; truncate?: boolean }
  | { type: "llama3"; factor: number; lowFreqFactor: number; highFreqFactor: number; originalContext: number }
  | { type: "freqs"; divisors: ArrayLike<number>; attnFactor?: number };

export interface RefConfig {
  headDim: number;
  rotaryDim?: number;
  base?: number;
  pairing: "norm" | "neox";
  scaling?: RefScaling | null;
}

/** inv_freq[i] for i < F after scaling, for a call whose sequence length is seqLen. */
export function refInvFreq(cfg: RefConfig, seqLen: number): number[] {
  const R = cfg.rotaryDim ?? cfg.headDim;
  let base = cfg.base ?? 10000;
  const s = cfg.scaling ?? { type: "none" };
  if (s.type === "dynamic") {
    const L = s.seqLen ?? seqLen;
    if (L > s.originalContext) base = base * ((s.factor * L) / s.originalContext - (s.factor - 1)) ** (R / (R - 2));
  }
  const out: number[] = [];
  for (let i = 0; i < R / 2; i++) {
    const inv = 1 / base ** ((2 * i) / R);
    let f = inv;
    if (s.type === "linear") f = inv / s.factor;
    if (s.type === "freqs") f = inv / s.divisors[i];
    if (s.type === "yarn") {
      const corr = (rot: number) => (R * Math.log(s.originalContext / (2 * Math.PI * rot))) / (2 * Math.log(base));
      let low = corr(s.betaFast ?? 32);
      let high = corr(s.betaSlow ?? 1);
      if (s.truncate !== false) {
        low = Math.floor(low);
        high = Math.ceil(high);
      }
      low = Math.max(low, 0);
      high = Math.min(high, R - 1);
      let t = (i - low) / Math.max(high - low, 0.001);
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ramp = 1 - t; // 1: keep the original frequency (extrapolate), 0: interpolate
      f = (inv / s.factor) * (1 - ramp) + inv * ramp;
    }
    if (s.type === "llama3") {
      const wavelen = (2 * Math.PI) / inv;
      const lowWl = s.originalContext / s.lowFreqFactor;
      const highWl = s.originalContext / s.highFreqFactor;
      if (wavelen > lowWl) f = inv / s.factor;
      else if (wavelen < highWl) f = inv;
      else {
        const smooth = (s.originalContext / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        f = ((1 - smooth) * inv) / s.factor + smooth * inv;
      }
    }
    out.push(f);
  }
  return out;
}

export function refMagnitude(cfg: RefConfig): number {
  const s = cfg.scaling ?? { type: "none" };
  if (s.type === "yarn") return (s.factor > 1 ? 1 + 0.1 * Math.log(s.factor) : 1) * (s.attnFactor ?? 1);
  if (s.type === "freqs") return s.attnFactor ?? 1;
  return 1;
}

/** RoPE of x [T, H, D] at `positions`, in float64 (x is not modified). */
export function refRope(x: Float32Array, positions: ArrayLike<number>, heads: number, cfg: RefConfig): Float64Array {
  const D = cfg.headDim;
  const R = cfg.rotaryDim ?? D;
  const T = positions.length;
  let maxPos = 0;
  for (let t = 0; t < T; t++) maxPos = Math.max(maxPos, positions[t]);
  const inv = refInvFreq(cfg, maxPos + 1);
  const m = refMagnitude(cfg);
  const y = Float64Array.from(x);
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < heads; h++) {
      const o = (t * heads + h) * D;
      for (let i = 0; i < R / 2; i++) {
        const angle = positions[t] * inv[i];
        const c = Math.cos(angle) * m;
        const s = Math.sin(angle) * m;
        // norm: (x[2i], x[2i+1]); neox: (x[i], x[i + R/2])
        const a = cfg.pairing === "norm" ? o + 2 * i : o + i;
        const b = cfg.pairing === "norm" ? o + 2 * i + 1 : o + i + R / 2;
        const x0 = x[a];
        const x1 = x[b];
        y[a] = x0 * c - x1 * s;
        y[b] = x0 * s + x1 * c;
      }
    }
  }
  return y;
}

/** Sinusoidal position embedding of one position, D values (Vaswani et al. 2017, section 3.5). */
export function refSinusoid(pos: number, D: number, layout: "interleaved" | "halves" = "interleaved", base = 10000): number[] {
  const out = new Array<number>(D).fill(0);
  for (let i = 0; i < D / 2; i++) {
    const angle = pos / base ** ((2 * i) / D);
    if (layout === "interleaved") {
      out[2 * i] = Math.sin(angle);
      out[2 * i + 1] = Math.cos(angle);
    } else {
      out[i] = Math.sin(angle);
      out[i + D / 2] = Math.cos(angle);
    }
  }
  return out;
}

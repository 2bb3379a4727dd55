// What the ternary formats (Q2_0, TQ1_0, TQ2_0, PQ2_0, PTQ1_0) share: d = max |x| per block, codes round x / d
// to -1, 0, 1.
import { amaxOf } from "./c.js";

/** Half a step of d = max |x|, the f16 rounding of d (2^-11 relative, 2^-25 absolute) on top. */
export function ternaryMaxError(block: Float32Array): number {
  return amaxOf(block) * 0.5 * 1.001 + 1e-7;
}

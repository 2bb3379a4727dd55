// Deterministic uniform values in [-spread/2, spread/2) from a seed (an LCG), for tables and hidden states.
export function randomValues(n: number, seed: number, spread = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Float32Array.from({ length: n }, () => (next() - 0.5) * spread);
}

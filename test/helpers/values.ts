// Deterministic uniform values in [-spread/2, spread/2) from a seed (an LCG), for tables and hidden states.
export function randomValues(n: number, seed: number, spread = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Float32Array.from({ length: n }, () => (next() - 0.5) * spread);
}

// V rows of D values zero-padded to whole blocks of `block`, as a table stores them.
export function padRows(values: Float32Array, vocab: number, dim: number, block: number): Float32Array {
  const padded = Math.ceil(dim / block) * block;
  const out = new Float32Array(vocab * padded);
  for (let r = 0; r < vocab; r++) out.set(values.subarray(r * dim, (r + 1) * dim), r * padded);
  return out;
}

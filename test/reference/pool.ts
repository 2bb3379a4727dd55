// Plain reference for bag pooling (PyTorch nn.EmbeddingBag): float64 loops over a dequantized table.
// Keys: V vocab, D dim, N ids, B bags.
//   bag b = ids[offsets[b] .. offsets[b + 1]) (the last to N), padding ids skipped (and not counted)
//   sum = sum w_i row_i; mean = sum / count; max = elementwise max (NaN if any is NaN); empty bag = zeros

export interface PoolRefOptions {
  mode: "sum" | "mean" | "max";
  weights?: ArrayLike<number>;
  paddingId?: number;
  normalize?: boolean;
}

/** values [B * D] (float64) and, per value, the sum of |w_i row_i| over its bag (for tolerances). */
export function poolRef(
  table: Float32Array, dim: number, ids: ArrayLike<number>, offsets: ArrayLike<number>, o: PoolRefOptions,
): { values: Float64Array; magnitude: Float64Array; counts: number[] } {
  const bags = offsets.length;
  const values = new Float64Array(bags * dim);
  const magnitude = new Float64Array(bags * dim);
  const counts: number[] = [];
  for (let b = 0; b < bags; b++) {
    const start = offsets[b];
    const end = b + 1 < bags ? offsets[b + 1] : ids.length;
    let count = 0;
    for (let i = start; i < end; i++) {
      const id = ids[i];
      if (id === o.paddingId) continue;
      const w = o.weights ? o.weights[i] : 1;
      for (let j = 0; j < dim; j++) {
        const x = table[id * dim + j];
        const at = b * dim + j;
        if (o.mode === "max") {
          values[at] = count === 0 ? x : Math.max(values[at], x); // Math.max gives NaN if either is NaN
        } else {
          values[at] += w * x;
          magnitude[at] += Math.abs(w * x);
        }
      }
      count++;
    }
    counts.push(count);
    if (o.mode === "mean" && count > 0) {
      for (let j = 0; j < dim; j++) {
        values[b * dim + j] /= count;
        magnitude[b * dim + j] /= count;
      }
    }
    if (o.normalize) {
      let ss = 0;
      for (let j = 0; j < dim; j++) ss += values[b * dim + j] ** 2;
      const norm = Math.sqrt(ss);
      if (norm > 0) {
        for (let j = 0; j < dim; j++) {
          values[b * dim + j] /= norm;
          magnitude[b * dim + j] /= norm;
        }
      }
    }
  }
  return { values, magnitude, counts };
}

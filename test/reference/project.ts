// Plain references for projection, top-k and nearest rows: float64 loops over a dequantized table.
// Keys: V vocab, D dim, N hidden vectors, K results.

/** logits[b * V + r] = sum_j table[r * D + j] * hidden[b * D + j] in float64, and the sum of |products|. */
export function projectRef(
  table: Float32Array, vocab: number, dim: number, hidden: Float32Array,
): { logits: Float64Array; magnitude: Float64Array } {
  const n = hidden.length / dim;
  const logits = new Float64Array(n * vocab);
  const magnitude = new Float64Array(n * vocab);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < vocab; r++) {
      let sum = 0;
      let abs = 0;
      for (let j = 0; j < dim; j++) {
        const p = table[r * dim + j] * hidden[b * dim + j];
        sum += p;
        abs += Math.abs(p);
      }
      logits[b * vocab + r] = sum;
      magnitude[b * vocab + r] = abs;
    }
  }
  return { logits, magnitude };
}

/** The K best of each row of `scores` (N rows of V): higher first, ties by lower id; NaN never ranks. */
export function topkRef(scores: ArrayLike<number>, n: number, vocab: number, k: number): { ids: number[][]; scores: number[][] } {
  const ids: number[][] = [];
  const best: number[][] = [];
  for (let b = 0; b < n; b++) {
    const order = Array.from({ length: vocab }, (_, r) => r)
      .filter((r) => !Number.isNaN(scores[b * vocab + r]))
      .sort((x, y) => scores[b * vocab + y] - scores[b * vocab + x] || x - y)
      .slice(0, k);
    ids.push(order);
    best.push(order.map((r) => scores[b * vocab + r]));
  }
  return { ids, scores: best };
}

/** Cosine, dot or Euclidean distance of `v` to every row, float64. */
export function metricRef(table: Float32Array, vocab: number, dim: number, v: Float32Array, metric: "cosine" | "dot" | "l2"): Float64Array {
  const out = new Float64Array(vocab);
  let vv = 0;
  for (let j = 0; j < dim; j++) vv += v[j] * v[j];
  for (let r = 0; r < vocab; r++) {
    let dot = 0;
    let rr = 0;
    let d2 = 0;
    for (let j = 0; j < dim; j++) {
      const w = table[r * dim + j];
      dot += w * v[j];
      rr += w * w;
      d2 += (w - v[j]) ** 2;
    }
    out[r] = metric === "dot" ? dot : metric === "l2" ? Math.sqrt(d2) : rr > 0 && vv > 0 ? dot / Math.sqrt(rr * vv) : NaN;
  }
  return out;
}

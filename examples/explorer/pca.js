// Two principal components of a few points, by power iteration (no library): centre the rows, then find the
// top eigenvector of X^T X by repeated v <- X^T (X v), and the second the same way kept orthogonal to the
// first. Returns each point's coordinates along both. Points: `rows` n x d, flat, row-major.
// see: Golub & Van Loan, Matrix Computations, 7.3 (power iteration, deflation by orthogonalisation).
export function pca2(rows, n, d, iterations = 200) {
  const x = new Float64Array(n * d);
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += rows[i * d + j];
    mean /= n;
    for (let i = 0; i < n; i++) x[i * d + j] = rows[i * d + j] - mean;
  }
  const components = [];
  for (let c = 0; c < 2; c++) {
    // a fixed start (not random: the same points always draw the same map)
    let v = Float64Array.from({ length: d }, (_, j) => 1 + ((j * 7919) % 13) / 13);
    for (let it = 0; it < iterations; it++) {
      for (const u of components) orthogonalise(v, u);
      const xv = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xv[i] += x[i * d + j] * v[j];
      const next = new Float64Array(d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) next[j] += x[i * d + j] * xv[i];
      for (const u of components) orthogonalise(next, u);
      const norm = Math.hypot(...next);
      if (norm === 0) break; // no variance left in this direction
      v = next.map((e) => e / norm);
    }
    components.push(v);
  }
  return Array.from({ length: n }, (_, i) =>
    components.map((v) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[i * d + j] * v[j];
      return s;
    }),
  );
}

function orthogonalise(v, u) {
  let dot = 0;
  for (let j = 0; j < v.length; j++) dot += v[j] * u[j];
  for (let j = 0; j < v.length; j++) v[j] -= dot * u[j];
}

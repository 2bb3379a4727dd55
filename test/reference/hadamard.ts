// Plain reference of the Bonsai 2 rotation (docs/BONSAI2.md §4.2): the normalized Sylvester-Walsh-Hadamard
// matrix H_B[i][j] = (-1)^popcount(i & j) / sqrt(B) applied as a matrix product, block by block of each row, in
// float64; forward y = H(s * x), inverse y = s * H(x). Keys: W width (signs.length), B block.

function parity(v: number): number {
  let p = 0;
  for (; v; v &= v - 1) p ^= 1;
  return p;
}

/** float64 values of the transform of `x` (rows of `width`), not rounded. */
export function hadamardRef(x: ArrayLike<number>, width: number, block: number, signs: ArrayLike<number> | undefined, inverse: boolean): Float64Array {
  const out = new Float64Array(x.length);
  const norm = 1 / Math.sqrt(block);
  const s = (j: number) => (signs === undefined ? 1 : signs[j % width]);
  for (let b0 = 0; b0 < x.length; b0 += block) {
    for (let i = 0; i < block; i++) {
      let sum = 0;
      for (let j = 0; j < block; j++) {
        const v = inverse ? x[b0 + j] : x[b0 + j] * s(b0 + j);
        sum += parity(i & j) ? -v : v;
      }
      out[b0 + i] = inverse ? sum * norm * s(b0 + i) : sum * norm;
    }
  }
  return out;
}

/** The size of one f32 ulp at |v| (subnormals: 2^-149). */
export function ulpOf(v: number): number {
  const a = Math.abs(Math.fround(v));
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** The same values by float64 butterflies (a[i], a[i + L] <- a[i] + a[i + L], a[i] - a[i + L]), for large tables. */
export function fwhtRef(x: ArrayLike<number>, width: number, block: number, signs: ArrayLike<number> | undefined, inverse: boolean): Float64Array {
  const out = Float64Array.from(x);
  const norm = 1 / Math.sqrt(block);
  const s = (j: number) => (signs === undefined ? 1 : signs[j % width]);
  if (!inverse) for (let j = 0; j < out.length; j++) out[j] *= s(j);
  for (let b0 = 0; b0 < out.length; b0 += block) {
    for (let len = 1; len < block; len *= 2) {
      for (let i = b0; i < b0 + block; i += 2 * len) {
        for (let j = i; j < i + len; j++) {
          const u = out[j];
          const v = out[j + len];
          out[j] = u + v;
          out[j + len] = u - v;
        }
      }
    }
  }
  for (let j = 0; j < out.length; j++) out[j] *= norm * (inverse ? s(j) : 1);
  return out;
}

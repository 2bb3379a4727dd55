// The smoke table's source values: V x D numbers exactly representable in f32, f16 and bf16 (signed
// integers and halves with at most 8 significant bits, +0, -0, +-inf, the smallest f16 normal and
// subnormal), so every format must give them back bit for bit.
// Keys: V vocab, D dim; value(r, c) is row r, column c. Shared by every runtime and by the vitest suites.

export const VOCAB = 40;
export const DIM = 21; // two 8-wide SIMD steps plus a scalar tail of 5

const SPECIAL = [0, -0, Infinity, -Infinity, 2 ** -14, -(2 ** -14), 2 ** -24, -(2 ** -24), 0.5, -0.5, 127.5, -127.5];

export function value(r, c) {
  if (r === 0 && c < SPECIAL.length) return SPECIAL[c];
  // k in [-255, 255]: k / 2 needs at most 8 significant bits, which bf16 (the narrowest) holds
  const k = ((r * 31 + c * 17 + 7) % 511) - 255;
  return k / 2;
}

export function sourceValues() {
  const values = new Float32Array(VOCAB * DIM);
  for (let r = 0; r < VOCAB; r++) for (let c = 0; c < DIM; c++) values[r * DIM + c] = value(r, c);
  return values;
}

/** The f32 bit patterns of rows `ids`, as the expected lookup result (keeps -0 and inf through JSON). */
export function expectedBits(ids) {
  const out = new Float32Array(ids.length * DIM);
  ids.forEach((id, i) => {
    for (let c = 0; c < DIM; c++) out[i * DIM + c] = value(id, c);
  });
  return Array.from(new Uint32Array(out.buffer));
}

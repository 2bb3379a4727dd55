// The normalized Sylvester-Walsh-Hadamard transform over consecutive blocks of B values of each row, in place:
// forward (Bonsai 2's activation side) y = H_B(s * x), inverse (its lookup side) y = s * H_B(x), for a +-1 sign
// vector s as wide as the row (or none). A fast Walsh-Hadamard transform in f64 lanes: f32 inputs are exact in
// f64 and every butterfly is u + v, u - v, so the f64 sums are exact or nearly so, and the one rounding to f32 at
// the end leaves each value within an ulp of the correctly rounded result (power-of-4 blocks scale by an exact
// 2^-k; other powers of two by the f64 1/sqrt(B)).
// Keys: N rows, W width (values per row, a multiple of B), B block (a power of two); V = B / 2 f64x2 vectors.
//
//   H_B[i][j] = (-1)^popcount(i & j) / sqrt(B)  (natural order)      one block, butterflies of level L:
//   a[i], a[i + L] <- a[i] + a[i + L], a[i] - a[i + L]                 for L = 1, 2, 4, ..., B / 2
//   scratch (B f64):  [e0 e1][e2 e3][e4 e5] ... [e(B-2) e(B-1)]        level L >= 2 pairs vectors L / 2 apart;
//                                                                       level 1 pairs the two lanes of a vector
// see: docs/BONSAI2.md §4.2 (the transform, its axis, forward and inverse); ggml ops.cpp
// ggml_compute_forward_fwht_f32 (the same butterflies, in f32).

// Levels L, 2L, 4L (vectors l = L / 2 apart) in registers: 8 vectors l apart per step, over V vectors at s.
// @ts-ignore: decorator
@inline function radix8(s: usize, nv: i32, l: i32): void {
  const step = <usize>l << 4;
  for (let g = 0; g < nv; g += l << 3) {
    for (let j = 0; j < l; j++) {
      const p = s + (<usize>(g + j) << 4);
      const a0 = v128.load(p);
      const a1 = v128.load(p + step);
      const a2 = v128.load(p + 2 * step);
      const a3 = v128.load(p + 3 * step);
      const a4 = v128.load(p + 4 * step);
      const a5 = v128.load(p + 5 * step);
      const a6 = v128.load(p + 6 * step);
      const a7 = v128.load(p + 7 * step);
      // level L: (0, 1) (2, 3) (4, 5) (6, 7)
      const b0 = f64x2.add(a0, a1);
      const b1 = f64x2.sub(a0, a1);
      const b2 = f64x2.add(a2, a3);
      const b3 = f64x2.sub(a2, a3);
      const b4 = f64x2.add(a4, a5);
      const b5 = f64x2.sub(a4, a5);
      const b6 = f64x2.add(a6, a7);
      const b7 = f64x2.sub(a6, a7);
      // level 2L: (0, 2) (1, 3) (4, 6) (5, 7)
      const c0 = f64x2.add(b0, b2);
      const c2 = f64x2.sub(b0, b2);
      const c1 = f64x2.add(b1, b3);
      const c3 = f64x2.sub(b1, b3);
      const c4 = f64x2.add(b4, b6);
      const c6 = f64x2.sub(b4, b6);
      const c5 = f64x2.add(b5, b7);
      const c7 = f64x2.sub(b5, b7);
      // level 4L: (0, 4) (1, 5) (2, 6) (3, 7)
      v128.store(p, f64x2.add(c0, c4));
      v128.store(p + step, f64x2.add(c1, c5));
      v128.store(p + 2 * step, f64x2.add(c2, c6));
      v128.store(p + 3 * step, f64x2.add(c3, c7));
      v128.store(p + 4 * step, f64x2.sub(c0, c4));
      v128.store(p + 5 * step, f64x2.sub(c1, c5));
      v128.store(p + 6 * step, f64x2.sub(c2, c6));
      v128.store(p + 7 * step, f64x2.sub(c3, c7));
    }
  }
}

// Level L alone (vectors l apart), for the levels that do not fill a radix-8 pass.
// @ts-ignore: decorator
@inline function radix2(s: usize, nv: i32, l: i32): void {
  const step = <usize>l << 4;
  for (let g = 0; g < nv; g += l << 1) {
    for (let j = 0; j < l; j++) {
      const p = s + (<usize>(g + j) << 4);
      const a = v128.load(p);
      const b = v128.load(p + step);
      v128.store(p, f64x2.add(a, b));
      v128.store(p + step, f64x2.sub(a, b));
    }
  }
}

// f32 lanes 2, 3 of v as f64.
// @ts-ignore: decorator
@inline function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15));
}

// One block of B >= 16 values at x: into f64 (times the signs when forward), levels 2, 4, 8 on the way, the
// other vector levels in radix-8 (then radix-2) passes, and level 1 on the way out with the scale (and the signs
// when inverse).
function blockSimd(x: usize, block: i32, signs: usize, inverse: bool, scale: f64, s: usize): void {
  const nv = block >> 1;
  // in: 16 values = 8 vectors per step, levels 2, 4, 8 (vectors 1, 2, 4 apart) in registers
  for (let i = 0; i < block; i += 16) {
    const at = <usize>i << 2;
    let x0 = v128.load(x + at);
    let x1 = v128.load(x + at, 16);
    let x2 = v128.load(x + at, 32);
    let x3 = v128.load(x + at, 48);
    if (signs != 0 && !inverse) {
      x0 = f32x4.mul(x0, v128.load(signs + at));
      x1 = f32x4.mul(x1, v128.load(signs + at, 16));
      x2 = f32x4.mul(x2, v128.load(signs + at, 32));
      x3 = f32x4.mul(x3, v128.load(signs + at, 48));
    }
    const a0 = f64x2.promote_low_f32x4(x0);
    const a1 = promoteHigh(x0);
    const a2 = f64x2.promote_low_f32x4(x1);
    const a3 = promoteHigh(x1);
    const a4 = f64x2.promote_low_f32x4(x2);
    const a5 = promoteHigh(x2);
    const a6 = f64x2.promote_low_f32x4(x3);
    const a7 = promoteHigh(x3);
    const b0 = f64x2.add(a0, a1);
    const b1 = f64x2.sub(a0, a1);
    const b2 = f64x2.add(a2, a3);
    const b3 = f64x2.sub(a2, a3);
    const b4 = f64x2.add(a4, a5);
    const b5 = f64x2.sub(a4, a5);
    const b6 = f64x2.add(a6, a7);
    const b7 = f64x2.sub(a6, a7);
    const c0 = f64x2.add(b0, b2);
    const c2 = f64x2.sub(b0, b2);
    const c1 = f64x2.add(b1, b3);
    const c3 = f64x2.sub(b1, b3);
    const c4 = f64x2.add(b4, b6);
    const c6 = f64x2.sub(b4, b6);
    const c5 = f64x2.add(b5, b7);
    const c7 = f64x2.sub(b5, b7);
    const p = s + (<usize>i << 3);
    v128.store(p, f64x2.add(c0, c4));
    v128.store(p, f64x2.add(c1, c5), 16);
    v128.store(p, f64x2.add(c2, c6), 32);
    v128.store(p, f64x2.add(c3, c7), 48);
    v128.store(p, f64x2.sub(c0, c4), 64);
    v128.store(p, f64x2.sub(c1, c5), 80);
    v128.store(p, f64x2.sub(c2, c6), 96);
    v128.store(p, f64x2.sub(c3, c7), 112);
  }
  let l = 8;
  for (; l * 8 <= nv; l <<= 3) radix8(s, nv, l);
  for (; l < nv; l <<= 1) radix2(s, nv, l);
  // out: level 1 pairs the lanes of each vector; two vectors make four values
  const k = f64x2.splat(scale);
  for (let i = 0; i < block; i += 4) {
    const p = s + (<usize>i << 3);
    const a = v128.load(p);
    const b = v128.load(p, 16);
    const t = i8x16.shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23); // [a0, b0]
    const u = i8x16.shuffle(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31); // [a1, b1]
    const sum = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.add(t, u), k)); // [y0, y2, 0, 0]
    const dif = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.sub(t, u), k)); // [y1, y3, 0, 0]
    let y = i8x16.shuffle(sum, dif, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    if (signs != 0 && inverse) y = f32x4.mul(y, v128.load(signs + (<usize>i << 2)));
    v128.store(x + (<usize>i << 2), y);
  }
}

// One block of B < 16 values, element by element (same arithmetic).
function blockScalar(x: usize, block: i32, signs: usize, inverse: bool, scale: f64, s: usize): void {
  for (let e = 0; e < block; e++) {
    let v = load<f32>(x + (<usize>e << 2));
    if (signs != 0 && !inverse) v *= load<f32>(signs + (<usize>e << 2));
    store<f64>(s + (<usize>e << 3), <f64>v);
  }
  for (let len = 1; len < block; len <<= 1) {
    for (let i = 0; i < block; i += len << 1) {
      for (let j = i; j < i + len; j++) {
        const u = load<f64>(s + (<usize>j << 3));
        const v = load<f64>(s + (<usize>(j + len) << 3));
        store<f64>(s + (<usize>j << 3), u + v);
        store<f64>(s + (<usize>(j + len) << 3), u - v);
      }
    }
  }
  for (let e = 0; e < block; e++) {
    let y = <f32>(load<f64>(s + (<usize>e << 3)) * scale);
    if (signs != 0 && inverse) y *= load<f32>(signs + (<usize>e << 2));
    store<f32>(x + (<usize>e << 2), y);
  }
}

// N rows of W f32 values at x, transformed in place block by block. signs: W f32 of +-1, or 0 for none (the
// "identity" sign mode); inverse: 0 forward, 1 inverse. scratch: B f64, 16-byte aligned, overwritten.
export function hadamard_rows(x: usize, rows: i32, width: i32, block: i32, signs: usize, inverse: i32, scratch: usize): void {
  const scale = 1.0 / sqrt<f64>(<f64>block);
  const blocks = width / block;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < blocks; k++) {
      const at = <usize>(r * width + k * block) << 2;
      const s: usize = signs == 0 ? 0 : signs + (<usize>(k * block) << 2);
      if (block >= 16) blockSimd(x + at, block, s, inverse != 0, scale, scratch);
      else blockScalar(x + at, block, s, inverse != 0, scale, scratch);
    }
  }
}

// RoPE: rows of cos/sin for token positions (angles reduced in f64, so large positions stay exact), and the
// rotation of x [T, H, D] f32 in place. Variants: NORM (adjacent pairs) and NEOX (halves); dims >= R untouched.
// Keys: T tokens, H heads, D head dim, R rotary dim (even, <= D), F = R/2 frequencies, W = table row.
//   NORM pairs:  [x0 x1][x2 x3] .. [x(R-2) x(R-1)] | x(R) .. x(D-1) pass through
//   NEOX pairs:  [x0 .. x(F-1)][x(F) .. x(R-1)], pair i = (x(i), x(i+F)) | x(R) .. x(D-1) pass through
// A row W holds R cosines then R signed sines (times the YaRN magnitude), laid out so that one multiply-add
// rotates four lanes:  x' = x * C + swap(x) * S
//   NORM: C = [c0 c0 c1 c1 ..]         S = [-s0 s0 -s1 s1 ..]          swap = exchange neighbours
//   NEOX: C = [c0 .. cF-1 c0 .. cF-1]  S = [-s0 .. -sF-1 s0 .. sF-1]   swap = exchange halves
// Also here, sharing the same sin/cos: sinusoidal position embeddings added to rows (add_sinusoid).
// see: Su et al. 2021, RoFormer, eq. 34; FORMATS.md (RoPE) for the pairings and scalings.

// Cody-Waite reduction by pi/2 in f64: PIO2_1 has 33 significant bits, so k * PIO2_1 is exact for k < 2^20
// (positions up to 2^20 at frequency 1) and the remainder r keeps ~85 bits of pi/2.
// see: musl src/math/__rem_pio2.c (medium case); the constants are musl's.
const INV_PIO2: f64 = reinterpret<f64>(0x3fe45f306dc9c883);
const PIO2_1: f64 = reinterpret<f64>(0x3ff921fb54400000);
const PIO2_1T: f64 = reinterpret<f64>(0x3dd0b4611a626331);
// sin and cos on [-pi/4, pi/4], errors below 2^-34: far below f32 rounding.
// see: musl src/math/__sindf.c, __cosdf.c (minimax coefficients).
const S1: f64 = reinterpret<f64>(0xbfc5555554cbac77);
const S2: f64 = reinterpret<f64>(0x3f811110896efbb2);
const S3: f64 = reinterpret<f64>(0xbf2a00f9e2cae774);
const S4: f64 = reinterpret<f64>(0x3ec6cd878c3b46a7);
const C0: f64 = reinterpret<f64>(0xbfdffffffd0c5e81);
const C1: f64 = reinterpret<f64>(0x3fa55553e1053a42);
const C2: f64 = reinterpret<f64>(0xbf56c087e80f1e27);
const C3: f64 = reinterpret<f64>(0x3ef99342e0ee5069);

// The two results of sinCos (a v128 pair cannot be returned).
let SIN: v128 = f64x2.splat(0);
let COS: v128 = f64x2.splat(0);

// sin and cos of two f64 angles (>= 0) into SIN and COS.
// @ts-ignore: decorator
@inline function sinCos(angle: v128): void {
  const k = f64x2.nearest(f64x2.mul(angle, f64x2.splat(INV_PIO2)));
  const r = f64x2.sub(f64x2.sub(angle, f64x2.mul(k, f64x2.splat(PIO2_1))), f64x2.mul(k, f64x2.splat(PIO2_1T)));
  const z = f64x2.mul(r, r);
  const w = f64x2.mul(z, z);
  const zr = f64x2.mul(z, r);
  const sinHead = f64x2.add(r, f64x2.mul(zr, f64x2.add(f64x2.splat(S1), f64x2.mul(z, f64x2.splat(S2)))));
  const s = f64x2.add(sinHead, f64x2.mul(f64x2.mul(zr, w), f64x2.add(f64x2.splat(S3), f64x2.mul(z, f64x2.splat(S4)))));
  const cosHead = f64x2.add(f64x2.add(f64x2.splat(1.0), f64x2.mul(z, f64x2.splat(C0))), f64x2.mul(w, f64x2.splat(C1)));
  const c = f64x2.add(cosHead, f64x2.mul(f64x2.mul(w, z), f64x2.add(f64x2.splat(C2), f64x2.mul(z, f64x2.splat(C3)))));
  // quadrant q = k mod 4, exact in f64 whatever the size of k: angle = k pi/2 + r
  const q = f64x2.sub(k, f64x2.mul(f64x2.splat(4.0), f64x2.floor(f64x2.mul(k, f64x2.splat(0.25)))));
  const odd = f64x2.eq(f64x2.sub(q, f64x2.mul(f64x2.splat(2.0), f64x2.floor(f64x2.mul(q, f64x2.splat(0.5))))), f64x2.splat(1.0));
  const sinNeg = f64x2.ge(q, f64x2.splat(2.0)); // q = 2, 3
  const cosNeg = f64x2.eq(f64x2.abs(f64x2.sub(q, f64x2.splat(1.5))), f64x2.splat(0.5)); // q = 1, 2
  const signBit = i64x2.splat(0x8000000000000000);
  SIN = v128.xor(v128.bitselect(c, s, odd), v128.and(sinNeg, signBit));
  COS = v128.xor(v128.bitselect(s, c, odd), v128.and(cosNeg, signBit));
}

// Table rows for n positions (u32): row t holds C then S for positions[t], each value times `magnitude`.
// invFreq holds F f64 frequencies padded to an even count; neox selects the layout (see the top).
export function rope_table(
  positions: usize,
  n: i32,
  invFreq: usize,
  freqs: i32,
  magnitude: f64,
  neox: i32,
  table: usize,
): void {
  const rotary = <usize>freqs << 1;
  const rowBytes = rotary << 3;
  const m = f64x2.splat(magnitude);
  for (let t = 0; t < n; t++) {
    const pos = f64x2.splat(<f64>load<u32>(positions + (<usize>t << 2)));
    const row = table + <usize>t * rowBytes;
    const sinRow = row + (rotary << 2);
    for (let i = 0; i < freqs; i += 2) {
      sinCos(f64x2.mul(pos, v128.load(invFreq + (<usize>i << 3))));
      // two frequencies: lanes 0 and 1 of each f32x4 below
      const c = f32x4.demote_f64x2_zero(f64x2.mul(COS, m));
      const s = f32x4.demote_f64x2_zero(f64x2.mul(SIN, m));
      const ns = f32x4.neg(s);
      const two = i + 1 < freqs;
      if (neox) {
        const at = <usize>i << 2;
        const hi = <usize>(i + freqs) << 2;
        if (two) {
          v128.store64_lane(row + at, c, 0);
          v128.store64_lane(row + hi, c, 0);
          v128.store64_lane(sinRow + at, ns, 0);
          v128.store64_lane(sinRow + hi, s, 0);
        } else {
          v128.store32_lane(row + at, c, 0);
          v128.store32_lane(row + hi, c, 0);
          v128.store32_lane(sinRow + at, ns, 0);
          v128.store32_lane(sinRow + hi, s, 0);
        }
      } else {
        const at = <usize>i << 3;
        const cc = v128.shuffle<f32>(c, c, 0, 0, 1, 1);
        const ss = v128.shuffle<f32>(ns, s, 0, 4, 1, 5);
        if (two) {
          v128.store(row + at, cc);
          v128.store(sinRow + at, ss);
        } else {
          v128.store64_lane(row + at, cc, 0);
          v128.store64_lane(sinRow + at, ss, 0);
        }
      }
    }
  }
}

// Rotate n tokens of x [n, heads, headDim] in place, token t with table row rows[t] (u32 row indices).
export function rope_apply_norm(
  rows: usize,
  n: i32,
  heads: i32,
  headDim: i32,
  rotary: i32,
  table: usize,
  x: usize,
): void {
  const rowBytes = <usize>rotary << 3;
  const sinOffset = <usize>rotary << 2;
  const headBytes = <usize>headDim << 2;
  let head = x;
  for (let t = 0; t < n; t++) {
    const row = table + <usize>load<u32>(rows + (<usize>t << 2)) * rowBytes;
    for (let h = 0; h < heads; h++) {
      let p = head;
      let c = row;
      let j = 0;
      for (; j + 4 <= rotary; j += 4) {
        const v = v128.load(p);
        const swapped = v128.shuffle<f32>(v, v, 1, 0, 3, 2);
        v128.store(p, f32x4.add(f32x4.mul(v, v128.load(c)), f32x4.mul(swapped, v128.load(c + sinOffset))));
        p += 16;
        c += 16;
      }
      if (j < rotary) {
        // the last pair when R is not a multiple of 4: same operations, same rounding
        const a = load<f32>(p);
        const b = load<f32>(p, 4);
        store<f32>(p, a * load<f32>(c) + b * load<f32>(c + sinOffset));
        store<f32>(p, b * load<f32>(c, 4) + a * load<f32>(c + sinOffset, 4), 4);
      }
      head += headBytes;
    }
  }
}

export function rope_apply_neox(
  rows: usize,
  n: i32,
  heads: i32,
  headDim: i32,
  rotary: i32,
  table: usize,
  x: usize,
): void {
  const rowBytes = <usize>rotary << 3;
  const sinOffset = <usize>rotary << 2;
  const half = rotary >> 1;
  const halfBytes = <usize>half << 2;
  const headBytes = <usize>headDim << 2;
  let head = x;
  for (let t = 0; t < n; t++) {
    const row = table + <usize>load<u32>(rows + (<usize>t << 2)) * rowBytes;
    for (let h = 0; h < heads; h++) {
      let p = head;
      let c = row;
      let j = 0;
      for (; j + 4 <= half; j += 4) {
        const lo = v128.load(p);
        const hi = v128.load(p + halfBytes);
        const cLo = v128.load(c);
        const cHi = v128.load(c + halfBytes);
        const sLo = v128.load(c + sinOffset);
        const sHi = v128.load(c + sinOffset + halfBytes);
        v128.store(p, f32x4.add(f32x4.mul(lo, cLo), f32x4.mul(hi, sLo)));
        v128.store(p + halfBytes, f32x4.add(f32x4.mul(hi, cHi), f32x4.mul(lo, sHi)));
        p += 16;
        c += 16;
      }
      for (; j < half; j++) {
        const lo = load<f32>(p);
        const hi = load<f32>(p + halfBytes);
        store<f32>(p, lo * load<f32>(c) + hi * load<f32>(c + sinOffset));
        store<f32>(p + halfBytes, hi * load<f32>(c + halfBytes) + lo * load<f32>(c + sinOffset + halfBytes));
        p += 4;
        c += 4;
      }
      head += headBytes;
    }
  }
}

// Sinusoidal position embeddings added to rows [n, dim] (Vaswani et al. 2017, section 3.5): for i < dim/2,
// angle = positions[t] * invFreq[i]; interleaved puts sin at 2i and cos at 2i+1, halves (fairseq, Marian)
// puts sin at i and cos at i + dim/2. dim is even; invFreq holds dim/2 f64 values padded to an even count.
export function add_sinusoid(positions: usize, n: i32, invFreq: usize, dim: i32, halves: i32, out: usize): void {
  const freqs = dim >> 1;
  const rowBytes = <usize>dim << 2;
  for (let t = 0; t < n; t++) {
    const pos = f64x2.splat(<f64>load<u32>(positions + (<usize>t << 2)));
    const row = out + <usize>t * rowBytes;
    for (let i = 0; i < freqs; i += 2) {
      sinCos(f64x2.mul(pos, v128.load(invFreq + (<usize>i << 3))));
      const s = f32x4.demote_f64x2_zero(SIN);
      const c = f32x4.demote_f64x2_zero(COS);
      const two = i + 1 < freqs;
      if (halves) {
        const at = row + (<usize>i << 2);
        const hi = at + (<usize>freqs << 2);
        if (two) {
          v128.store64_lane(at, f32x4.add(v128.load64_zero(at), s), 0);
          v128.store64_lane(hi, f32x4.add(v128.load64_zero(hi), c), 0);
        } else {
          store<f32>(at, load<f32>(at) + f32x4.extract_lane(s, 0));
          store<f32>(hi, load<f32>(hi) + f32x4.extract_lane(c, 0));
        }
      } else {
        const at = row + (<usize>i << 3);
        const sc = v128.shuffle<f32>(s, c, 0, 4, 1, 5);
        if (two) v128.store(at, f32x4.add(v128.load(at), sc));
        else v128.store64_lane(at, f32x4.add(v128.load64_zero(at), sc), 0);
      }
    }
  }
}

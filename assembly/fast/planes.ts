// T-MAC lookup-table projection (mode "fast"): logits[v][r] = sum_j w[r][j] * hidden[v][j] for low-bit rows,
// with each row's weights split into bit-planes and every 4 activations replaced by a 16-entry int8 table.
// Variants: fast_lut (hidden -> tables), fast_project1 (one vector), fast_projectn (a batch, one pass).
// Keys: V vocab, Dp dim padded to whole blocks, N vectors, T = ceil(V/16) tiles of 16 rows, B blocks per row,
//   P bit-planes, Q = groups-of-4 per block / 2 (pairs of groups share one index byte), G = Dp / 4 groups.
// q1_0 has its own kernels (signs.ts: f16 scales, averaged lookups); this file serves the registry formats whose
// fast traits say "planes".
// see: Wei et al., "T-MAC: CPU Renaissance via Table Lookup for Low-Bit LLM Deployment on Edge", EuroSys 2025.
//
// Weights: w = d * (sum_p c_p b_p + o), bits b_p in {0,1}, c_p = 2^p * cmin. With s_p = 2 b_p - 1 in {-1,+1}:
//   w = d * (cmin/2 * sum_p 2^p s_p + K), K = (sum_p c_p)/2 + o, so one block's dot product is
//   d * (cmin/2 * sum_p 2^p sum_g L_g[idx_pg] + K * X), X = sum of the block's activations,
//   L_g[i] = sum_k (bit k of i ? +x_4g+k : -x_4g+k)   (the 16 signed sums of a group of four).
// L_g is kept as u8 = round(L_g / s) + 128 with s = max|L| over the block / 127 (one scale per block).
//
// Tiled layout, one tile of 16 rows, block after block (built once at load by fast_tile_*):
//   [plane 0: Q x 16 index bytes][plane 1 ...]...[d: 16 x f32]      -> P*Q*16 + 64 bytes per tile-block
//   index byte lane 2k is row k, lane 2k+1 is row 8+k; low nibble = group 2q, high nibble = group 2q+1;
//   nibble bit k = the plane bit of element 4g+k.
// Sums stay exact in 16-bit lanes without widening: read as i16, a swizzled vector is lo + 256*hi (the u8
//   entries of rows k and 8+k), so S = sum(v) = Lo + 256 Hi (mod 2^16) and W = sum(v >> 8) = Hi give
//   Lo = S - 256 W (mod 2^16); both are exact while Lo, Hi < 2^16 (at most 255 * Q*2 * (2^P - 1) <= 48960).
//   Plane p enters shifted left by p (linear mod 2^16); the bias 128 per entry comes off at the block end.

import { lut16 } from "./swizzle";
import { MASK_0F, vconst } from "../vconst";

// Sign patterns of the 16 table entries: entry i takes +x_k when bit k of i is set.
// @ts-ignore: decorator
@inline function signs(k: i32, quarter: i32): v128 {
  const i = quarter << 2;
  return f32x4(
    <f32>(((i >> k) & 1) * 2 - 1),
    <f32>((((i + 1) >> k) & 1) * 2 - 1),
    <f32>((((i + 2) >> k) & 1) * 2 - 1),
    <f32>((((i + 3) >> k) & 1) * 2 - 1),
  );
}

// 16 entries of one group as 4 x f32x4, summed in the fixed order ((±x0 ± x1) ± x2) ± x3.
// @ts-ignore: decorator
@inline function entries(x0: v128, x1: v128, x2: v128, x3: v128, q: i32): v128 {
  let e = f32x4.add(f32x4.mul(x0, signs(0, q)), f32x4.mul(x1, signs(1, q)));
  e = f32x4.add(e, f32x4.mul(x2, signs(2, q)));
  return f32x4.add(e, f32x4.mul(x3, signs(3, q)));
}

// @ts-ignore: decorator
@inline function quant(e: v128, inv: v128): v128 {
  return i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(e, inv))), i32x4.splat(128));
}

// Tables for N vectors: hidden [N x Dp] f32 -> lut [N x G x 16] u8, scale [N x B] f32 (= s * mult),
// sums [N x B] f32 (= K * X). blockElems divides Dp and is a multiple of 8.
export function fast_lut(hidden: usize, n: i32, dp: i32, blockElems: i32, mult: f32, k: f32, lut: usize, scale: usize, sums: usize): void {
  const groups = blockElems >> 2;
  const blocks = dp / blockElems;
  let x = hidden;
  let dst = lut;
  for (let v = 0; v < n; v++) {
    for (let b = 0; b < blocks; b++) {
      // pass 1: the largest |entry| of the block (entry 15 and 0 hold +-sum|x| but are summed in order)
      let mx = f32x4.splat(0);
      let total: f32 = 0;
      let p = x;
      for (let g = 0; g < groups; g++) {
        const x0 = f32x4.splat(load<f32>(p));
        const x1 = f32x4.splat(load<f32>(p, 4));
        const x2 = f32x4.splat(load<f32>(p, 8));
        const x3 = f32x4.splat(load<f32>(p, 12));
        mx = f32x4.max(mx, f32x4.abs(entries(x0, x1, x2, x3, 0)));
        mx = f32x4.max(mx, f32x4.abs(entries(x0, x1, x2, x3, 1)));
        mx = f32x4.max(mx, f32x4.abs(entries(x0, x1, x2, x3, 2)));
        mx = f32x4.max(mx, f32x4.abs(entries(x0, x1, x2, x3, 3)));
        total += load<f32>(p);
        total += load<f32>(p, 4);
        total += load<f32>(p, 8);
        total += load<f32>(p, 12);
        p += 16;
      }
      const m = max(max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)));
      const s: f32 = m > 0 ? m / 127 : 0;
      const inv = f32x4.splat(m > 0 ? <f32>127 / m : 0);
      store<f32>(scale, s * mult);
      store<f32>(sums, k * total);
      scale += 4;
      sums += 4;
      // pass 2: the quantized tables, u8 biased by 128 (entries in 1..255)
      p = x;
      for (let g = 0; g < groups; g++) {
        const x0 = f32x4.splat(load<f32>(p));
        const x1 = f32x4.splat(load<f32>(p, 4));
        const x2 = f32x4.splat(load<f32>(p, 8));
        const x3 = f32x4.splat(load<f32>(p, 12));
        const q0 = quant(entries(x0, x1, x2, x3, 0), inv);
        const q1 = quant(entries(x0, x1, x2, x3, 1), inv);
        const q2 = quant(entries(x0, x1, x2, x3, 2), inv);
        const q3 = quant(entries(x0, x1, x2, x3, 3), inv);
        v128.store(dst, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
        dst += 16;
        p += 16;
      }
      x += <usize>blockElems << 2;
    }
  }
}



// fast_project1: one vector; out[16 T] (rows past V are padding). pairs is even.
export function fast_project1(tiled: usize, tiles: i32, blocks: i32, planes: i32, pairs: i32, lut: usize, scale: usize, sums: usize, hasSums: i32, out: usize): void {
  const bias = i16x8.splat(<i16>(256 * pairs * ((1 << planes) - 1)));
  const m0f = vconst(MASK_0F); // from memory: V8 13-15 rebuild a constant vector at each use in a loop
  const lutBlock = <usize>pairs << 5;
  let src = tiled;
  for (let tile = 0; tile < tiles; tile++) {
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let lb = lut;
    for (let b = 0; b < blocks; b++) {
      let S = i16x8.splat(0);
      let W = i16x8.splat(0);
      for (let p = 0; p < planes; p++) {
        let s = i16x8.splat(0);
        let w = i16x8.splat(0);
        let t = lb;
        // 2 index vectors per step: a short body keeps V8 from hoisting every load and spilling registers
        const end = src + (<usize>pairs << 4);
        do {
          let x = v128.load(src);
          let va = lut16(v128.load(t), v128.and(x, m0f));
          let vb = lut16(v128.load(t, 16), v128.and(i16x8.shr_u(x, 4), m0f));
          s = i16x8.add(s, i16x8.add(va, vb));
          w = i16x8.add(w, i16x8.add(i16x8.shr_u(va, 8), i16x8.shr_u(vb, 8)));
          x = v128.load(src, 16);
          va = lut16(v128.load(t, 32), v128.and(x, m0f));
          vb = lut16(v128.load(t, 48), v128.and(i16x8.shr_u(x, 4), m0f));
          s = i16x8.add(s, i16x8.add(va, vb));
          w = i16x8.add(w, i16x8.add(i16x8.shr_u(va, 8), i16x8.shr_u(vb, 8)));
          src += 32;
          t += 64;
        } while (src < end);
        // plane p weighs 2^p; shifting is linear mod 2^16, so the split below stays exact
        S = i16x8.add(S, i16x8.shl(s, p));
        W = i16x8.add(W, i16x8.shl(w, p));
      }
      const lo = i16x8.sub(i16x8.sub(S, i16x8.shl(W, 8)), bias);
      const hi = i16x8.sub(W, bias);
      const sc = f32x4.splat(load<f32>(scale + (<usize>b << 2)));
      const d0 = v128.load(src);
      const d1 = v128.load(src, 16);
      const d2 = v128.load(src, 32);
      const d3 = v128.load(src, 48);
      a0 = f32x4.add(a0, f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), sc), d0));
      a1 = f32x4.add(a1, f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), sc), d1));
      a2 = f32x4.add(a2, f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), sc), d2));
      a3 = f32x4.add(a3, f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), sc), d3));
      if (hasSums) {
        const k = f32x4.splat(load<f32>(sums + (<usize>b << 2)));
        a0 = f32x4.add(a0, f32x4.mul(k, d0));
        a1 = f32x4.add(a1, f32x4.mul(k, d1));
        a2 = f32x4.add(a2, f32x4.mul(k, d2));
        a3 = f32x4.add(a3, f32x4.mul(k, d3));
      }
      src += 64;
      lb += lutBlock;
    }
    v128.store(out, a0);
    v128.store(out, a1, 16);
    v128.store(out, a2, 32);
    v128.store(out, a3, 48);
    out += 64;
  }
}

// fast_projectn: N vectors in one pass over the tiles. Each tile's index vectors are split into nibbles once
// (into split: B*P*Q*32 bytes, L1/L2-resident) and looked up in every vector's tables; each vector then runs
// the one-vector loop over the split nibbles with its accumulators in registers.
// lut, scale and sums hold N vectors at strides lutStride bytes, B floats, B floats; out row v starts at
// out + v * outStride * 4 (outStride >= 16 T).
export function fast_projectn(tiled: usize, tiles: i32, blocks: i32, planes: i32, pairs: i32, lut: usize, lutStride: i32, scale: usize, sums: usize, hasSums: i32, n: i32, outStride: i32, split: usize, out: usize): void {
  const bias = i16x8.splat(<i16>(256 * pairs * ((1 << planes) - 1)));
  const m0f = vconst(MASK_0F); // from memory: V8 13-15 rebuild a constant vector at each use in a loop
  const idxBytes = <usize>(planes * pairs) << 4;
  const outBytes = <usize>outStride << 2;
  let src = tiled;
  for (let tile = 0; tile < tiles; tile++) {
    // nibbles of the whole tile, once for the batch
    const tileStart = src;
    let sp = split;
    for (let b = 0; b < blocks; b++) {
      const end = src + idxBytes;
      do {
        const x = v128.load(src);
        v128.store(sp, v128.and(x, m0f));
        v128.store(sp, v128.and(i16x8.shr_u(x, 4), m0f), 16);
        src += 16;
        sp += 32;
      } while (src < end);
      src += 64; // the block's d
    }
    let v = 0;
    // two vectors per pass over the nibbles: each nibble load serves two lookups
    for (; v + 1 < n; v += 2) {
      const oa = out + <usize>v * outBytes + (<usize>tile << 6);
      const ob = oa + outBytes;
      v128.store(oa, f32x4.splat(0));
      v128.store(oa, f32x4.splat(0), 16);
      v128.store(oa, f32x4.splat(0), 32);
      v128.store(oa, f32x4.splat(0), 48);
      v128.store(ob, f32x4.splat(0));
      v128.store(ob, f32x4.splat(0), 16);
      v128.store(ob, f32x4.splat(0), 32);
      v128.store(ob, f32x4.splat(0), 48);
      let d = tileStart;
      let t = lut + <usize>v * <usize>lutStride;
      let sp = split;
      for (let b = 0; b < blocks; b++) {
        let S = i16x8.splat(0);
        let W = i16x8.splat(0);
        let S2 = i16x8.splat(0);
        let W2 = i16x8.splat(0);
        const lb = t;
        for (let p = 0; p < planes; p++) {
          let s = i16x8.splat(0);
          let w = i16x8.splat(0);
          let s2 = i16x8.splat(0);
          let w2 = i16x8.splat(0);
          t = lb;
          const end = sp + (<usize>pairs << 5);
          do {
            const ia = v128.load(sp);
            const ib = v128.load(sp, 16);
            let va = lut16(v128.load(t), ia);
            let vb = lut16(v128.load(t, 16), ib);
            s = i16x8.add(s, i16x8.add(va, vb));
            w = i16x8.add(w, i16x8.add(i16x8.shr_u(va, 8), i16x8.shr_u(vb, 8)));
            va = lut16(v128.load(t + <usize>lutStride), ia);
            vb = lut16(v128.load(t + <usize>lutStride, 16), ib);
            s2 = i16x8.add(s2, i16x8.add(va, vb));
            w2 = i16x8.add(w2, i16x8.add(i16x8.shr_u(va, 8), i16x8.shr_u(vb, 8)));
            sp += 32;
            t += 32;
          } while (sp < end);
          S = i16x8.add(S, i16x8.shl(s, p));
          W = i16x8.add(W, i16x8.shl(w, p));
          S2 = i16x8.add(S2, i16x8.shl(s2, p));
          W2 = i16x8.add(W2, i16x8.shl(w2, p));
        }
        d += idxBytes;
        const ka = hasSums ? load<f32>(sums + ((<usize>(v * blocks + b)) << 2)) : 0;
        const kb = hasSums ? load<f32>(sums + ((<usize>((v + 1) * blocks + b)) << 2)) : 0;
        blockEnd(S, W, bias, load<f32>(scale + ((<usize>(v * blocks + b)) << 2)), ka, d, oa);
        blockEnd(S2, W2, bias, load<f32>(scale + ((<usize>((v + 1) * blocks + b)) << 2)), kb, d, ob);
        d += 64;
      }
    }
    for (; v < n; v++) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let d = tileStart;
      let t = lut + <usize>v * <usize>lutStride;
      let sp = split;
      const sc0 = scale + ((<usize>(v * blocks)) << 2);
      const k0 = sums + ((<usize>(v * blocks)) << 2);
      for (let b = 0; b < blocks; b++) {
        let S = i16x8.splat(0);
        let W = i16x8.splat(0);
        const lb = t;
        for (let p = 0; p < planes; p++) {
          let s = i16x8.splat(0);
          let w = i16x8.splat(0);
          t = lb;
          const end = sp + (<usize>pairs << 5);
          do {
            let va = lut16(v128.load(t), v128.load(sp));
            let vb = lut16(v128.load(t, 16), v128.load(sp, 16));
            s = i16x8.add(s, i16x8.add(va, vb));
            w = i16x8.add(w, i16x8.add(i16x8.shr_u(va, 8), i16x8.shr_u(vb, 8)));
            va = lut16(v128.load(t, 32), v128.load(sp, 32));
            vb = lut16(v128.load(t, 48), v128.load(sp, 48));
            s = i16x8.add(s, i16x8.add(va, vb));
            w = i16x8.add(w, i16x8.add(i16x8.shr_u(va, 8), i16x8.shr_u(vb, 8)));
            sp += 64;
            t += 64;
          } while (sp < end);
          S = i16x8.add(S, i16x8.shl(s, p));
          W = i16x8.add(W, i16x8.shl(w, p));
        }
        const lo = i16x8.sub(i16x8.sub(S, i16x8.shl(W, 8)), bias);
        const hi = i16x8.sub(W, bias);
        d += idxBytes;
        const sc = f32x4.splat(load<f32>(sc0 + (<usize>b << 2)));
        const d0 = v128.load(d);
        const d1 = v128.load(d, 16);
        const d2 = v128.load(d, 32);
        const d3 = v128.load(d, 48);
        a0 = f32x4.add(a0, f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), sc), d0));
        a1 = f32x4.add(a1, f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), sc), d1));
        a2 = f32x4.add(a2, f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), sc), d2));
        a3 = f32x4.add(a3, f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), sc), d3));
        if (hasSums) {
          const k = f32x4.splat(load<f32>(k0 + (<usize>b << 2)));
          a0 = f32x4.add(a0, f32x4.mul(k, d0));
          a1 = f32x4.add(a1, f32x4.mul(k, d1));
          a2 = f32x4.add(a2, f32x4.mul(k, d2));
          a3 = f32x4.add(a3, f32x4.mul(k, d3));
        }
        d += 64;
      }
      const o = out + <usize>v * outBytes + (<usize>tile << 6);
      v128.store(o, a0);
      v128.store(o, a1, 16);
      v128.store(o, a2, 32);
      v128.store(o, a3, 48);
    }
  }
}

// out[0..15] += d * (I * sc + k) for one tile-block; I from S and W as in fast_project1.
// @ts-ignore: decorator
@inline function blockEnd(S: v128, W: v128, bias: v128, scale: f32, k: f32, d: usize, out: usize): void {
  const lo = i16x8.sub(i16x8.sub(S, i16x8.shl(W, 8)), bias);
  const hi = i16x8.sub(W, bias);
  const sc = f32x4.splat(scale);
  const kk = f32x4.splat(k);
  const d0 = v128.load(d);
  const d1 = v128.load(d, 16);
  const d2 = v128.load(d, 32);
  const d3 = v128.load(d, 48);
  v128.store(out, f32x4.add(f32x4.add(v128.load(out), f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), sc), d0)), f32x4.mul(kk, d0)));
  v128.store(out, f32x4.add(f32x4.add(v128.load(out, 16), f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), sc), d1)), f32x4.mul(kk, d1)), 16);
  v128.store(out, f32x4.add(f32x4.add(v128.load(out, 32), f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), sc), d2)), f32x4.mul(kk, d2)), 32);
  v128.store(out, f32x4.add(f32x4.add(v128.load(out, 48), f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), sc), d3)), f32x4.mul(kk, d3)), 48);
}

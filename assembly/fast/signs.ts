// Q1_0 lookup-table projection (mode "fast"), the 1-bit head of the Bonsai models: planes.ts specialised to one
// bit-plane and 128-element blocks, with a smaller tiled copy and fewer operations per lookup.
import { lut16 } from "./swizzle";
import { MASK_0F, vconst } from "../vconst";

// Keys: T tiles of 16 rows, B blocks per row, Q = 16 index bytes per row and block (pairs of groups of 4).
//
// Tiled layout, tile after tile, block after block (built by fast_tile_signs):
//   [16 index vectors: 256 bytes][|d| of the 16 rows: 16 x u16, f16 bits without the sign]   = 288 bytes
//   index vector q, lane 2k = row k, lane 2k+1 = row 8+k; low nibble = group 2q, high nibble = group 2q+1.
//   A negative d is stored as |d| with the block's bits inverted: w = d (2b - 1) = |d| (2(1-b) - 1).
//   f16 bits << 13 read as f32 are the value times 2^-112 (for normals and subnormals alike): two shifts and
//   a multiply instead of a 32-byte f32 copy per block, so the tiled copy is the size of the packed table.
//
// Aggregation: the two lookups of an index vector are averaged in u8, i8x16.avgr_u(a, b) = (a + b + 1) >> 1,
// one instruction instead of widening both (T-MAC's "fast aggregation"). With entries a = La + 128,
// b = Lb + 128 the average is 128 + (La + Lb) / 2 + e, e in {0, 1/2}: over a block's 16 pairs the sum is
// sum(La + Lb) / 2 + sum(e), and sum(e) is taken as its mean 4 (error within +-4 table steps of a block's
// sum/2, i.e. +-8 steps of the sum; the int8 tables themselves are within +-16). Sums stay exact in 16-bit
// lanes as in planes.ts (S = Lo + 256 Hi, W = Hi).

// The block's 16 row scales |d| as f32 (times 2^-112: the caller's scale carries 2^112).
// @ts-ignore: decorator
@inline function dLow(h: v128): v128 {
  return i32x4.shl(i32x4.extend_low_i16x8_u(h), 13);
}
// @ts-ignore: decorator
@inline function dHigh(h: v128): v128 {
  return i32x4.shl(i32x4.extend_high_i16x8_u(h), 13);
}

// Two lookups of one index vector at src with the group-pair tables at t, averaged.
// @ts-ignore: decorator
@inline function pairAvg(src: usize, t: usize, m0f: v128): v128 {
  const x = v128.load(src);
  const va = lut16(v128.load(t), v128.and(x, m0f));
  const vb = lut16(v128.load(t, 16), v128.and(i16x8.shr_u(x, 4), m0f));
  return i8x16.avgr_u(va, vb);
}

// Block sums of 16 averaged lookups minus the bias: 128 per entry plus the mean rounding 4.
const BIAS: i16 = 16 * 128 + 4;
// 2 (the average halves) * 2^112 (the f16 bits read as f32)
const DSCALE: f32 = 2 * 5.192296858534828e33;

// acc[0..3] += (sums of rows 0..15) * sc * d, d from the 16 u16 at dp.
// @ts-ignore: decorator
@inline function blockOut(S: v128, W: v128, sc: f32, dp: usize, out: usize): void {
  const bias = i16x8.splat(BIAS);
  const lo = i16x8.sub(i16x8.sub(S, i16x8.shl(W, 8)), bias);
  const hi = i16x8.sub(W, bias);
  const s = f32x4.splat(sc * DSCALE);
  const h0 = v128.load(dp);
  const h1 = v128.load(dp, 16);
  v128.store(out, f32x4.add(v128.load(out), f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), s), dLow(h0))));
  v128.store(out, f32x4.add(v128.load(out, 16), f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), s), dHigh(h0))), 16);
  v128.store(out, f32x4.add(v128.load(out, 32), f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), s), dLow(h1))), 32);
  v128.store(out, f32x4.add(v128.load(out, 48), f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), s), dHigh(h1))), 48);
}

// One vector: lut [B x 16 pairs x 32 bytes] and scale [B] from fast_lut (mult 1, k 0); out [16 T] floats.
export function fast_signs_project1(tiled: usize, tiles: i32, blocks: i32, lut: usize, scale: usize, out: usize): void {
  const m0f = vconst(MASK_0F); // from memory: V8 13-15 rebuild a constant vector at each use in a loop
  let src = tiled;
  for (let tile = 0; tile < tiles; tile++) {
    v128.store(out, f32x4.splat(0));
    v128.store(out, f32x4.splat(0), 16);
    v128.store(out, f32x4.splat(0), 32);
    v128.store(out, f32x4.splat(0), 48);
    let t = lut;
    for (let b = 0; b < blocks; b++) {
      let s = i16x8.splat(0);
      let w = i16x8.splat(0);
      const end = src + 256;
      do {
        let v = pairAvg(src, t, m0f);
        s = i16x8.add(s, v);
        w = i16x8.add(w, i16x8.shr_u(v, 8));
        v = pairAvg(src + 16, t + 32, m0f);
        s = i16x8.add(s, v);
        w = i16x8.add(w, i16x8.shr_u(v, 8));
        src += 32;
        t += 64;
      } while (src < end);
      blockOut(s, w, load<f32>(scale + (<usize>b << 2)), src, out);
      src += 32;
    }
    out += 64;
  }
}

// A batch of n vectors in one pass over the tiles: each tile's nibbles are split once into split
// (B x 512 bytes, cache-resident) and looked up for every vector, two vectors per pass over them.
// lut, scale: n vectors at strides lutStride bytes and B floats; out row v at out + v * outStride * 4.
export function fast_signs_projectn(tiled: usize, tiles: i32, blocks: i32, lut: usize, lutStride: i32, scale: usize, n: i32, outStride: i32, split: usize, out: usize): void {
  const m0f = vconst(MASK_0F); // from memory: V8 13-15 rebuild a constant vector at each use in a loop
  const outBytes = <usize>outStride << 2;
  const tileBytes = <usize>blocks * 288;
  for (let tile = 0; tile < tiles; tile++) {
    const tileStart = tiled + <usize>tile * tileBytes;
    let src = tileStart;
    let sp = split;
    for (let b = 0; b < blocks; b++) {
      const end = src + 256;
      do {
        const x = v128.load(src);
        v128.store(sp, v128.and(x, m0f));
        v128.store(sp, v128.and(i16x8.shr_u(x, 4), m0f), 16);
        src += 16;
        sp += 32;
      } while (src < end);
      src += 32;
    }
    for (let v = 0; v < n; v += 2) {
      const two = v + 1 < n;
      const oa = out + <usize>v * outBytes + (<usize>tile << 6);
      const ob = two ? oa + outBytes : oa; // a lone last vector computes twice into the same row
      for (let o: usize = 0; o < 64; o += 16) {
        v128.store(oa + o, f32x4.splat(0));
        v128.store(ob + o, f32x4.splat(0));
      }
      const ta = lut + <usize>v * <usize>lutStride;
      const tb = two ? ta + <usize>lutStride : ta;
      const sa = scale + ((<usize>v * <usize>blocks) << 2);
      const sb = two ? sa + (<usize>blocks << 2) : sa;
      let t: usize = 0;
      sp = split;
      let dp = tileStart + 256;
      for (let b = 0; b < blocks; b++) {
        let s = i16x8.splat(0);
        let w = i16x8.splat(0);
        let s2 = i16x8.splat(0);
        let w2 = i16x8.splat(0);
        const end = sp + 512;
        do {
          const ia = v128.load(sp);
          const ib = v128.load(sp, 16);
          const v1 = i8x16.avgr_u(lut16(v128.load(ta + t), ia), lut16(v128.load(ta + t, 16), ib));
          s = i16x8.add(s, v1);
          w = i16x8.add(w, i16x8.shr_u(v1, 8));
          const v2 = i8x16.avgr_u(lut16(v128.load(tb + t), ia), lut16(v128.load(tb + t, 16), ib));
          s2 = i16x8.add(s2, v2);
          w2 = i16x8.add(w2, i16x8.shr_u(v2, 8));
          sp += 32;
          t += 32;
        } while (sp < end);
        // the lone vector's second pass would add twice: only the first writes
        blockOut(s, w, load<f32>(sa + (<usize>b << 2)), dp, oa);
        if (two) blockOut(s2, w2, load<f32>(sb + (<usize>b << 2)), dp, ob);
        dp += 288;
      }
    }
  }
}

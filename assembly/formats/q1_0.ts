// Q1_0 rows (PrismML Bonsai 1-bit, ggml type 41): blocks of 128 sign bits sharing one f16 scale d.
// decode: ids -> f32 rows (bit ? d : -d, as dequantize_row_q1_0); encode: f32 -> blocks, byte-identical to
// quantize_row_q1_0_ref. Keys: V vocab, D dim, N ids, B = 128; a row is ceil(D / 128) blocks of 18 bytes.
//   block (18 bytes): [ d f16 | qs[0] | qs[1] | ... | qs[15] ]
//                       0-1     2       3             17
//   element j = bit (j % 8) of qs[j / 8], least significant bit first: 1 -> +d, 0 -> -d
import { f16ToF32, f32ToF16 } from "../half";
import { hsum } from "../madd";
import { SCRATCH, SIGNS_AT } from "../scratch";
import { decodeRows } from "./block-rows";

// SIGNS[b] holds 8 lanes of sign masks for the byte b: lane k is 0 when bit k is set, else the f32 sign bit.
// d XOR mask is then +d or -d, exactly C's `-d` (a sign flip), so decoding a byte is 2 loads and 2 xors.
// Built on first use in this instance's scratch (scratch.ts): signsAt is where it was built last.
let signsAt: usize = 0;
// @ts-ignore: decorator
@inline function signs(): usize {
  return SCRATCH + SIGNS_AT;
}

function buildSigns(): void {
  for (let b = 0; b < 256; b++) {
    for (let k = 0; k < 8; k++) {
      store<u32>(signs() + (<usize>b << 5) + (<usize>k << 2), (b >> k) & 1 ? 0 : 0x80000000);
    }
  }
  signsAt = SCRATCH;
}

// One whole block: the row walker's block type (block-rows.ts)
// @ts-ignore: decorator
@final class Q1_0Block {
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    const d = f32x4.splat(f16ToF32(load<u16>(src)));
    expand32(dst, load<u32>(src, 2), d);
    expand32(dst + 128, load<u32>(src, 6), d);
    expand32(dst + 256, load<u32>(src, 10), d);
    expand32(dst + 384, load<u32>(src, 14), d);
  }
}

export function decode_q1_0(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  if (signsAt != SCRATCH) buildSigns();
  decodeRows<Q1_0Block>(table, rowBytes, ids, n, dim, out, 128, 18);
}

// 32 bits (4 bytes, byte 0 first) -> 32 f32 values
// @ts-ignore: decorator
@inline function expand32(dst: usize, bits: u32, d: v128): void {
  expand8(dst, signs() + ((<usize>bits & 255) << 5), d);
  expand8(dst + 32, signs() + ((<usize>(bits >> 8) & 255) << 5), d);
  expand8(dst + 64, signs() + ((<usize>(bits >> 16) & 255) << 5), d);
  expand8(dst + 96, signs() + (<usize>(bits >> 24) << 5), d);
}

// @ts-ignore: decorator
@inline function expand8(dst: usize, masks: usize, d: v128): void {
  v128.store(dst, v128.xor(d, v128.load(masks)));
  v128.store(dst, v128.xor(d, v128.load(masks, 16)), 16);
}

// Encode n f32 values (whole blocks): d = mean |x| as a running f32 sum in element order, bit = x >= 0
// (so -0 gives 1 and NaN gives 0). see: ggml-quants.c quantize_row_q1_0_ref
export function encode_q1_0(src: usize, n: usize, dst: usize): void {
  const blocks = n >> 7;
  let b: usize = 0;
  // four blocks at a time, one per lane: each lane still adds its own block's values in element order
  for (; b + 4 <= blocks; b += 4) {
    let sum = f32x4.splat(0);
    let p = src;
    for (let j = 0; j < 32; j++) {
      const a = f32x4.abs(v128.load(p));
      const c = f32x4.abs(v128.load(p, 512));
      const e = f32x4.abs(v128.load(p, 1024));
      const g = f32x4.abs(v128.load(p, 1536));
      // transpose 4x4: row k gets element k of each block
      const t0 = v128.shuffle<f32>(a, c, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(a, c, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(e, g, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(e, g, 2, 6, 3, 7);
      sum = f32x4.add(sum, v128.shuffle<i64>(t0, t2, 0, 2));
      sum = f32x4.add(sum, v128.shuffle<i64>(t0, t2, 1, 3));
      sum = f32x4.add(sum, v128.shuffle<i64>(t1, t3, 0, 2));
      sum = f32x4.add(sum, v128.shuffle<i64>(t1, t3, 1, 3));
      p += 16;
    }
    const d = f32x4.div(sum, f32x4.splat(128.0));
    store<u16>(dst, <u16>f32ToF16(f32x4.extract_lane(d, 0)));
    signBits(dst + 2, src);
    store<u16>(dst, <u16>f32ToF16(f32x4.extract_lane(d, 1)), 18);
    signBits(dst + 20, src + 512);
    store<u16>(dst, <u16>f32ToF16(f32x4.extract_lane(d, 2)), 36);
    signBits(dst + 38, src + 1024);
    store<u16>(dst, <u16>f32ToF16(f32x4.extract_lane(d, 3)), 54);
    signBits(dst + 56, src + 1536);
    src += 2048;
    dst += 72;
  }
  for (; b < blocks; b++) {
    let sum: f32 = 0;
    for (let j = 0; j < 128; j++) sum += abs<f32>(load<f32>(src + (<usize>j << 2)));
    store<u16>(dst, <u16>f32ToF16(sum / 128.0));
    signBits(dst + 2, src);
    src += 512;
    dst += 18;
  }
}

// 128 values -> 16 bytes of bits (x >= 0), 8 values per byte
function signBits(dst: usize, src: usize): void {
  const zero = f32x4.splat(0);
  for (let k = 0; k < 16; k++) {
    const lo = i32x4.bitmask(f32x4.ge(v128.load(src), zero));
    const hi = i32x4.bitmask(f32x4.ge(v128.load(src, 16), zero));
    store<u8>(dst + k, <u8>(lo | (hi << 4)));
    src += 32;
  }
}

// Exact dot of one Q1_0 row with one f32 vector of `dim` values, straight from the packed bytes: per block,
// d * sum(bit ? x_j : -x_j), the sign flips being xors with SIGNS (no products until the block's sum).
// The same value as summing (bit ? d : -d) * x_j, a few roundings apart. A partial last block (dim not a
// multiple of 128: x has only `dim` values) is summed in scalar. Used by the projection for small batches.
export function dot_q1_0(row: usize, x: usize, dim: i32): f32 {
  if (signsAt != SCRATCH) buildSigns();
  let acc = f32x4.splat(0);
  let nonFinite: f32 = 0;
  const full = dim >> 7;
  for (let b = 0; b < full; b++) {
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let bits = row + 2;
    // 4 bytes (32 values) per step, each accumulator takes one pair of 4-lane chunks per byte
    for (let k = 0; k < 4; k++) {
      const w = load<u32>(bits);
      let m = signs() + ((<usize>w & 255) << 5);
      a0 = f32x4.add(a0, v128.xor(v128.load(x), v128.load(m)));
      a1 = f32x4.add(a1, v128.xor(v128.load(x, 16), v128.load(m, 16)));
      m = signs() + ((<usize>(w >> 8) & 255) << 5);
      a2 = f32x4.add(a2, v128.xor(v128.load(x, 32), v128.load(m)));
      a3 = f32x4.add(a3, v128.xor(v128.load(x, 48), v128.load(m, 16)));
      m = signs() + ((<usize>(w >> 16) & 255) << 5);
      a0 = f32x4.add(a0, v128.xor(v128.load(x, 64), v128.load(m)));
      a1 = f32x4.add(a1, v128.xor(v128.load(x, 80), v128.load(m, 16)));
      m = signs() + (<usize>(w >> 24) << 5);
      a2 = f32x4.add(a2, v128.xor(v128.load(x, 96), v128.load(m)));
      a3 = f32x4.add(a3, v128.xor(v128.load(x, 112), v128.load(m, 16)));
      bits += 4;
      x += 128;
    }
    const s = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
    const d = f16ToF32(load<u16>(row));
    // an Inf or NaN d multiplies the block's whole sum, as ggml's d * sum (per lane, mixed signs give NaN)
    if (d - d == 0) acc = f32x4.add(acc, f32x4.mul(s, f32x4.splat(d)));
    else nonFinite += hsum(s) * d;
    row += 18;
  }
  let total = hsum(acc) + nonFinite;
  const tail = dim & 127;
  if (tail) {
    let s: f32 = 0;
    for (let j = 0; j < tail; j++) {
      const v = load<f32>(x + (<usize>j << 2));
      s += (load<u8>(row + 2 + (j >> 3)) >> (j & 7)) & 1 ? v : -v;
    }
    total += s * f16ToF32(load<u16>(row));
  }
  return total;
}

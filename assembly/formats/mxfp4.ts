// MXFP4 rows (ggml type 39, OCP microscaling FP4): blocks of 32 FP4 (E2M1) codes sharing one E8M0 exponent.
// decode_mxfp4: ids -> f32 rows (level * 2^(e - 128), as dequantize_row_mxfp4); dot_mxfp4: exact dot from
// the packed row; encode_mxfp4: f32 -> blocks, byte-identical to quantize_row_mxfp4_ref.
// Keys: D dim, N ids, B = 32 elements per block; a row is ceil(D / 32) blocks of 17 bytes.
//   block (17 bytes): [ e u8 | qs[0] | qs[1] | ... | qs[15] ]
//                       0      1       2             16
//   qs[j] = code of element j in the low nibble, of element j + 16 in the high nibble
//   code c: bit 3 the sign, bits 0-2 the E2M1 magnitude; ggml keeps the levels doubled (kvalues_mxfp4:
//   0 1 2 3 4 6 8 12, then the same negated), so the scale is half of 2^(e - 127): 2^(e - 128), a subnormal
//   f32 for e < 2.
// see: ggml-common.h block_mxfp4, kvalues_fp4; ggml-impl.h ggml_e8m0_to_fp32_half; ggml-quants.c
// quantize_row_mxfp4_ref, best_index_mxfp4, dequantize_row_mxfp4; OCP Microscaling Formats (MX) v1.0 §5.
import { x86Trunc } from "../cround";
import { lowBytes } from "./q8_0";
import { decodeRows } from "./block-rows";
import { decodeLevels, dotLevels } from "./nibble-levels";

// ggml's kvalues_mxfp4 (kvalues_fp4), as 16 signed bytes (a swizzle table).
// @ts-ignore: decorator
@inline function levels(): v128 {
  return i8x16(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
}

// ggml_e8m0_to_fp32_half: 2^(e - 128) from its bits (e < 2: the subnormals 2^-128, 2^-127).
// @ts-ignore: decorator
@inline function e8m0Half(e: u32): f32 {
  return reinterpret<f32>(e < 2 ? <u32>0x00200000 << e : (e - 1) << 23);
}

// The block as block-rows.ts and nibble-levels.ts take it.
// @ts-ignore: decorator
@final class MXFP4Block {
  // @ts-ignore: decorator
  @inline scale(blk: usize): f32 {
    return e8m0Half(load<u8>(blk));
  }
  // @ts-ignore: decorator
  @inline levels(): v128 {
    return levels();
  }
  // @ts-ignore: decorator
  @inline decode(src: usize, dst: usize): void {
    decodeLevels<MXFP4Block>(src, dst, 1);
  }
}

export function decode_mxfp4(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  decodeRows<MXFP4Block>(table, rowBytes, ids, n, dim, out, 32, 17);
}

// Exact dot of one MXFP4 row with one f32 vector of `dim` values (whole blocks): per block,
// 2^(e - 128) * sum(level_j x_j).
export function dot_mxfp4(row: usize, x: usize, dim: i32): f32 {
  return dotLevels<MXFP4Block>(row, x, dim, 1, 17);
}

// ---- encode

// best_index_mxfp4(x, d) on four lanes: the first code of least |level * d - x| (f32, strict <). For x >= 0
// (and NaN) only codes 0..7 can win: every negative level is at least as far, and loses the tie. For x < 0,
// code 0 (error |x|) beats codes 1..8, and codes 9..15 have exactly the errors of codes 1..7 for |x| (f32
// subtraction is symmetric in sign), so the search runs on |x| and the sign bit goes on any code but 0.
// The candidates c1..c7 are the positive levels times d.
// @ts-ignore: decorator
@inline function code4(x: v128, c1: v128, c2: v128, c3: v128, c4: v128, c6: v128, c8: v128, c12: v128): v128 {
  const a = f32x4.abs(x);
  // code 0: |0 * d - x|; then each candidate in ggml's order, taken where strictly nearer (the first nearest wins)
  let best = a;
  let code = i32x4.splat(0);
  code = nearer(code, 1, c1, a, best);
  best = nearest(c1, a, best);
  code = nearer(code, 2, c2, a, best);
  best = nearest(c2, a, best);
  code = nearer(code, 3, c3, a, best);
  best = nearest(c3, a, best);
  code = nearer(code, 4, c4, a, best);
  best = nearest(c4, a, best);
  code = nearer(code, 5, c6, a, best);
  best = nearest(c6, a, best);
  code = nearer(code, 6, c8, a, best);
  best = nearest(c8, a, best);
  code = nearer(code, 7, c12, a, best);
  // the sign bit for x < 0 and a code other than 0
  const negative = v128.and(f32x4.lt(x, f32x4.splat(0)), i32x4.ne(code, i32x4.splat(0)));
  return v128.or(code, v128.and(negative, i32x4.splat(8)));
}

// |c - a|: a candidate's error (f32, as best_index_mxfp4's fabsf(kvalue * d - x)).
// @ts-ignore: decorator
@inline function error(c: v128, a: v128): v128 {
  return f32x4.abs(f32x4.sub(c, a));
}

// `code` with `k` in the lanes where candidate c is strictly nearer than `best`.
// @ts-ignore: decorator
@inline function nearer(code: v128, k: i32, c: v128, a: v128, best: v128): v128 {
  return v128.bitselect(i32x4.splat(k), code, f32x4.lt(error(c, a), best));
}

// The least error so far once candidate c is seen (its error where strictly less than `best`).
// @ts-ignore: decorator
@inline function nearest(c: v128, a: v128, best: v128): v128 {
  const err = error(c, a);
  return v128.bitselect(err, best, f32x4.lt(err, best));
}

// Encode n f32 values (whole blocks): amax = max |x| (`amax < fabsf(v)`, so NaN never wins),
// e = (uint8_t)(floorf(log2f(amax)) - 2 + 127) (0 for amax 0), d = 2^(e - 128), each code the nearest level.
// floorf(log2f(x)) is computed as floor of the f64 log2 rounded to f32: equal to glibc's for every positive
// finite f32 (checked over all of them; 7456 values just below a power of two round up to it). An x86
// conversion keeps the low byte: amax below 2^-125 wraps around (1e-40 gives e = 248), inf gives 0.
// see: ggml-quants.c quantize_row_mxfp4_ref
export function encode_mxfp4(src: usize, n: usize, dst: usize): void {
  for (let b: usize = 0; b < n; b += 32) {
    let m = f32x4.pmax(f32x4.splat(0), f32x4.abs(v128.load(src)));
    for (let k: usize = 16; k < 128; k += 16) m = f32x4.pmax(m, f32x4.abs(v128.load(src + k)));
    m = f32x4.pmax(m, v128.shuffle<f32>(m, m, 2, 3, 0, 1));
    m = f32x4.pmax(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
    const amax = f32x4.extract_lane(m, 0);
    const e: u32 = amax > 0 ? <u8>x86Trunc(floor<f32>(<f32>Math.log2(<f64>amax)) - 2 + 127) : 0;
    const d = e8m0Half(e);
    store<u8>(dst, <u8>e);
    const c1 = f32x4.splat(d);
    const c2 = f32x4.splat(<f32>2 * d);
    const c3 = f32x4.splat(<f32>3 * d);
    const c4 = f32x4.splat(<f32>4 * d);
    const c6 = f32x4.splat(<f32>6 * d);
    const c8 = f32x4.splat(<f32>8 * d);
    const c12 = f32x4.splat(<f32>12 * d);
    // elements 0..15 (h = 0) go to the low nibbles, 16..31 to the high ones
    let lo = i8x16.splat(0);
    for (let h: usize = 0; h < 128; h += 64) {
      const x = src + h;
      const codes = lowBytes(
        code4(v128.load(x), c1, c2, c3, c4, c6, c8, c12),
        code4(v128.load(x, 16), c1, c2, c3, c4, c6, c8, c12),
        code4(v128.load(x, 32), c1, c2, c3, c4, c6, c8, c12),
        code4(v128.load(x, 48), c1, c2, c3, c4, c6, c8, c12),
      );
      if (h == 0) lo = codes;
      else v128.store(dst, v128.or(lo, i8x16.shl(codes, 4)), 1);
    }
    src += 128;
    dst += 17;
  }
}

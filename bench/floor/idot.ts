// The compute floor of a head in WebAssembly: the cheapest kernel that still does one 8-bit multiply-add per
// weight of a V x D head against one int8 activation vector, with nothing else (no scales, no unpacking, no
// float work) and no memory traffic: every row's weights are the same D bytes (stride 0), in L1 with the
// activations. Per 16 weights: one load and one 8-bit dot into an i32x4 (relaxed:
// i32x4.relaxed_dot_i8x16_i7x16_add_s; baseline: the bytes widened to i16 and two i32x4.dot_i16x8_s). Any kernel
// of mode "ggml" does at least this arithmetic and reads at least its format's bytes, so the larger of this time
// and the memory floor's bounds what WebAssembly's 128-bit SIMD can reach on this engine and core.
// bench/floor.mjs compiles it with asc at bench time; it is not part of the shipped wasm.
// Keys: V rows at w, `stride` bytes apart, D weights per row (a multiple of 64), x: D int8 activations, out: V
// i32 sums.

// @ts-ignore: decorator
@inline function dot16(acc: v128, w: v128, x: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_dot_i8x16_i7x16_add_s(w, x, acc);
  const lo = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w), i16x8.extend_low_i8x16_s(x));
  const hi = i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w), i16x8.extend_high_i8x16_s(x));
  return i32x4.add(acc, i32x4.add(lo, hi));
}

export function idot(w: usize, stride: usize, rows: i32, dim: i32, x: usize, out: usize): void {
  for (let r = 0; r < rows; r++, w += stride) {
    // four independent sums, so the loop waits on neither one chain of adds nor one load
    let a = i32x4.splat(0);
    let b = i32x4.splat(0);
    let c = i32x4.splat(0);
    let d = i32x4.splat(0);
    for (let j = 0; j < dim; j += 64) {
      a = dot16(a, v128.load(w + j), v128.load(x + j));
      b = dot16(b, v128.load(w + j, 16), v128.load(x + j, 16));
      c = dot16(c, v128.load(w + j, 32), v128.load(x + j, 32));
      d = dot16(d, v128.load(w + j, 48), v128.load(x + j, 48));
    }
    const s = i32x4.add(i32x4.add(a, b), i32x4.add(c, d));
    store<i32>(out + (<usize>r << 2), i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3));
  }
}

// 16-entry table lookup for the fast-mode (T-MAC) kernels. Their indices are always < 16, where i8x16.relaxed_swizzle and
// i8x16.swizzle agree: the build with relaxed SIMD (build/bitembed.relaxed.wasm) uses the former, which V8
// lowers to a bare pshufb; the plain swizzle gets a range fix-up (a paddusb and a constant load) each time.
// @ts-ignore: decorator
@inline export function lut16(table: v128, idx: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i8x16.relaxed_swizzle(table, idx);
  return i8x16.swizzle(table, idx);
}

/** 1 in the build with relaxed SIMD, else 0 (the runtime reports which build it runs). */
export function relaxed_simd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

// Arithmetic the exact dot kernels share: a * b + c on f32x4 lanes, and the fixed-order sum of four lanes.
// madd: the build with relaxed SIMD (build/bitembed.relaxed.wasm) uses f32x4.relaxed_madd, which V8 lowers
// to one vfmadd where the CPU has FMA (a single rounding: at least as accurate as the product then the sum,
// within exact mode's tolerance, but not bit-identical to the baseline build); elsewhere, and in the baseline
// build, a multiply then an add.
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// The sum of the four lanes, in a fixed order so results do not depend on the caller.
// @ts-ignore: decorator
@inline export function hsum(a: v128): f32 {
  return (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
}

// C's float rounding and float-to-int conversion as ggml's reference quantizers get them on x86-64:
// roundf rounds half away from zero; (int)x truncates, and NaN or out-of-range gives INT_MIN
// (cvttss2si / cvttps2dq), which wasm's trapping or saturating truncations do not reproduce.
// see: Intel SDM, CVTTSS2SI ("integer indefinite" 80000000H); C11 7.12.9.6 (roundf).

const TWO31: f32 = 2147483648.0;

// @ts-ignore: decorator
@inline export function roundAway(x: f32): f32 {
  const t = trunc<f32>(x);
  // x - t is exact; inf - inf is NaN, which fails the test and leaves inf as it is
  return abs<f32>(x - t) >= 0.5 ? t + copysign<f32>(1.0, x) : t;
}

// @ts-ignore: decorator
@inline export function x86Trunc(x: f32): i32 {
  return x >= -TWO31 && x < TWO31 ? <i32>x : i32.MIN_VALUE;
}

// Four lanes of roundAway.
// @ts-ignore: decorator
@inline export function roundAwayX4(x: v128): v128 {
  const t = f32x4.trunc(x);
  const up = f32x4.ge(f32x4.abs(f32x4.sub(x, t)), f32x4.splat(0.5));
  const step = v128.or(v128.and(x, i32x4.splat(0x80000000)), f32x4.splat(1.0)); // copysign(1, x)
  return f32x4.add(t, v128.and(step, up));
}

// Four lanes of x86Trunc.
// @ts-ignore: decorator
@inline export function x86TruncX4(x: v128): v128 {
  const inRange = v128.and(f32x4.ge(x, f32x4.splat(-TWO31)), f32x4.lt(x, f32x4.splat(TWO31)));
  return v128.bitselect(i32x4.trunc_sat_f32x4_s(x), i32x4.splat(i32.MIN_VALUE), inRange);
}

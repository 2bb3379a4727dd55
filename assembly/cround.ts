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

// The four-lane versions take their constants as arguments, loaded by their callers once per call from vconst.ts
// (CR_HALF, CR_SIGN, CR_ONE, CR_LO, CR_HI).

// Four lanes of roundAway; half, sign, one: vconst(CR_HALF), (CR_SIGN), (CR_ONE).
// @ts-ignore: decorator
@inline export function roundAwayX4(x: v128, half: v128, sign: v128, one: v128): v128 {
  const t = f32x4.trunc(x);
  const up = f32x4.ge(f32x4.abs(f32x4.sub(x, t)), half);
  const step = v128.or(v128.and(x, sign), one); // copysign(1, x)
  return f32x4.add(t, v128.and(step, up));
}

// Four lanes of x86Trunc; lo, hi, min: vconst(CR_LO), (CR_HI), (CR_SIGN).
// @ts-ignore: decorator
@inline export function x86TruncX4(x: v128, lo: v128, hi: v128, min: v128): v128 {
  const inRange = v128.and(f32x4.ge(x, lo), f32x4.lt(x, hi));
  return v128.bitselect(i32x4.trunc_sat_f32x4_s(x), min, inRange);
}

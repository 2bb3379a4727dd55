// Sums of embedding rows, for token + position + token-type lookups: out = a * scale + b, over n f32 values.
// Keys: n values (rows x dim, contiguous). a, b and out may alias.

export function scale_add_f32(a: usize, scale: f32, b: usize, n: i32, out: usize): void {
  const s = f32x4.splat(scale);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(out, f32x4.add(f32x4.mul(v128.load(a), s), v128.load(b)));
    a += 16;
    b += 16;
    out += 16;
  }
  for (; i < n; i++) {
    store<f32>(out, load<f32>(a) * scale + load<f32>(b));
    a += 4;
    b += 4;
    out += 4;
  }
}

// out = a * scale, over n f32 values (a and out may alias).
export function scale_f32(a: usize, scale: f32, n: i32, out: usize): void {
  const s = f32x4.splat(scale);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(out, f32x4.mul(v128.load(a), s));
    a += 16;
    out += 16;
  }
  for (; i < n; i++) {
    store<f32>(out, load<f32>(a) * scale);
    a += 4;
    out += 4;
  }
}

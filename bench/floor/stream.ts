// The memory floor in WebAssembly: the cheapest kernel that still reads every byte of a table once, front to
// back (16-byte loads added into four i64x2 lanes, one add per load). bench/floor.mjs compiles it with asc at
// bench time; it is not part of the shipped wasm.
// Keys: n bytes at p (a multiple of 64; the caller pads).

export function stream(p: usize, n: usize): i64 {
  let a = i64x2.splat(0);
  let b = i64x2.splat(0);
  let c = i64x2.splat(0);
  let d = i64x2.splat(0);
  const end = p + n;
  // four independent sums, so the loop waits on loads, not on one chain of adds
  for (; p < end; p += 64) {
    a = i64x2.add(a, v128.load(p));
    b = i64x2.add(b, v128.load(p, 16));
    c = i64x2.add(c, v128.load(p, 32));
    d = i64x2.add(d, v128.load(p, 48));
  }
  const s = i64x2.add(i64x2.add(a, b), i64x2.add(c, d));
  return i64x2.extract_lane(s, 0) + i64x2.extract_lane(s, 1);
}

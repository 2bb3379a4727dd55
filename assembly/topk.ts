// Top-k over slices of scores kept in wasm: one min-heap of k (score, id) pairs per hidden vector, the
// worst kept pair at the root; a later slice only touches the heap when it beats that root. Plus the
// score transforms that run on a slice before it is pushed (nearest-neighbour metrics, scale, soft-cap).
// Keys: B hidden vectors, C scores in the slice, S stride between the B score rows, K heap capacity.
// Order: higher score first; equal scores keep the lower id first. NaN scores never enter a heap.

// true when (s1, i1) ranks below (s2, i2)
// @ts-ignore: decorator
@inline function worse(s1: f32, i1: i32, s2: f32, i2: i32): bool {
  return s1 < s2 || (s1 == s2 && i1 > i2);
}

// Restore the heap below position i (sizes n) after its entry changed.
// @ts-ignore: decorator
@inline function siftDown(hs: usize, hi: usize, n: i32, i: i32): void {
  const s = load<f32>(hs + (<usize>i << 2));
  const id = load<i32>(hi + (<usize>i << 2));
  while (true) {
    let c = 2 * i + 1;
    if (c >= n) break;
    let cs = load<f32>(hs + (<usize>c << 2));
    let ci = load<i32>(hi + (<usize>c << 2));
    if (c + 1 < n) {
      const rs = load<f32>(hs + (<usize>(c + 1) << 2));
      const ri = load<i32>(hi + (<usize>(c + 1) << 2));
      if (worse(rs, ri, cs, ci)) {
        c++;
        cs = rs;
        ci = ri;
      }
    }
    if (!worse(cs, ci, s, id)) break;
    store<f32>(hs + (<usize>i << 2), cs);
    store<i32>(hi + (<usize>i << 2), ci);
    i = c;
  }
  store<f32>(hs + (<usize>i << 2), s);
  store<i32>(hi + (<usize>i << 2), id);
}

// @ts-ignore: decorator
@inline function siftUp(hs: usize, hi: usize, i: i32, s: f32, id: i32): void {
  while (i > 0) {
    const p = (i - 1) >> 1;
    const ps = load<f32>(hs + (<usize>p << 2));
    const pi = load<i32>(hi + (<usize>p << 2));
    if (!worse(s, id, ps, pi)) break;
    store<f32>(hs + (<usize>i << 2), ps);
    store<i32>(hi + (<usize>i << 2), pi);
    i = p;
  }
  store<f32>(hs + (<usize>i << 2), s);
  store<i32>(hi + (<usize>i << 2), id);
}

// Push C scores per hidden vector (ids idBase + c) into B heaps. Heap b lives at hs/hi + b * K * 4 and
// its size at sizes + b * 4. A full heap skips four scores at a time while none beats its root.
export function topk_push(
  scores: usize, count: i32, stride: i32, nb: i32, idBase: i32, k: i32, hs: usize, hi: usize, sizes: usize,
): void {
  for (let b = 0; b < nb; b++) {
    const row = scores + (<usize>b * <usize>stride << 2);
    const bs = hs + (<usize>b * <usize>k << 2);
    const bi = hi + (<usize>b * <usize>k << 2);
    let n = load<i32>(sizes + (<usize>b << 2));
    let c = 0;
    // fill: every non-NaN score enters until the heap holds k
    for (; c < count && n < k; c++) {
      const s = load<f32>(row + (<usize>c << 2));
      if (s != s) continue;
      siftUp(bs, bi, n, s, idBase + c);
      n++;
    }
    let root = load<f32>(bs);
    // ids only grow, so a score equal to the root ranks below it: only strictly greater ones enter
    for (; c < count; c++) {
      if (c + 4 <= count && !v128.any_true(f32x4.gt(v128.load(row + (<usize>c << 2)), f32x4.splat(root)))) {
        c += 3;
        continue;
      }
      const s = load<f32>(row + (<usize>c << 2));
      if (s > root) {
        store<f32>(bs, s);
        store<i32>(bi, idBase + c);
        siftDown(bs, bi, n, 0);
        root = load<f32>(bs);
      }
    }
    store<i32>(sizes + (<usize>b << 2), n);
  }
}

// Sort each heap best first, in place (heapsort: the root, the worst, goes to the end).
export function topk_finish(nb: i32, k: i32, hs: usize, hi: usize, sizes: usize): void {
  for (let b = 0; b < nb; b++) {
    const bs = hs + (<usize>b * <usize>k << 2);
    const bi = hi + (<usize>b * <usize>k << 2);
    for (let n = load<i32>(sizes + (<usize>b << 2)) - 1; n > 0; n--) {
      const s = load<f32>(bs + (<usize>n << 2));
      const id = load<i32>(bi + (<usize>n << 2));
      store<f32>(bs + (<usize>n << 2), load<f32>(bs));
      store<i32>(bi + (<usize>n << 2), load<i32>(bi));
      store<f32>(bs, s);
      store<i32>(bi, id);
      siftDown(bs, bi, n, 0);
    }
  }
}

// Cosine similarity from dot products: s / (norm_r * norm_x); rows of norm 0 get NaN (never ranked).
export function scores_cosine(scores: usize, norms: usize, count: i32, xNorm: f32): void {
  for (let c = 0; c < count; c++) {
    const p = scores + (<usize>c << 2);
    const n = load<f32>(norms + (<usize>c << 2)) * xNorm;
    store<f32>(p, n > 0 ? load<f32>(p) / n : NaN);
  }
}

// Negated squared Euclidean distance from dot products: -(|r|^2 - 2 dot + |x|^2), so larger is nearer.
export function scores_l2(scores: usize, norms: usize, count: i32, xNormSq: f32): void {
  for (let c = 0; c < count; c++) {
    const p = scores + (<usize>c << 2);
    const n = load<f32>(norms + (<usize>c << 2));
    store<f32>(p, 2 * load<f32>(p) - n * n - xNormSq);
  }
}

// Logit post-processing in place: x * scale, then, when cap > 0, Gemma-2 soft-capping cap * tanh(x / cap).
// see: Gemma 2 report (arXiv:2408.00118) §2, "logit soft-capping".
export function logits_post(ptr: usize, count: i32, scale: f32, cap: f32): void {
  if (scale != 1) {
    const s = f32x4.splat(scale);
    let c = 0;
    for (; c + 4 <= count; c += 4) {
      const p = ptr + (<usize>c << 2);
      v128.store(p, f32x4.mul(v128.load(p), s));
    }
    for (; c < count; c++) {
      const p = ptr + (<usize>c << 2);
      store<f32>(p, load<f32>(p) * scale);
    }
  }
  if (cap > 0) {
    for (let c = 0; c < count; c++) {
      const p = ptr + (<usize>c << 2);
      store<f32>(p, cap * Mathf.tanh(load<f32>(p) / cap));
    }
  }
}

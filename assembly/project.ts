// Projection of hidden vectors onto table rows: out[b * S + r] = dot(row r, x b), f32 activations and f32
// accumulation ("exact" mode). Variants: f32 rows are read in place (rows in fours or pairs share loads);
// small batches of formats with a direct dot (the registry's directDot) use the format's dot_<fmt> on the
// packed rows; everything else decodes a tile of rows into a cache-sized scratch with the format's own
// decode kernel, so each row is read and decoded once per batch, then dotted with every x.
// Products and sums go through madd (madd.ts): fused in the relaxed-SIMD build.
// Keys: R rows in the slice, B hidden vectors (batch), D dim, S stride of out (values per hidden vector).
import { hsum, madd } from "./madd";
import {
  blockElemsOf, decodeRowsOf, directDotAnyDim, directDotBelow, dot4RowsOf, dotRowOf, hasDot4, intDotRowsOf, rowsInPlace, vecDotOf,
} from "./formats/registry";
import { VEC_Q8_K, activationBytes, quantizeActivations } from "./activations";
import { UNPACKED } from "./idot";
import { unpackedBytes } from "./idot32";

// dot(w, x) over D values: four independent accumulators hide the add latency.
// @ts-ignore: decorator
@inline function dot1(w: usize, x: usize, dim: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let j = 0;
  for (; j + 16 <= dim; j += 16) {
    a0 = madd(v128.load(w), v128.load(x), a0);
    a1 = madd(v128.load(w, 16), v128.load(x, 16), a1);
    a2 = madd(v128.load(w, 32), v128.load(x, 32), a2);
    a3 = madd(v128.load(w, 48), v128.load(x, 48), a3);
    w += 64;
    x += 64;
  }
  for (; j + 4 <= dim; j += 4) {
    a0 = madd(v128.load(w), v128.load(x), a0);
    w += 16;
    x += 16;
  }
  let s = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; j < dim; j++) {
    s += load<f32>(w) * load<f32>(x);
    w += 4;
    x += 4;
  }
  return s;
}

// dot(w, x_b) for four hidden vectors x0..x3 at once: each loaded chunk of w feeds four products, and
// two chunks per step give eight independent accumulators (they fit the 16 SIMD registers).
// Results go to out, out + outStep, out + 2 outStep, out + 3 outStep.
// @ts-ignore: decorator
@inline function dot4(w: usize, x0: usize, xStride: usize, dim: i32, out: usize, outStep: usize): void {
  let x1 = x0 + xStride;
  let x2 = x1 + xStride;
  let x3 = x2 + xStride;
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0);
  let b1 = f32x4.splat(0);
  let b2 = f32x4.splat(0);
  let b3 = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= dim; j += 8) {
    const w0 = v128.load(w);
    const w1 = v128.load(w, 16);
    a0 = madd(w0, v128.load(x0), a0);
    b0 = madd(w1, v128.load(x0, 16), b0);
    a1 = madd(w0, v128.load(x1), a1);
    b1 = madd(w1, v128.load(x1, 16), b1);
    a2 = madd(w0, v128.load(x2), a2);
    b2 = madd(w1, v128.load(x2, 16), b2);
    a3 = madd(w0, v128.load(x3), a3);
    b3 = madd(w1, v128.load(x3, 16), b3);
    w += 32;
    x0 += 32;
    x1 += 32;
    x2 += 32;
    x3 += 32;
  }
  if (j + 4 <= dim) {
    const w0 = v128.load(w);
    a0 = madd(w0, v128.load(x0), a0);
    a1 = madd(w0, v128.load(x1), a1);
    a2 = madd(w0, v128.load(x2), a2);
    a3 = madd(w0, v128.load(x3), a3);
    w += 16;
    x0 += 16;
    x1 += 16;
    x2 += 16;
    x3 += 16;
    j += 4;
  }
  let s0 = hsum(f32x4.add(a0, b0));
  let s1 = hsum(f32x4.add(a1, b1));
  let s2 = hsum(f32x4.add(a2, b2));
  let s3 = hsum(f32x4.add(a3, b3));
  for (; j < dim; j++) {
    const wj = load<f32>(w);
    s0 += wj * load<f32>(x0);
    s1 += wj * load<f32>(x1);
    s2 += wj * load<f32>(x2);
    s3 += wj * load<f32>(x3);
    w += 4;
    x0 += 4;
    x1 += 4;
    x2 += 4;
    x3 += 4;
  }
  store<f32>(out, s0);
  store<f32>(out + outStep, s1);
  store<f32>(out + 2 * outStep, s2);
  store<f32>(out + 3 * outStep, s3);
}

// dot(w_r, x) for four rows w0..w3 (rowStride apart) and one hidden vector: each loaded chunk of x feeds
// four rows, and four rows stream from memory at once. Results go to out + r * outRowStep.
// Each row's sum is one accumulator over its chunks in order, then hsum, then the scalar tail: dotSeq's order,
// so a row gives the same bits whichever rows share its call.
// @ts-ignore: decorator
@inline function dotRows4x1(w0: usize, rowStride: usize, x: usize, dim: i32, out: usize, outRowStep: usize): void {
  let w1 = w0 + rowStride;
  let w2 = w1 + rowStride;
  let w3 = w2 + rowStride;
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let j = 0;
  // one chunk per step (see dotRows2x4)
  for (; j + 4 <= dim; j += 4) {
    const x0 = v128.load(x);
    a0 = madd(v128.load(w0), x0, a0);
    a1 = madd(v128.load(w1), x0, a1);
    a2 = madd(v128.load(w2), x0, a2);
    a3 = madd(v128.load(w3), x0, a3);
    x += 16;
    w0 += 16;
    w1 += 16;
    w2 += 16;
    w3 += 16;
  }
  let s0 = hsum(a0);
  let s1 = hsum(a1);
  let s2 = hsum(a2);
  let s3 = hsum(a3);
  for (; j < dim; j++) {
    const xj = load<f32>(x);
    s0 += load<f32>(w0) * xj;
    s1 += load<f32>(w1) * xj;
    s2 += load<f32>(w2) * xj;
    s3 += load<f32>(w3) * xj;
    x += 4;
    w0 += 4;
    w1 += 4;
    w2 += 4;
    w3 += 4;
  }
  store<f32>(out, s0);
  store<f32>(out + outRowStep, s1);
  store<f32>(out + 2 * outRowStep, s2);
  store<f32>(out + 3 * outRowStep, s3);
}

// dotRows4x1 for two hidden vectors x0, x1 (xStride apart) at once: each loaded chunk of a row feeds both, so
// the four rows are read once for the pair; eight accumulators, four row chunks and two x chunks fit the 16
// SIMD registers. Same order per row and vector as dotRows4x1. Vector 1's results go outStep after vector 0's.
// @ts-ignore: decorator
@inline function dotRows4x2(w0: usize, rowStride: usize, x0: usize, xStride: usize, dim: i32, out: usize, outRowStep: usize, outStep: usize): void {
  let w1 = w0 + rowStride;
  let w2 = w1 + rowStride;
  let w3 = w2 + rowStride;
  let x1 = x0 + xStride;
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0);
  let b1 = f32x4.splat(0);
  let b2 = f32x4.splat(0);
  let b3 = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= dim; j += 4) {
    const y0 = v128.load(x0);
    const y1 = v128.load(x1);
    const u0 = v128.load(w0);
    a0 = madd(u0, y0, a0);
    b0 = madd(u0, y1, b0);
    const u1 = v128.load(w1);
    a1 = madd(u1, y0, a1);
    b1 = madd(u1, y1, b1);
    const u2 = v128.load(w2);
    a2 = madd(u2, y0, a2);
    b2 = madd(u2, y1, b2);
    const u3 = v128.load(w3);
    a3 = madd(u3, y0, a3);
    b3 = madd(u3, y1, b3);
    x0 += 16;
    x1 += 16;
    w0 += 16;
    w1 += 16;
    w2 += 16;
    w3 += 16;
  }
  let s0 = hsum(a0);
  let s1 = hsum(a1);
  let s2 = hsum(a2);
  let s3 = hsum(a3);
  let t0 = hsum(b0);
  let t1 = hsum(b1);
  let t2 = hsum(b2);
  let t3 = hsum(b3);
  for (; j < dim; j++) {
    const y0 = load<f32>(x0);
    const y1 = load<f32>(x1);
    const u0 = load<f32>(w0);
    const u1 = load<f32>(w1);
    const u2 = load<f32>(w2);
    const u3 = load<f32>(w3);
    s0 += u0 * y0;
    s1 += u1 * y0;
    s2 += u2 * y0;
    s3 += u3 * y0;
    t0 += u0 * y1;
    t1 += u1 * y1;
    t2 += u2 * y1;
    t3 += u3 * y1;
    x0 += 4;
    x1 += 4;
    w0 += 4;
    w1 += 4;
    w2 += 4;
    w3 += 4;
  }
  store<f32>(out, s0);
  store<f32>(out + outRowStep, s1);
  store<f32>(out + 2 * outRowStep, s2);
  store<f32>(out + 3 * outRowStep, s3);
  store<f32>(out + outStep, t0);
  store<f32>(out + outStep + outRowStep, t1);
  store<f32>(out + outStep + 2 * outRowStep, t2);
  store<f32>(out + outStep + 3 * outRowStep, t3);
}

// dot(w, x) in dotRows4x1's order for one row (one accumulator: slow, only for the few rows left over).
// @ts-ignore: decorator
@inline function dotSeq(w: usize, x: usize, dim: i32): f32 {
  let a = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= dim; j += 4) {
    a = madd(v128.load(w), v128.load(x), a);
    w += 16;
    x += 16;
  }
  let s = hsum(a);
  for (; j < dim; j++) {
    s += load<f32>(w) * load<f32>(x);
    w += 4;
    x += 4;
  }
  return s;
}

// Rows against 1..3 hidden vectors, at the memory streaming rate: the rows are cut into four blocks of m
// consecutive rows, and row i of every block is dotted in one dotRows4x1 call, so each block is read front to
// back by one long sequential stream, and each chunk of x serves four rows. Measured on an AMD EPYC (Zen 4)
// VM, CPU time over the wasm stream floor (bench/f32-stream.mjs): 32000 and 128256 x 4096 0.99-1.19x (four
// adjacent rows, restarting every four rows as before: 1.31-1.63x; one row at a time: 1.45x, its 16 KB of x
// falls out of the 32 KB L1 while the row streams past it); 151936 x 1024 0.96-1.07x (before 1.52-2.09x; one
// row at a time 1.08x). Seven or eight streams were slower than four; two chunks per step gained nothing.
// @ts-ignore: decorator
@inline function dotBlocks4(rows: usize, rowStride: usize, nrows: i32, x: usize, nx: i32, dim: i32, out: usize, stride: i32): void {
  const xStride = <usize>dim << 2;
  const outStep = <usize>stride << 2;
  // an odd block length: blocks a large power of two apart (128256 rows in slices of 65536: 4 x 256 MiB) put
  // the four streams on the same DRAM banks and cache sets, measured 2.4x slower than 65532 rows
  let m = nrows >> 2;
  if (m > 1 && (m & 1) == 0) m--;
  const blockStride = <usize>m * rowStride;
  const outBlock = <usize>m << 2;
  for (let i = 0; i < m; i++) {
    const w = rows + <usize>i * rowStride;
    const o = out + (<usize>i << 2);
    let b = 0;
    // vectors in pairs, then the last one alone (its four rows are still in L2)
    for (; b + 2 <= nx; b += 2) dotRows4x2(w, blockStride, x + <usize>b * xStride, xStride, dim, o + <usize>b * outStep, outBlock, outStep);
    if (b < nx) dotRows4x1(w, blockStride, x + <usize>b * xStride, dim, o + <usize>b * outStep, outBlock);
  }
  // the rows left over (up to seven): in fours side by side, then one at a time, in the same order per row
  let r = m << 2;
  for (; r + 4 <= nrows; r += 4) {
    const w = rows + <usize>r * rowStride;
    const o = out + (<usize>r << 2);
    for (let b = 0; b < nx; b++) dotRows4x1(w, rowStride, x + <usize>b * xStride, dim, o + <usize>b * outStep, 4);
  }
  for (; r < nrows; r++) {
    const w = rows + <usize>r * rowStride;
    const o = out + (<usize>r << 2);
    for (let b = 0; b < nx; b++) store<f32>(o + <usize>b * outStep, dotSeq(w, x + <usize>b * xStride, dim));
  }
}

// dot(w_r, x_b) for two rows and four hidden vectors: six loads feed eight products (one row and
// one vector would need two loads per product), and eight accumulators fit the registers.
// out[b * S + r] at out + b * outStep + 4r.
// @ts-ignore: decorator
@inline function dotRows2x4(w0: usize, rowStride: usize, x0: usize, xStride: usize, dim: i32, out: usize, outStep: usize): void {
  let w1 = w0 + rowStride;
  let x1 = x0 + xStride;
  let x2 = x1 + xStride;
  let x3 = x2 + xStride;
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0);
  let b1 = f32x4.splat(0);
  let b2 = f32x4.splat(0);
  let b3 = f32x4.splat(0);
  let j = 0;
  // one chunk per step: with two, V8 hoists all twelve loads and spills accumulators to the stack
  for (; j + 4 <= dim; j += 4) {
    const u = v128.load(w0);
    const v = v128.load(w1);
    const y0 = v128.load(x0);
    a0 = madd(u, y0, a0);
    b0 = madd(v, y0, b0);
    const y1 = v128.load(x1);
    a1 = madd(u, y1, a1);
    b1 = madd(v, y1, b1);
    const y2 = v128.load(x2);
    a2 = madd(u, y2, a2);
    b2 = madd(v, y2, b2);
    const y3 = v128.load(x3);
    a3 = madd(u, y3, a3);
    b3 = madd(v, y3, b3);
    w0 += 16;
    w1 += 16;
    x0 += 16;
    x1 += 16;
    x2 += 16;
    x3 += 16;
  }
  let s0 = hsum(a0);
  let s1 = hsum(a1);
  let s2 = hsum(a2);
  let s3 = hsum(a3);
  let t0 = hsum(b0);
  let t1 = hsum(b1);
  let t2 = hsum(b2);
  let t3 = hsum(b3);
  for (; j < dim; j++) {
    const u = load<f32>(w0);
    const v = load<f32>(w1);
    const y0 = load<f32>(x0);
    const y1 = load<f32>(x1);
    const y2 = load<f32>(x2);
    const y3 = load<f32>(x3);
    s0 += u * y0;
    t0 += v * y0;
    s1 += u * y1;
    t1 += v * y1;
    s2 += u * y2;
    t2 += v * y2;
    s3 += u * y3;
    t3 += v * y3;
    w0 += 4;
    w1 += 4;
    x0 += 4;
    x1 += 4;
    x2 += 4;
    x3 += 4;
  }
  store<f32>(out, s0);
  store<f32>(out, t0, 4);
  store<f32>(out + outStep, s1);
  store<f32>(out + outStep, t1, 4);
  store<f32>(out + 2 * outStep, s2);
  store<f32>(out + 2 * outStep, t2, 4);
  store<f32>(out + 3 * outStep, s3);
  store<f32>(out + 3 * outStep, t3, 4);
}

// R f32 rows (rowStride bytes apart) against B hidden vectors (D values each, back to back):
// out[b * S + r] = dot(row r, x b). Rows are read once and serve the whole batch: in four long streams
// against each vector when the batch is small (dotBlocks4), else in pairs against four vectors at a time.
// @ts-ignore: decorator
@inline function dotRows(rows: usize, rowStride: usize, nrows: i32, x: usize, nx: i32, dim: i32, out: usize, stride: i32): void {
  if (nx < 4) {
    dotBlocks4(rows, rowStride, nrows, x, nx, dim, out, stride);
    return;
  }
  const xStride = <usize>dim << 2;
  const outStep = <usize>stride << 2;
  let r = 0;
  for (; r + 2 <= nrows; r += 2) {
    const w = rows + <usize>r * rowStride;
    const o = out + (<usize>r << 2);
    let b = 0;
    for (; b + 4 <= nx; b += 4) dotRows2x4(w, rowStride, x + <usize>b * xStride, xStride, dim, o + <usize>b * outStep, outStep);
    for (; b < nx; b++) {
      store<f32>(o + <usize>b * outStep, dot1(w, x + <usize>b * xStride, dim));
      store<f32>(o + <usize>b * outStep, dot1(w + rowStride, x + <usize>b * xStride, dim), 4);
    }
  }
  for (; r < nrows; r++) {
    const w = rows + <usize>r * rowStride;
    const o = out + (<usize>r << 2);
    let b = 0;
    for (; b + 4 <= nx; b += 4) dot4(w, x + <usize>b * xStride, xStride, dim, o + <usize>b * outStep, outStep);
    for (; b < nx; b++) store<f32>(o + <usize>b * outStep, dot1(w, x + <usize>b * xStride, dim));
  }
}

// Project R rows of a table (first row at `rows`) onto B hidden vectors: out[b * S + r].
// `scratch` holds `tile` decoded rows (tile * D f32) and `iota` the u32 ids 0..tile-1, so each format's
// lookup decoder serves here too; both unused for rows read in place (f32).
export function project_rows(
  format: i32, rows: usize, rowBytes: usize, nrows: i32, x: usize, nx: i32, dim: i32,
  scratch: usize, iota: usize, tile: i32, out: usize, stride: i32,
): void {
  if (rowsInPlace(format)) {
    dotRows(rows, rowBytes, nrows, x, nx, dim, out, stride);
    return;
  }
  // a small batch: dot straight from the packed rows (decoding into a scratch pays off once the decoded
  // rows serve many vectors)
  if (nx < directDotBelow(format) && (directDotAnyDim(format) || dim % blockElemsOf(format) == 0)) {
    const xStride = <usize>dim << 2;
    let r = 0;
    // four row streams for long rows, as dotRows does for f32 (out: rows r..r+3 of vector b)
    if (hasDot4(format) && dim >= 1024) {
      for (; r + 4 <= nrows; r += 4) {
        const w = rows + <usize>r * rowBytes;
        for (let b = 0; b < nx; b++) {
          dot4RowsOf(format, w, rowBytes, x + <usize>b * xStride, dim, out + ((<usize>b * <usize>stride + <usize>r) << 2));
        }
      }
    }
    for (; r < nrows; r++) {
      const w = rows + <usize>r * rowBytes;
      for (let b = 0; b < nx; b++) {
        store<f32>(out + ((<usize>b * <usize>stride + <usize>r) << 2), dotRowOf(format, w, x + <usize>b * xStride, dim));
      }
    }
    return;
  }
  for (let r = 0; r < nrows; r += tile) {
    const n = min(tile, nrows - r);
    decodeRowsOf(format, rows + <usize>r * rowBytes, rowBytes, iota, n, dim, scratch);
    dotRows(scratch, <usize>dim << 2, n, x, nx, dim, out + (<usize>r << 2), stride);
  }
}

// Mode "ggml" (formats whose registry entry has intDot): hidden vectors quantized as ggml quantizes them
// (activations.ts), then integer block dots (the format's idot_<fmt>). Bytes of one vector's record:
export function activation_bytes(format: i32, dim: i32): i32 {
  const kind = vecDotOf(format);
  return kind == 0 ? 0 : <i32>activationBytes(kind, dim);
}

// B hidden vectors (D f32 each at x) -> B records at out.
export function quantize_activations(format: i32, x: usize, nx: i32, dim: i32, out: usize): void {
  quantizeActivations(vecDotOf(format), x, nx, dim, out);
}

// Bytes of scratch project_int needs for rows of dim values: a row's block scales, or a row unpacked for
// batches (Q8_0 / Q8_1 records: idot32.ts unpackedBytes, which holds the scales too; Q8_K records: idot.ts
// UNPACKED per block).
export function activation_scratch_bytes(format: i32, dim: i32): i32 {
  const kind = vecDotOf(format);
  if (kind == 0) return 0;
  return kind == VEC_Q8_K ? <i32>(<usize>((dim + 255) >> 8) * UNPACKED) : <i32>unpackedBytes((dim + 31) >> 5);
}

// R rows . B records (activation_bytes apart): out[b * S + r]; scratch: activation_scratch_bytes.
export function project_int(format: i32, rows: usize, rowBytes: usize, nrows: i32, act: usize, nx: i32, dim: i32, out: usize, stride: i32, scratch: usize): void {
  intDotRowsOf(format, rows, rowBytes, nrows, act, activationBytes(vecDotOf(format), dim), nx, dim, out, stride, scratch);
}

// Euclidean norm of each of R rows, in f32 (the same accumulation as the projection).
export function row_norms(
  format: i32, rows: usize, rowBytes: usize, nrows: i32, dim: i32, scratch: usize, iota: usize, tile: i32, out: usize,
): void {
  for (let r = 0; r < nrows; r += tile) {
    const n = min(tile, nrows - r);
    let src = rows + <usize>r * rowBytes;
    let stride = rowBytes;
    if (!rowsInPlace(format)) {
      decodeRowsOf(format, src, rowBytes, iota, n, dim, scratch);
      src = scratch;
      stride = <usize>dim << 2;
    }
    for (let i = 0; i < n; i++) {
      const w = src + <usize>i * stride;
      store<f32>(out + (<usize>(r + i) << 2), sqrt<f32>(dot1(w, w, dim)));
    }
  }
}

// Index of the first NaN among n f32 values, or -1.
export function find_nan(ptr: usize, n: i32): i32 {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(ptr + (<usize>i << 2));
    if (v128.any_true(f32x4.ne(v, v))) break;
  }
  for (; i < n; i++) {
    const f = load<f32>(ptr + (<usize>i << 2));
    if (f != f) return i;
  }
  return -1;
}

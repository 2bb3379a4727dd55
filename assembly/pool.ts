// Bag pooling, PyTorch's nn.EmbeddingBag over a packed table: each bag of ids becomes one f32 vector, in one
// pass over its rows. Rows are decoded R at a time into the caller's scratch and reduced into out[b] as they
// come (f32 rows are read in place; formats with add_ kernels, q8_0, are summed straight from their blocks).
// Keys: V vocab, D dim, N ids, B bags, R rows per step (scratch holds R * D f32, 16-byte aligned).
//   bag b = ids[offsets[b] .. offsets[b + 1])          (offsets: B + 1 u32, non-decreasing; padding already removed)
//   mode 0 sum:  out[b] = sum_i w_i * row(ids[i])     (w_i = 1 when weights == 0)
//   mode 1 mean: out[b] = (sum_i w_i * row(ids[i])) / count      (model2vec's weighted mean: count, not sum w)
//   mode 2 max:  out[b] = elementwise max_i row(ids[i])          (NaN wins, as f32x4.max)
// An empty bag gives zeros. normalize: out[b] /= ||out[b]||_2 when that norm is > 0.
import { add4RowsOf, addRowOf, decodeRowsOf, hasAddRows, blockElemsOf, rowsInPlace } from "./formats/registry";

export function pool_rows(
  fmt: i32, table: usize, rowBytes: usize, dim: i32,
  ids: usize, offsets: usize, bags: i32, weights: usize, mode: i32, normalize: i32,
  scratch: usize, scratchRows: i32, out: usize,
): void {
  const outRowBytes = <usize>dim << 2;
  const inPlace = rowsInPlace(fmt);
  // formats that add rows straight from their blocks (whole blocks only): no decoded row is ever stored
  const direct = hasAddRows(fmt) && dim % blockElemsOf(fmt) == 0 && mode != 2;
  for (let b = 0; b < bags; b++) {
    const start = <i32>load<u32>(offsets + (<usize>b << 2));
    const end = <i32>load<u32>(offsets + (<usize>(b + 1) << 2));
    const acc = out + <usize>b * outRowBytes;
    memory.fill(acc, 0, outRowBytes);
    if (direct) {
      // four rows at a time: four independent streams from memory, and acc read and written once per four
      let i = start;
      for (; i + 4 <= end; i += 4) {
        const at = ids + (<usize>i << 2);
        add4RowsOf(
          fmt, acc,
          table + <usize>load<u32>(at) * rowBytes, table + <usize>load<u32>(at, 4) * rowBytes,
          table + <usize>load<u32>(at, 8) * rowBytes, table + <usize>load<u32>(at, 12) * rowBytes,
          weightAt(weights, i), weightAt(weights, i + 1), weightAt(weights, i + 2), weightAt(weights, i + 3), dim,
        );
      }
      for (; i < end; i++) {
        addRowOf(fmt, acc, table + <usize>load<u32>(ids + (<usize>i << 2)) * rowBytes, weightAt(weights, i), dim);
      }
    } else {
      for (let i = start; i < end; i += scratchRows) {
        const count = min(scratchRows, end - i);
        if (!inPlace) decodeRowsOf(fmt, table, rowBytes, ids + (<usize>i << 2), count, dim, scratch);
        let k = 0;
        if (mode != 2) {
          // four rows at a time: acc read and written once per four
          for (; k + 4 <= count; k += 4) {
            const at = ids + (<usize>(i + k) << 2);
            const r0 = inPlace ? table + <usize>load<u32>(at) * rowBytes : scratch + <usize>k * outRowBytes;
            const r1 = inPlace ? table + <usize>load<u32>(at, 4) * rowBytes : r0 + outRowBytes;
            const r2 = inPlace ? table + <usize>load<u32>(at, 8) * rowBytes : r1 + outRowBytes;
            const r3 = inPlace ? table + <usize>load<u32>(at, 12) * rowBytes : r2 + outRowBytes;
            const x = i + k;
            addRows4(acc, r0, r1, r2, r3, weightAt(weights, x), weightAt(weights, x + 1), weightAt(weights, x + 2), weightAt(weights, x + 3), dim);
          }
        }
        for (; k < count; k++) {
          const row = inPlace
            ? table + <usize>load<u32>(ids + (<usize>(i + k) << 2)) * rowBytes
            : scratch + <usize>k * outRowBytes;
          if (mode == 2) {
            if (i + k == start) memory.copy(acc, row, outRowBytes);
            else maxRow(acc, row, dim);
          } else {
            addRow(acc, row, weightAt(weights, i + k), dim);
          }
        }
      }
    }
    if (mode == 1 && end > start) divideRow(acc, <f32>(end - start), dim);
    if (normalize) {
      const norm = <f32>Math.sqrt(sumSquares(acc, dim));
      if (norm > 0) divideRow(acc, norm, dim);
    }
  }
}

// acc += w * row (w == 1: a plain add, the same bits as without weights)
function addRow(acc: usize, row: usize, w: f32, dim: i32): void {
  let j = 0;
  if (w == 1) {
    for (; j + 4 <= dim; j += 4) {
      v128.store(acc, f32x4.add(v128.load(acc), v128.load(row)));
      acc += 16;
      row += 16;
    }
    for (; j < dim; j++) {
      store<f32>(acc, load<f32>(acc) + load<f32>(row));
      acc += 4;
      row += 4;
    }
    return;
  }
  const wv = f32x4.splat(w);
  for (; j + 4 <= dim; j += 4) {
    v128.store(acc, f32x4.add(v128.load(acc), f32x4.mul(v128.load(row), wv)));
    acc += 16;
    row += 16;
  }
  for (; j < dim; j++) {
    store<f32>(acc, load<f32>(acc) + load<f32>(row) * w);
    acc += 4;
    row += 4;
  }
}

// weight of id i (1 without weights)
// @ts-ignore: decorator
@inline function weightAt(weights: usize, i: i32): f32 {
  return weights ? load<f32>(weights + (<usize>i << 2)) : 1;
}

// acc += (a * r0 + b * r1) + (c * r2 + d * r3)
function addRows4(acc: usize, r0: usize, r1: usize, r2: usize, r3: usize, a: f32, b: f32, c: f32, d: f32, dim: i32): void {
  const w0 = f32x4.splat(a);
  const w1 = f32x4.splat(b);
  const w2 = f32x4.splat(c);
  const w3 = f32x4.splat(d);
  let j = 0;
  for (; j + 4 <= dim; j += 4) {
    const s = sum4(v128.load(r0), w0, v128.load(r1), w1, v128.load(r2), w2, v128.load(r3), w3);
    v128.store(acc, f32x4.add(v128.load(acc), s));
    acc += 16;
    r0 += 16;
    r1 += 16;
    r2 += 16;
    r3 += 16;
  }
  for (; j < dim; j++) {
    store<f32>(acc, load<f32>(acc) + ((load<f32>(r0) * a + load<f32>(r1) * b) + (load<f32>(r2) * c + load<f32>(r3) * d)));
    acc += 4;
    r0 += 4;
    r1 += 4;
    r2 += 4;
    r3 += 4;
  }
}

// acc = max(acc, row) elementwise; f32x4.max and f32.max both return NaN when either side is NaN
function maxRow(acc: usize, row: usize, dim: i32): void {
  let j = 0;
  for (; j + 4 <= dim; j += 4) {
    v128.store(acc, f32x4.max(v128.load(acc), v128.load(row)));
    acc += 16;
    row += 16;
  }
  for (; j < dim; j++) {
    store<f32>(acc, max<f32>(load<f32>(acc), load<f32>(row)));
    acc += 4;
    row += 4;
  }
}

// acc = acc / q (a division, not a reciprocal: a mean is one rounding from sum / count)
function divideRow(acc: usize, q: f32, dim: i32): void {
  const qv = f32x4.splat(q);
  let j = 0;
  for (; j + 4 <= dim; j += 4) {
    v128.store(acc, f32x4.div(v128.load(acc), qv));
    acc += 16;
  }
  for (; j < dim; j++) {
    store<f32>(acc, load<f32>(acc) / q);
    acc += 4;
  }
}

// sum of squares in f64: no overflow or early rounding in the norm
function sumSquares(acc: usize, dim: i32): f64 {
  let s: f64 = 0;
  for (let j = 0; j < dim; j++) {
    const x = <f64>load<f32>(acc + (<usize>j << 2));
    s += x * x;
  }
  return s;
}

// @ts-ignore: decorator
@inline function sum4(a: v128, da: v128, b: v128, db: v128, c: v128, dc: v128, d: v128, dd: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.mul(a, da), f32x4.mul(b, db)), f32x4.add(f32x4.mul(c, dc), f32x4.mul(d, dd)));
}

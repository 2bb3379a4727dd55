// Bag pooling, PyTorch's nn.EmbeddingBag over a packed table: each bag of ids becomes one f32 vector, in one
// pass over its rows. Rows are decoded R at a time into the caller's scratch (f32 rows are read in place; q8_0
// rows are summed straight from their blocks) and reduced into out[b] as they come; no bag ever exists as rows.
// Keys: V vocab, D dim, N ids, B bags, R rows per step (scratch holds R * D f32, 16-byte aligned).
//   bag b = ids[offsets[b] .. offsets[b + 1])          (offsets: B + 1 u32, non-decreasing; padding already removed)
//   mode 0 sum:  out[b] = sum_i w_i * row(ids[i])     (w_i = 1 when weights == 0)
//   mode 1 mean: out[b] = (sum_i w_i * row(ids[i])) / count      (model2vec's weighted mean: count, not sum w)
//   mode 2 max:  out[b] = elementwise max_i row(ids[i])          (NaN wins, as f32x4.max)
// An empty bag gives zeros. normalize: out[b] /= ||out[b]||_2 when that norm is > 0.
import { decodeRowsOf, ID_Q8_0, rowsInPlace } from "./formats/registry";
import { f16ToF32 } from "./half";

export function pool_rows(
  fmt: i32, table: usize, rowBytes: usize, dim: i32,
  ids: usize, offsets: usize, bags: i32, weights: usize, mode: i32, normalize: i32,
  scratch: usize, scratchRows: i32, out: usize,
): void {
  const outRowBytes = <usize>dim << 2;
  const inPlace = rowsInPlace(fmt);
  // q8_0 adds d * w * codes straight into the bag (whole blocks only): no decoded row is ever stored
  const direct = fmt == ID_Q8_0 && (dim & 31) == 0 && mode != 2;
  for (let b = 0; b < bags; b++) {
    const start = <i32>load<u32>(offsets + (<usize>b << 2));
    const end = <i32>load<u32>(offsets + (<usize>(b + 1) << 2));
    const acc = out + <usize>b * outRowBytes;
    memory.fill(acc, 0, outRowBytes);
    if (direct) {
      for (let i = start; i < end; i++) {
        const w: f32 = weights ? load<f32>(weights + (<usize>i << 2)) : 1;
        addQ8Row(acc, table + <usize>load<u32>(ids + (<usize>i << 2)) * rowBytes, w, dim);
      }
    } else {
      for (let i = start; i < end; i += scratchRows) {
        const count = min(scratchRows, end - i);
        if (!inPlace) decodeRowsOf(fmt, table, rowBytes, ids + (<usize>i << 2), count, dim, scratch);
        for (let k = 0; k < count; k++) {
          const row = inPlace
            ? table + <usize>load<u32>(ids + (<usize>(i + k) << 2)) * rowBytes
            : scratch + <usize>k * outRowBytes;
          if (mode == 2) {
            if (i + k == start) memory.copy(acc, row, outRowBytes);
            else maxRow(acc, row, dim);
          } else if (weights) {
            addRow(acc, row, load<f32>(weights + (<usize>(i + k) << 2)), dim);
          } else {
            addRow(acc, row, 1, dim);
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

// One Q8_0 row (dim / 32 blocks) added into acc: acc += (w * d) * qs, 16 codes at a time.
//   block (34 bytes): [ d f16 | qs[0..31] i8 ]   (see formats/q8_0.ts)
// @ts-ignore: decorator
@inline function addQ8Row(acc: usize, blk: usize, w: f32, dim: i32): void {
  const blocks = dim >> 5;
  for (let b = 0; b < blocks; b++) {
    const d = f32x4.splat(f16ToF32(load<u16>(blk)) * w);
    addCodes16(acc, v128.load(blk, 2), d);
    addCodes16(acc + 64, v128.load(blk, 18), d);
    blk += 34;
    acc += 128;
  }
}

// acc[0..15] += codes * d, the 16 signed codes widened to f32
// @ts-ignore: decorator
@inline function addCodes16(acc: usize, q: v128, d: v128): void {
  const lo = i16x8.extend_low_i8x16_s(q);
  const hi = i16x8.extend_high_i8x16_s(q);
  v128.store(acc, f32x4.add(v128.load(acc), f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), d)));
  v128.store(acc, f32x4.add(v128.load(acc, 16), f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), d)), 16);
  v128.store(acc, f32x4.add(v128.load(acc, 32), f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), d)), 32);
  v128.store(acc, f32x4.add(v128.load(acc, 48), f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), d)), 48);
}

// Builds the row-tiled bit layout of tmac.ts from packed rows, once per table: 16 rows at a time, each
// block's codes split into bit-planes, 4 elements to a nibble, 2 groups to a byte; then the 16 rows' d as f32.
// Keys: V vocab, B blocks per row, E elements per block, P planes, Q = E / 8 index bytes per row and plane.
// Formats by ggml id: 41 q1_0, 42 q2_0, 2 q4_0, 35 tq2_0, 34 tq1_0 (codes as in FORMATS.md: w = d * (code - o)).
import { f16ToF32 } from "./half";

// codes of 16 rows x one block (E <= 256)
const codes = memory.data(16 * 256, 16);

// Byte offset of d inside a block.
// @ts-ignore: decorator
@inline function dOffset(fmt: i32): usize {
  return fmt == 35 ? 64 : fmt == 34 ? 52 : 0;
}

// Code of element e of the block at blk (0..1 for q1_0, 0..3 for q2_0/tq2_0, 0..2 for tq1_0, 0..15 for q4_0).
// @ts-ignore: decorator
@inline function code(fmt: i32, blk: usize, e: i32): u32 {
  if (fmt == 41) return (<u32>load<u8>(blk + 2 + (e >> 3)) >> (e & 7)) & 1;
  if (fmt == 42) return (<u32>load<u8>(blk + 2 + (e >> 2)) >> ((e & 3) << 1)) & 3;
  if (fmt == 2) return e < 16 ? <u32>load<u8>(blk + 2 + e) & 15 : <u32>load<u8>(blk + 2 + e - 16) >> 4;
  if (fmt == 35) return (<u32>load<u8>(blk + ((e >> 7) << 5) + (e & 31)) >> (((e >> 5) & 3) << 1)) & 3;
  // tq1_0: base-3 digit n of byte b is ((b * 3^n) & 255) * 3 >> 8
  let b: u32;
  let n: i32;
  if (e < 160) {
    b = load<u8>(blk + (e & 31));
    n = e >> 5;
  } else if (e < 240) {
    b = load<u8>(blk + 32 + ((e - 160) & 15));
    n = (e - 160) >> 4;
  } else {
    b = load<u8>(blk + 48 + ((e - 240) & 3));
    n = (e - 240) >> 2;
  }
  const pow3: u32 = n == 0 ? 1 : n == 1 ? 3 : n == 2 ? 9 : n == 3 ? 27 : 81;
  return (((b * pow3) & 255) * 3) >> 8;
}

// Index byte lane j holds row perm(j): lane 2k is row k, lane 2k+1 is row 8 + k.
// @ts-ignore: decorator
@inline function laneRow(j: i32): i32 {
  return (j & 1) ? 8 + (j >> 1) : j >> 1;
}

// Codes of one block into dst (E bytes), the format's loop hoisted out of the element loop.
// @ts-ignore: decorator
@inline function decodeBlock(fmt: i32, blk: usize, elems: i32, dst: usize): void {
  if (fmt == 2) {
    for (let e = 0; e < 16; e++) {
      const b = <u32>load<u8>(blk + 2 + e);
      store<u8>(dst + e, b & 15);
      store<u8>(dst + 16 + e, b >> 4);
    }
  } else if (fmt == 42) {
    for (let i = 0; i < 16; i++) {
      const b = <u32>load<u8>(blk + 2 + i);
      store<u32>(dst + (i << 2), (b & 3) | ((b & 12) << 6) | ((b & 48) << 12) | ((b & 192) << 18));
    }
  } else if (fmt == 35) {
    for (let c = 0; c < 2; c++) {
      for (let m = 0; m < 32; m++) {
        const b = <u32>load<u8>(blk + (c << 5) + m);
        const o = dst + (c << 7) + m;
        store<u8>(o, b & 3);
        store<u8>(o + 32, (b >> 2) & 3);
        store<u8>(o + 64, (b >> 4) & 3);
        store<u8>(o + 96, b >> 6);
      }
    }
  } else {
    for (let e = 0; e < elems; e++) store<u8>(dst + e, code(fmt, blk, e));
  }
}

export function tmac_tile(fmt: i32, table: usize, rowBytes: i32, vocab: i32, blocks: i32, elems: i32, blockBytes: i32, planes: i32, out: usize): void {
  const tiles = (vocab + 15) >> 4;
  const pairs = elems >> 3;
  const dOff = dOffset(fmt);
  for (let t = 0; t < tiles; t++) {
    for (let b = 0; b < blocks; b++) {
      // decode the 16 rows' codes of this block
      for (let j = 0; j < 16; j++) {
        const row = (t << 4) + laneRow(j);
        const dst = codes + <usize>(j * elems);
        if (row < vocab) decodeBlock(fmt, table + <usize>row * rowBytes + <usize>(b * blockBytes), elems, dst);
        else memory.fill(dst, 0, elems);
      }
      for (let p = 0; p < planes; p++) {
        for (let q = 0; q < pairs; q++) {
          for (let j = 0; j < 16; j++) {
            // bit p of 8 code bytes gathered into one byte, element 8q + k -> bit k
            const c = load<u64>(codes + <usize>(j * elems + (q << 3)));
            store<u8>(out + j, <u8>((((c >> p) & 0x0101010101010101) * 0x0102040810204080) >> 56));
          }
          out += 16;
        }
      }
      for (let r = 0; r < 16; r++) {
        const row = (t << 4) + r;
        let d: f32 = 0;
        if (row < vocab) d = f16ToF32(load<u16>(table + <usize>row * rowBytes + <usize>(b * blockBytes) + dOff));
        store<f32>(out + (<usize>r << 2), d);
      }
      out += 64;
    }
  }
}

// q1_0 (layout of tmac_q1.ts): a row's qs byte q already holds groups 2q and 2q+1, so tiling one block of 16
// rows is a 16 x 16 byte transpose (lane j <- row laneRow(j)): four rounds of interleaves, 8-, 16-, 32-, 64-bit.
// A row whose d is negative enters with its bits inverted; then the 16 |d| as f16 bits.
// A d that is Inf or NaN is stored as 0 (the layout cannot hold it; the caller computes those rows apart).
// Returns how many there were.
const stage = memory.data(3 * 256, 16);

// @ts-ignore: decorator
@inline function signMask(blk: usize): v128 {
  return i8x16.splat(<i8>(<i32>load<u8>(blk, 1) >> 7) * -1);
}

export function tmac_tile_q1(table: usize, rowBytes: i32, vocab: i32, blocks: i32, out: usize): i32 {
  const tiles = (vocab + 15) >> 4;
  let nonFinite = 0;
  const A = stage;
  const B = stage + 256;
  const C = stage + 512;
  for (let t = 0; t < tiles; t++) {
    const full = (t << 4) + 16 <= vocab;
    for (let b = 0; b < blocks; b++) {
      const blockAt = <usize>(b * 18);
      if (full) {
        for (let j = 0; j < 16; j++) {
          const blk = table + <usize>((t << 4) + laneRow(j)) * rowBytes + blockAt;
          v128.store(A + (<usize>j << 4), v128.xor(v128.load(blk + 2), signMask(blk)));
        }
        // rows 2k, 2k+1 -> 16-bit units per column
        for (let k = 0; k < 8; k++) {
          const x = v128.load(A + (<usize>k << 5));
          const y = v128.load(A + (<usize>k << 5), 16);
          v128.store(B + (<usize>k << 5), i8x16.shuffle(x, y, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
          v128.store(B + (<usize>k << 5), i8x16.shuffle(x, y, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), 16);
        }
        // C[4m + i]: rows 4m..4m+3, columns 4i..4i+3
        for (let m = 0; m < 4; m++) {
          for (let h = 0; h < 2; h++) {
            const x = v128.load(B + (<usize>(4 * m + h) << 4));
            const y = v128.load(B + (<usize>(4 * m + 2 + h) << 4));
            const at = C + (<usize>(4 * m + 2 * h) << 4);
            v128.store(at, i8x16.shuffle(x, y, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
            v128.store(at, i8x16.shuffle(x, y, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31), 16);
          }
        }
        // A[8n + i]: rows 8n..8n+7, columns 2i, 2i+1
        for (let n = 0; n < 2; n++) {
          for (let i = 0; i < 4; i++) {
            const x = v128.load(C + (<usize>(8 * n + i) << 4));
            const y = v128.load(C + (<usize>(8 * n + 4 + i) << 4));
            const at = A + (<usize>(8 * n + 2 * i) << 4);
            v128.store(at, i8x16.shuffle(x, y, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23));
            v128.store(at, i8x16.shuffle(x, y, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31), 16);
          }
        }
        // column q = qs byte q of all 16 lanes
        for (let i = 0; i < 8; i++) {
          const x = v128.load(A + (<usize>i << 4));
          const y = v128.load(A + (<usize>(8 + i) << 4));
          v128.store(out + (<usize>i << 5), i8x16.shuffle(x, y, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
          v128.store(out + (<usize>i << 5), i8x16.shuffle(x, y, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31), 16);
        }
      } else {
        for (let j = 0; j < 16; j++) {
          const row = (t << 4) + laneRow(j);
          const blk = table + <usize>row * rowBytes + blockAt;
          const flip: u8 = row < vocab ? <u8>((<i32>load<u8>(blk, 1) >> 7) * 255) : 0;
          for (let q = 0; q < 16; q++) store<u8>(out + (q << 4) + j, row < vocab ? load<u8>(blk + 2 + q) ^ flip : 0);
        }
      }
      out += 256;
      for (let r = 0; r < 16; r++) {
        const row = (t << 4) + r;
        let h: u32 = 0;
        if (row < vocab) {
          h = <u32>load<u16>(table + <usize>row * rowBytes + blockAt) & 0x7fff;
          if (h >= 0x7c00) {
            h = 0;
            nonFinite++;
          }
        }
        store<u16>(out + (<usize>r << 1), <u16>h);
      }
      out += 32;
    }
  }
  return nonFinite;
}

// Builds the row-tiled bit layout of planes.ts from packed rows, once per table: 16 rows at a time, each
// block's codes split into bit-planes, 4 elements to a nibble, 2 groups to a byte; then the 16 rows' d as f32.
// Keys: V vocab, B blocks per row, E elements per block, P planes, Q = E / 8 index bytes per row and plane.
// Each format's codes come from its own file (codes_<fmt>, through the generated registry): w = d * (code - o).
import { f16ToF32 } from "../half";
import { SCRATCH, TILE_CODES_AT, TILE_STAGE_AT } from "../scratch";
import { codesOf, scaleOffsetOf } from "../formats/registry";

// codes of 16 rows x one block (E <= 256), in the instance's scratch
// @ts-ignore: decorator
@inline function tileCodes(): usize {
  return SCRATCH + TILE_CODES_AT;
}

// Index byte lane j holds row perm(j): lane 2k is row k, lane 2k+1 is row 8 + k.
// @ts-ignore: decorator
@inline function laneRow(j: i32): i32 {
  return (j & 1) ? 8 + (j >> 1) : j >> 1;
}

export function fast_tile(fmt: i32, table: usize, rowBytes: i32, vocab: i32, blocks: i32, elems: i32, blockBytes: i32, planes: i32, out: usize): void {
  const tiles = (vocab + 15) >> 4;
  const pairs = elems >> 3;
  const dOff = scaleOffsetOf(fmt);
  for (let t = 0; t < tiles; t++) {
    for (let b = 0; b < blocks; b++) {
      // decode the 16 rows' codes of this block
      for (let j = 0; j < 16; j++) {
        const row = (t << 4) + laneRow(j);
        const dst = tileCodes() + <usize>(j * elems);
        if (row < vocab) codesOf(fmt, table + <usize>row * rowBytes + <usize>(b * blockBytes), dst);
        else memory.fill(dst, 0, elems);
      }
      for (let p = 0; p < planes; p++) {
        for (let q = 0; q < pairs; q++) {
          for (let j = 0; j < 16; j++) {
            // bit p of 8 code bytes gathered into one byte, element 8q + k -> bit k
            const c = load<u64>(tileCodes() + <usize>(j * elems + (q << 3)));
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

// q1_0 (layout of signs.ts): a row's qs byte q already holds groups 2q and 2q+1, so tiling one block of 16
// rows is a 16 x 16 byte transpose (lane j <- row laneRow(j)): four rounds of interleaves, 8-, 16-, 32-, 64-bit.
// A row whose d is negative enters with its bits inverted; then the 16 |d| as f16 bits.
// A d that is Inf or NaN is stored as 0 (the layout cannot hold it; the caller computes those rows apart).
// Returns how many there were.
// @ts-ignore: decorator
@inline function tileStage(): usize {
  return SCRATCH + TILE_STAGE_AT;
}

// @ts-ignore: decorator
@inline function signMask(blk: usize): v128 {
  return i8x16.splat(<i8>(<i32>load<u8>(blk, 1) >> 7) * -1);
}

export function fast_tile_signs(table: usize, rowBytes: i32, vocab: i32, blocks: i32, out: usize): i32 {
  const tiles = (vocab + 15) >> 4;
  let nonFinite = 0;
  const A = tileStage();
  const B = A + 256;
  const C = A + 512;
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

// q1_0 rows (of `rows` at `table`) with an Inf or NaN block scale, which fast_tile_signs stores as 0: their
// indices go to ids (u32, up to `rows`), in order; returns how many. The caller computes them with the exact
// kernels.
export function fast_signs_nonfinite_rows(table: usize, rowBytes: i32, rows: i32, blocks: i32, ids: usize): i32 {
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const row = table + <usize>r * rowBytes;
    for (let b = 0; b < blocks; b++) {
      if ((<u32>load<u16>(row + <usize>(b * 18)) & 0x7c00) == 0x7c00) {
        store<u32>(ids + (<usize>n << 2), r);
        n++;
        break;
      }
    }
  }
  return n;
}

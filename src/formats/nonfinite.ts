// Rows whose f16 block scale (or minimum) is Inf or NaN. Such a row decodes to +-Inf and NaN (Inf x 0) values,
// and its logit is +-Inf or NaN depending on the order the kernel sums in: the decode path (batches of 4 and
// more) mixes +Inf and -Inf into NaN where the direct dots (ggml's d * block sum) give +-Inf. So that every mode
// and every batch size ranks such rows alike, they are always computed one vector at a time by the exact
// kernel, as ggml computes them: exact mode patches them into each slice (project.ts), fast mode keeps them
// apart from its tiled copy (fast.ts).
// Keys: V rows, B blocks per row; f16 Inf/NaN has all five exponent bits set (0x7c in the high byte).
import type { FormatInfo } from "./registry.js";

// Byte offsets of the f16 scales in one block (see each format's block diagram in assembly/formats/).
const SCALE_OFFSETS: Readonly<Record<string, readonly number[]>> = {
  q8_0: [0],
  q4_0: [0],
  q4_1: [0, 2],
  q1_0: [0],
  q2_0: [0],
  tq1_0: [52],
  tq2_0: [64],
  q6_k: [208],
  q4_k: [0, 2],
  q5_k: [0, 2],
  q2_k: [80, 82],
  q3_k: [108],
  iq4_xs: [0],
  pq2_0: [0],
  ptq1_0: [26],
  q5_0: [0],
  q5_1: [0, 2],
  iq4_nl: [0],
};

/** Indices of the rows (of `rows` rows at `ptr` in `u8`, the first numbered `first`) with a non-finite scale, ascending. */
export function nonFiniteRows(u8: Uint8Array, ptr: number, rowBytes: number, rows: number, info: FormatInfo, first = 0): number[] {
  const offsets = SCALE_OFFSETS[info.name];
  const out: number[] = [];
  if (offsets === undefined) return out;
  const blocks = rowBytes / info.blockBytes;
  for (let r = 0; r < rows; r++) {
    let at = ptr + r * rowBytes;
    rowScan: for (let b = 0; b < blocks; b++, at += info.blockBytes) {
      for (const o of offsets) {
        if ((u8[at + o + 1] & 0x7c) === 0x7c) {
          out.push(first + r);
          break rowScan;
        }
      }
    }
  }
  return out;
}

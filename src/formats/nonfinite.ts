// Rows whose block scale makes the block decode to +-Inf or NaN: an f16 scale (or minimum) that is Inf or NaN,
// or an MXFP4 E8M0 exponent so large that the block's levels overflow f32. Such a row decodes to +-Inf and NaN
// (Inf x 0) values, and its logit is +-Inf or NaN depending on the order the kernel sums in: the decode path
// (batches of 4 and more) mixes +Inf and -Inf into NaN where the direct dots (ggml's d * block sum) give +-Inf.
// So that every mode and every batch size ranks such rows alike, they are always computed one vector at a time
// by the exact kernel, as ggml computes them: exact mode patches them into each slice (project.ts), fast mode
// keeps them apart from its tiled copy (fast.ts).
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

// MXFP4 (assembly/formats/mxfp4.ts): ggml's dequantizer and dots read E8M0 0xFF as 2^127, not NaN
// (ggml_e8m0_to_fp32_half; only ggml_validate_row_data calls 0xFF invalid, as OCP MX's NaN), and so does
// bitembed. The doubled levels 0 1 2 3 4 6 8 12 times 2^(e - 128) overflow f32 from e = 253 up: level >=
// 2^(256 - e), so 8 at 253, 4 at 254, 2 at 255. Such a block decodes to +-Inf. ggml's quantizer never writes
// one (test/fixtures/ggml/make-e8m0.mjs: 253 for the largest f32 with level 6 at most; 253..255 below 2^-125
// with zero codes), but a file can hold one.
const MXFP4_BLOCK_BYTES = 17;
const MXFP4_FIRST_OVERFLOW = 253;
// |level| of each 3-bit magnitude (bit 3 is the sign)
const MXFP4_LEVELS = [0, 1, 2, 3, 4, 6, 8, 12];

/** Whether the MXFP4 block at `at` decodes a value to +-Inf. */
function mxfp4BlockOverflows(u8: Uint8Array, at: number): boolean {
  const e = u8[at];
  if (e < MXFP4_FIRST_OVERFLOW) return false;
  const limit = 2 ** (256 - e);
  for (let j = 1; j < MXFP4_BLOCK_BYTES; j++) {
    const q = u8[at + j];
    if (MXFP4_LEVELS[q & 7] >= limit || MXFP4_LEVELS[(q >> 4) & 7] >= limit) return true;
  }
  return false;
}

/** Whether the f16 at `at` (little-endian) is Inf or NaN. */
const f16NonFinite = (u8: Uint8Array, at: number) => (u8[at + 1] & 0x7c) === 0x7c;

/** Whether one block of the format, at `at`, decodes to a non-finite value through its scale; undefined: never. */
function blockCheck(name: string): ((u8: Uint8Array, at: number) => boolean) | undefined {
  if (name === "mxfp4") return mxfp4BlockOverflows;
  const offsets = SCALE_OFFSETS[name];
  if (offsets === undefined) return undefined;
  // a scale, or a scale and a minimum (the most any format has)
  const [o0, o1] = offsets;
  if (o1 === undefined) return (u8, at) => f16NonFinite(u8, at + o0);
  return (u8, at) => f16NonFinite(u8, at + o0) || f16NonFinite(u8, at + o1);
}

/** Indices of the rows (of `rows` rows at `ptr` in `u8`, the first numbered `first`) with a non-finite scale, ascending. */
export function nonFiniteRows(u8: Uint8Array, ptr: number, rowBytes: number, rows: number, info: FormatInfo, first = 0): number[] {
  const check = blockCheck(info.name);
  const out: number[] = [];
  if (check === undefined) return out;
  const blocks = rowBytes / info.blockBytes;
  for (let r = 0; r < rows; r++) {
    let at = ptr + r * rowBytes;
    for (let b = 0; b < blocks; b++, at += info.blockBytes) {
      if (check(u8, at)) {
        out.push(first + r);
        break;
      }
    }
  }
  return out;
}

// Lookup decode throughput of every format in FORMATS: 512 random rows of a 32000 x 4096 table, bitembed's
// SIMD kernels against a naive JS decoder of the same packed bytes (written from FORMATS.md the obvious
// way), in the same run; and quantize throughput (tableFromF32: f32 in, packed table out).
// Output GB/s counts the f32 values produced; quantize MB/s counts the f32 values consumed.
// BENCH_VOCAB=2000 node bench/decode.mjs runs a smaller table for a quick check; BENCH_FORMATS=q2_0,tq1_0
// runs only those formats.
import { fileURLToPath } from "node:url";
import { FORMATS, FORMAT_NAMES, init } from "../build/node.js";
import { bf16ToF32Naive, f16ToF32Naive } from "./naive-half.mjs";
import { fmt, machineLine, median, rng, table } from "./harness.mjs";

const VOCAB = Number(process.env.BENCH_VOCAB ?? 32000);
const DIM = 4096;
const N = 512;
const ONLY = process.env.BENCH_FORMATS?.split(",");
const QUANT_ROWS = Math.min(VOCAB, 2048); // rows quantized per timed run

const f16 = f16ToF32Naive;

// Naive decoders: (bytes, view, rowStart, dim, out, at) writes one row, the way a JS user would write it
// from FORMATS.md: block by block, the scale read once per block, then one element at a time.
function blocks(elems, blockBytes, dim, row, each) {
  for (let j0 = 0, blk = row; j0 < dim; j0 += elems, blk += blockBytes) each(blk, j0, Math.min(elems, dim - j0));
}
// q4_k / q5_k: group g's 6-bit scale and minimum from the 12 packed bytes at q (get_scale_min_k4).
function kScale(b, q, g) {
  return g < 4 ? b[q + g] & 63 : (b[q + g + 4] & 15) | ((b[q + g - 4] >> 6) << 4);
}
function kMin(b, q, g) {
  return g < 4 ? b[q + g + 4] & 63 : (b[q + g + 4] >> 4) | ((b[q + g] >> 6) << 4);
}
const NAIVE = {
  f32(b, v, row, dim, out, at) {
    for (let j = 0; j < dim; j++) out[at + j] = v.getFloat32(row + 4 * j, true);
  },
  f16(b, v, row, dim, out, at) {
    for (let j = 0; j < dim; j++) out[at + j] = f16(v.getUint16(row + 2 * j, true));
  },
  bf16(b, v, row, dim, out, at) {
    for (let j = 0; j < dim; j++) {
      out[at + j] = bf16ToF32Naive(v.getUint16(row + 2 * j, true));
    }
  },
  q8_0(b, v, row, dim, out, at) {
    blocks(32, 34, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk, true));
      for (let k = 0; k < n; k++) out[at + j0 + k] = v.getInt8(blk + 2 + k) * d;
    });
  },
  q4_0(b, v, row, dim, out, at) {
    blocks(32, 18, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk, true));
      for (let k = 0; k < n; k++) out[at + j0 + k] = ((k < 16 ? b[blk + 2 + k] & 15 : b[blk + 2 + k - 16] >> 4) - 8) * d;
    });
  },
  q4_1(b, v, row, dim, out, at) {
    blocks(32, 20, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk, true));
      const m = f16(v.getUint16(blk + 2, true));
      for (let k = 0; k < n; k++) out[at + j0 + k] = (k < 16 ? b[blk + 4 + k] & 15 : b[blk + 4 + k - 16] >> 4) * d + m;
    });
  },
  q1_0(b, v, row, dim, out, at) {
    blocks(128, 18, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk, true));
      for (let k = 0; k < n; k++) out[at + j0 + k] = (b[blk + 2 + (k >> 3)] >> (k & 7)) & 1 ? d : -d;
    });
  },
  q2_0(b, v, row, dim, out, at) {
    blocks(64, 18, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk, true));
      for (let k = 0; k < n; k++) out[at + j0 + k] = (((b[blk + 2 + (k >> 2)] >> (2 * (k & 3))) & 3) - 1) * d;
    });
  },
  tq2_0(b, v, row, dim, out, at) {
    blocks(256, 66, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk + 64, true));
      for (let k = 0; k < n; k++) {
        out[at + j0 + k] = (((b[blk + 32 * (k >> 7) + (k & 31)] >> (2 * ((k >> 5) & 3))) & 3) - 1) * d;
      }
    });
  },
  q6_k(b, v, row, dim, out, at) {
    blocks(256, 210, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk + 208, true));
      for (let k = 0; k < n; k++) {
        // element 128 h + 32 r + l: a nibble of ql[64 h + l + 32 (r & 1)] and two bits of qh[32 h + l]
        const h = k >> 7, r = (k >> 5) & 3, l = k & 31;
        const lo = b[blk + 64 * h + l + 32 * (r & 1)];
        const q = (r < 2 ? lo & 15 : lo >> 4) | (((b[blk + 128 + 32 * h + l] >> (2 * r)) & 3) << 4);
        out[at + j0 + k] = Math.fround(d * v.getInt8(blk + 192 + 8 * h + 2 * r + (l >> 4))) * (q - 32);
      }
    });
  },
  q4_k(b, v, row, dim, out, at) {
    blocks(256, 144, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk, true));
      const dmin = f16(v.getUint16(blk + 2, true));
      for (let k = 0; k < n; k++) {
        // group g = k / 32: its 6-bit scale and minimum from scales[12]; the code a nibble of qs[32 (g >> 1) + l]
        const sc = kScale(b, blk + 4, k >> 5);
        const m = kMin(b, blk + 4, k >> 5);
        const byte = b[blk + 16 + 32 * (k >> 6) + (k & 31)];
        const q = (k >> 5) & 1 ? byte >> 4 : byte & 15;
        out[at + j0 + k] = Math.fround(Math.fround(d * sc) * q) - Math.fround(dmin * m);
      }
    });
  },
  q5_k(b, v, row, dim, out, at) {
    blocks(256, 176, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk, true));
      const dmin = f16(v.getUint16(blk + 2, true));
      for (let k = 0; k < n; k++) {
        // as q4_k, plus the fifth bit: bit g of qh[l]
        const sc = kScale(b, blk + 4, k >> 5);
        const m = kMin(b, blk + 4, k >> 5);
        const byte = b[blk + 48 + 32 * (k >> 6) + (k & 31)];
        const q = ((k >> 5) & 1 ? byte >> 4 : byte & 15) | (((b[blk + 16 + (k & 31)] >> (k >> 5)) & 1) << 4);
        out[at + j0 + k] = Math.fround(Math.fround(d * sc) * q) - Math.fround(dmin * m);
      }
    });
  },
  q2_k(b, v, row, dim, out, at) {
    blocks(256, 84, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk + 80, true));
      const dmin = f16(v.getUint16(blk + 82, true));
      for (let k = 0; k < n; k++) {
        // group k >> 4: scale (low nibble) and min (high nibble); the code is 2 bits of qs[32 h + (k & 31)]
        const sc = b[blk + (k >> 4)];
        const q = (b[blk + 16 + 32 * (k >> 7) + (k & 31)] >> (2 * ((k >> 5) & 3))) & 3;
        out[at + j0 + k] = Math.fround(d * (sc & 15)) * q - Math.fround(dmin * (sc >> 4));
      }
    });
  },
  q3_k(b, v, row, dim, out, at) {
    blocks(256, 110, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk + 108, true));
      for (let k = 0; k < n; k++) {
        const g = k >> 4;
        const s = (g < 8 ? b[blk + 96 + g] & 15 : b[blk + 88 + g] >> 4) | (((b[blk + 104 + (g & 3)] >> (2 * (g >> 2))) & 3) << 4);
        const low = (b[blk + 32 + 32 * (k >> 7) + (k & 31)] >> (2 * ((k >> 5) & 3))) & 3;
        const high = (b[blk + (k & 31)] >> (k >> 5)) & 1;
        out[at + j0 + k] = Math.fround(d * (s - 32)) * (high ? low : low - 4);
      }
    });
  },
  iq4_xs(b, v, row, dim, out, at) {
    const levels = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
    blocks(256, 136, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk, true));
      const scalesH = v.getUint16(blk + 2, true);
      for (let k = 0; k < n; k++) {
        const ib = k >> 5;
        const ls = ((b[blk + 4 + (ib >> 1)] >> (4 * (ib & 1))) & 15) | (((scalesH >> (2 * ib)) & 3) << 4);
        const q = b[blk + 8 + 16 * ib + (k & 15)];
        out[at + j0 + k] = Math.fround(d * (ls - 32)) * levels[k & 16 ? q >> 4 : q & 15];
      }
    });
  },
  q5_0(b, v, row, dim, out, at) {
    blocks(32, 22, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk, true));
      const qh = v.getUint32(blk + 2, true);
      for (let k = 0; k < n; k++) {
        const q = (k < 16 ? b[blk + 6 + k] & 15 : b[blk + 6 + k - 16] >> 4) | (((qh >>> k) & 1) << 4);
        out[at + j0 + k] = (q - 16) * d;
      }
    });
  },
  q5_1(b, v, row, dim, out, at) {
    blocks(32, 24, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk, true));
      const m = f16(v.getUint16(blk + 2, true));
      const qh = v.getUint32(blk + 4, true);
      for (let k = 0; k < n; k++) {
        const q = (k < 16 ? b[blk + 8 + k] & 15 : b[blk + 8 + k - 16] >> 4) | (((qh >>> k) & 1) << 4);
        out[at + j0 + k] = q * d + m;
      }
    });
  },
  iq4_nl(b, v, row, dim, out, at) {
    const levels = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
    blocks(32, 18, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk, true));
      for (let k = 0; k < n; k++) out[at + j0 + k] = d * levels[k < 16 ? b[blk + 2 + k] & 15 : b[blk + 2 + k - 16] >> 4];
    });
  },
  mxfp4(b, v, row, dim, out, at) {
    const levels = [0, 1, 2, 3, 4, 6, 8, 12, -0, -1, -2, -3, -4, -6, -8, -12];
    blocks(32, 17, dim, row, (blk, j0, n) => {
      const d = 2 ** (b[blk] - 128);
      for (let k = 0; k < n; k++) out[at + j0 + k] = levels[k < 16 ? b[blk + 1 + k] & 15 : b[blk + 1 + k - 16] >> 4] * d;
    });
  },
  tq1_0(b, v, row, dim, out, at) {
    const pow3 = [1, 3, 9, 27, 81];
    blocks(256, 54, dim, row, (blk, j0, n) => {
      const d = f16(v.getUint16(blk + 52, true));
      for (let k = 0; k < n; k++) {
        // which byte holds element k, and which base-3 digit of it
        const [byte, digit] = k < 160 ? [k % 32, (k / 32) | 0] : k < 240 ? [32 + ((k - 160) % 16), ((k - 160) / 16) | 0] : [48 + ((k - 240) % 4), ((k - 240) / 4) | 0];
        const q = (b[blk + byte] * pow3[digit]) & 255;
        out[at + j0 + k] = (((q * 3) >> 8) - 1) * d;
      }
    });
  },
};

export async function run() {
  const rt = await init();
  const random = rng(11);
  // normal-ish values (sum of uniforms), like an embedding table
  const values = Float32Array.from({ length: VOCAB * DIM }, () => random() + random() + random() - 1.5);
  const ids = Int32Array.from({ length: N }, () => Math.floor(random() * VOCAB));
  const out = new Float32Array(N * DIM);
  const outGb = (N * DIM * 4) / 1e9;
  const quantInput = values.subarray(0, QUANT_ROWS * DIM);
  const quantMb = (QUANT_ROWS * DIM * 4) / 1e6;
  const rows = [];

  for (const format of FORMAT_NAMES.filter((f) => !ONLY || ONLY.includes(f))) {
    const info = FORMATS[format];
    const t = rt.tableFromF32(values, { vocab: VOCAB, dim: DIM, format });
    // generous warm-up: V8 first runs wasm on its baseline compiler and swaps in optimized code in the background
    const ms = median(() => t.lookup(ids, out), { runs: 15, warmup: 12 });
    // the same rows decoded into an F32Buffer: no copy out of linear memory
    const inWasm = rt.f32Buffer(N * DIM);
    const wasmMs = median(() => t.lookup(ids, inWasm), { runs: 15, warmup: 12 });
    inWasm.dispose();
    // a prompt-sized lookup (32 rows, 512 KB of output): the output stays in cache, so this is the kernel's speed
    const fewIds = ids.subarray(0, 32);
    const fewOut = rt.f32Buffer(fewIds.length * DIM);
    const fewMs = median(() => t.lookup(fewIds, fewOut), { runs: 101, warmup: 10 });
    fewOut.dispose();
    const naive = NAIVE[format];
    let naiveCells = ["—", "—", "—"];
    if (naive) {
      const bytes = t.bytes();
      const view = new DataView(bytes.buffer);
      const naiveMs = median(
        () => {
          for (let i = 0; i < N; i++) naive(bytes, view, ids[i] * t.rowBytes, DIM, out, i * DIM);
        },
        { runs: 5, warmup: 1 },
      );
      // a wrong decoder would make a meaningless baseline: it must agree with bitembed (up to rounding)
      const want = t.lookup(ids);
      for (let i = 0; i < want.length; i++) {
        if (!(Math.abs(out[i] - want[i]) <= 1e-6 * Math.abs(want[i]) + 1e-30 || (Number.isNaN(out[i]) && Number.isNaN(want[i])))) {
          throw new Error(`bench/decode: the naive ${format} decoder disagrees at ${i}: ${out[i]} vs ${want[i]}`);
        }
      }
      naiveCells = [fmt(naiveMs), fmt(outGb / (naiveMs / 1e3)), `**${fmt(naiveMs / ms)}x**`];
    }
    t.dispose();
    const quantMs = median(() => rt.tableFromF32(quantInput, { vocab: QUANT_ROWS, dim: DIM, format }).dispose(), {
      runs: 5,
      warmup: 1,
    });
    const bits = ((info.blockBytes * 8) / info.blockElems).toFixed(info.blockElems === 1 ? 0 : 3);
    rows.push([format, bits, fmt(ms), fmt(outGb / (ms / 1e3)), fmt(outGb / (wasmMs / 1e3)), fmt((outGb * fewIds.length) / N / (fewMs / 1e3)), ...naiveCells, fmt(quantMb / (quantMs / 1e3))]);
  }
  return [
    `### Decode: ${N} random rows of a ${VOCAB} x ${DIM} table, every format`,
    "",
    "bitembed `lookup` (SIMD kernels; into a JS Float32Array, and into an `F32Buffer` in wasm memory, which skips the copy out; and 32 rows into an F32Buffer, an output that stays in cache) against a naive JS decoder of the same packed bytes (block by block, the scale read once per block, then one element at a time, checked against bitembed; " +
      "as written from FORMATS.md). GB/s of f32 output; medians of 15 (bitembed) and 5 (JS) runs. " +
      `Quantize: \`tableFromF32\` of ${QUANT_ROWS} x ${DIM} f32 values, MB/s of f32 input, median of 5.`,
    "",
    table(
      ["format", "bits/weight", "bitembed ms", "bitembed GB/s", "GB/s into F32Buffer", "GB/s, 32 rows into F32Buffer", "naive JS ms", "naive JS GB/s", "speedup", "quantize MB/s"],
      rows,
    ),
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(machineLine());
  console.log(await run());
}

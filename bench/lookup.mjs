// Lookup of 512 random rows from a 32000 x 4096 table in f32, f16 and bf16, against a naive JS loop and
// Float32Array.set over a JS-held f32 table, in the same run. Output GB/s counts the f32 rows produced.
import { fileURLToPath } from "node:url";
import { init } from "../build/node.js";
import { fmt, machineLine, median, medians, rng, table } from "./harness.mjs";
import { bf16ToF32Naive, f16ToF32Naive } from "./naive-half.mjs";

const VOCAB = 32000;
const DIM = 4096;
const N = 512;

export async function run() {
  const rt = await init();
  const random = rng(7);
  const values = Float32Array.from({ length: VOCAB * DIM }, () => random() * 2 - 1);
  const ids = Int32Array.from({ length: N }, () => Math.floor(random() * VOCAB));
  const out = new Float32Array(N * DIM);
  const gb = (N * DIM * 4) / 1e9;
  const rows = [];

  const setRows = () => {
    for (let i = 0; i < N; i++) out.set(values.subarray(ids[i] * DIM, ids[i] * DIM + DIM), i * DIM);
  };
  const f32Table = rt.tableFromF32(values, { vocab: VOCAB, dim: DIM, format: "f32" });
  // the f32 copy and its JS baseline are timed in round robin: same cache state, same drift
  const [setMs, f32Ms] = medians([setRows, () => f32Table.lookup(ids, out)], { runs: 41 });
  f32Table.dispose();
  const naiveF32Ms = median(() => {
    for (let i = 0; i < N; i++) for (let j = 0; j < DIM; j++) out[i * DIM + j] = values[ids[i] * DIM + j];
  });
  rows.push(["f32", "JS `Float32Array.set` per row", fmt(setMs), fmt(gb / (setMs / 1e3)), "1.00"]);
  rows.push(["f32", "naive JS loop", fmt(naiveF32Ms), fmt(gb / (naiveF32Ms / 1e3)), fmt(setMs / naiveF32Ms)]);

  for (const format of ["f32", "f16", "bf16"]) {
    const t = rt.tableFromF32(values, { vocab: VOCAB, dim: DIM, format });
    const ms = format === "f32" ? f32Ms : median(() => t.lookup(ids, out), { runs: 25 });
    if (format !== "f32") {
      const halves = new Uint16Array(t.bytes().buffer);
      const decode = format === "f16" ? f16ToF32Naive : bf16ToF32Naive;
      const naiveMs = median(() => {
        for (let i = 0; i < N; i++) {
          const base = ids[i] * DIM;
          for (let j = 0; j < DIM; j++) out[i * DIM + j] = decode(halves[base + j]);
        }
      });
      rows.push([format, "naive JS decode", fmt(naiveMs), fmt(gb / (naiveMs / 1e3)), fmt(setMs / naiveMs)]);
      // the better JS: a 65,536-entry table of every half's value
      const lut = Float32Array.from({ length: 65536 }, (_, h) => decode(h));
      const lutMs = median(() => {
        for (let i = 0; i < N; i++) {
          const base = ids[i] * DIM;
          for (let j = 0; j < DIM; j++) out[i * DIM + j] = lut[halves[base + j]];
        }
      });
      rows.push([format, "JS 65,536-entry table", fmt(lutMs), fmt(gb / (lutMs / 1e3)), fmt(setMs / lutMs)]);
      rows.push([format, `**bitembed** lookup (${fmt(naiveMs / ms)}x naive)`, fmt(ms), fmt(gb / (ms / 1e3)), fmt(setMs / ms)]);
    } else {
      rows.push([format, "**bitembed** lookup", fmt(ms), fmt(gb / (ms / 1e3)), fmt(setMs / ms)]);
    }
    t.dispose();
  }
  return [
    `### Lookup: ${N} random rows of a ${VOCAB} x ${DIM} table`,
    "",
    "Median of 15-25 runs; GB/s of f32 output; last column: speed relative to `Float32Array.set` (higher is faster).",
    "",
    table(["format", "method", "median ms", "GB/s", "vs set"], rows),
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(machineLine());
  console.log(await run());
}

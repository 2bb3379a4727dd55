// Bag pooling (table.pool, mean mode): 1,000 bags of 20 random ids from a 151936 x 1024 table, against what a
// user writes without it: `lookup` of all 20,000 rows into a JS array, then a JS loop averaging each bag.
// Both sides get their output arrays preallocated. The q8_0 table is random blocks (codes and f16 scales); the
// other formats are quantized from random values.
import { fileURLToPath } from "node:url";
import { init } from "../build/node.js";
import { fmt, machineLine, medians, rng, table } from "./harness.mjs";

const VOCAB = 151936;
const DIM = 1024;
const BAGS = 1000;
const PER_BAG = 20;

export async function run() {
  const rt = await init();
  const random = rng(11);
  const n = BAGS * PER_BAG;
  const ids = Int32Array.from({ length: n }, () => Math.floor(random() * VOCAB));
  const offsets = Int32Array.from({ length: BAGS }, (_, b) => b * PER_BAG);
  const rows = new Float32Array(n * DIM);
  const jsOut = new Float32Array(BAGS * DIM);
  const out = new Float32Array(BAGS * DIM);
  const jsMean = (t) => {
    t.lookup(ids, rows);
    for (let b = 0; b < BAGS; b++) {
      const o = b * DIM;
      jsOut.fill(0, o, o + DIM);
      for (let i = b * PER_BAG; i < (b + 1) * PER_BAG; i++) {
        const r = i * DIM;
        for (let j = 0; j < DIM; j++) jsOut[o + j] += rows[r + j];
      }
      for (let j = 0; j < DIM; j++) jsOut[o + j] /= PER_BAG;
    }
  };
  const result = [];
  let values;
  for (const format of ["q8_0", "f16", "q4_0", "q1_0"]) {
    const t = format === "q8_0" ? randomQ8(rt, random) : rt.tableFromF32((values ??= randomF32(random)), { vocab: VOCAB, dim: DIM, format });
    const buf = rt.f32Buffer(BAGS * DIM);
    const [jsMs, poolMs, intoMs] = medians([() => jsMean(t), () => t.pool(ids, offsets, { out }), () => t.poolInto(ids, offsets, buf)], { runs: 15 });
    // the same numbers either way (f32 sums in the same order)
    let maxDiff = 0;
    for (let i = 0; i < out.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out[i] - jsOut[i]));
    result.push([format, fmt(jsMs), fmt(poolMs), fmt(intoMs), `**${fmt(jsMs / poolMs)}x**`, maxDiff.toExponential(1)]);
    buf.dispose();
    t.dispose();
  }
  return [
    `### Pool: ${BAGS} bags of ${PER_BAG} random ids, mean, ${VOCAB} x ${DIM} table`,
    "",
    "Median ms of 15 runs in round robin. JS: `lookup` of all rows into a preallocated array, then a JS loop",
    "summing each bag and dividing. `pool`: one wasm pass that decodes each bag's rows into a 32 KB scratch (q8_0:",
    "summed straight from the blocks) and averages them; `poolInto` leaves the result in an F32Buffer.",
    "",
    table(["format", "JS over lookup", "pool", "poolInto", "speed-up (pool)", "max abs(pool - JS)"], result),
  ].join("\n");
}

// Random q8_0 blocks: codes uniform in [-127, 127], scales d in [0.5, 1) / 127 as f16.
function randomQ8(rt, random) {
  const blocks = (VOCAB * DIM) / 32;
  const data = new Uint8Array(blocks * 34);
  const words = new Uint32Array(data.buffer, 0, data.length >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = (random() * 2 ** 32) >>> 0;
  for (let b = 0; b < blocks; b++) {
    const at = b * 34;
    data[at] = Math.floor(random() * 256);
    data[at + 1] = 0x1c; // exponent 7: d in [2^-8, 2^-7)
    for (let j = 2; j < 34; j++) if (data[at + j] === 0x80) data[at + j] = 0x81;
  }
  return rt.table({ vocab: VOCAB, dim: DIM, format: "q8_0", data });
}

function randomF32(random) {
  const v = new Float32Array(VOCAB * DIM);
  for (let i = 0; i < v.length; i++) v[i] = random() - 0.5;
  return v;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(machineLine());
  console.log(await run());
}

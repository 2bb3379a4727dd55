// Ternary Bonsai 2 heads, single thread: PQ2_0 and PTQ1_0 beside tq1_0 and q2_0 at Bonsai 2's width 5120 (exact
// and fast projection, 1 and 8 hidden vectors; lookup of 64 rows into wasm memory), and what the rotation costs: the forward
// transform of a hidden vector (once per head call) and the inverse of each looked-up row (RotatedTable).
// Tables are random packed bytes. `node bench/bonsai2.mjs` runs alone: BENCH_VOCAB (default 32000; the 27B head
// is 248320), BENCH_RUNS (default 7).
import { fileURLToPath } from "node:url";
import { FORMATS, init, RotatedTable } from "../build/node.js";
import { fmt, machineLine, medians, rng, table } from "./harness.mjs";

const VOCAB = Number(process.env.BENCH_VOCAB ?? 32000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const DIM = 5120;
const BLOCK = 1024;
// byte offset of d in a block
const D_AT = { pq2_0: 0, ptq1_0: 26, tq1_0: 52, q2_0: 0 };

function randomPacked(format, next) {
  const { blockElems, blockBytes } = FORMATS[format];
  const blocks = DIM / blockElems;
  const data = new Uint8Array(VOCAB * blocks * blockBytes);
  const u32 = new Uint32Array(data.buffer, 0, data.length >> 2);
  for (let i = 0; i < u32.length; i++) u32[i] = (next() * 2 ** 32) >>> 0;
  for (let i = 0; i < VOCAB * blocks; i++) {
    const h = (next() < 0.5 ? 0x8000 : 0) | (0x1c00 + Math.floor(next() * 0x800));
    data[i * blockBytes + D_AT[format]] = h & 255;
    data[i * blockBytes + D_AT[format] + 1] = h >> 8;
  }
  return data;
}

export async function run() {
  const rt = await init(undefined, { relaxedSimd: false });
  const next = rng(11);
  const hidden = Float32Array.from({ length: 8 * DIM }, () => next() * 2 - 1);
  const ids = Array.from({ length: 64 }, () => Math.floor(next() * VOCAB));
  const signs = Float32Array.from({ length: DIM }, () => (next() < 0.5 ? -1 : 1));
  const rows = [];
  let rotation = null;
  for (const format of (process.env.BENCH_ORDER ?? "pq2_0,ptq1_0,tq1_0,q2_0").split(",")) {
    const plain = rt.table({ vocab: VOCAB, dim: DIM, format, data: randomPacked(format, next) });
    const h1 = hidden.subarray(0, DIM);
    plain.project(h1); // builds the fast tiling once
    const [exact1, fast1, fast8] = medians(
      [() => plain.project(h1, { mode: "exact" }), () => plain.project(h1, { mode: "fast" }), () => plain.project(hidden, { mode: "fast" })],
      { runs: RUNS, warmup: 2 },
    );
    // (small and quick: enough calls for the engine to tier the decoder up; into wasm memory, no JS allocation)
    const buf = rt.f32Buffer(ids.length * DIM);
    const [lookup] = medians([() => plain.lookup(ids, buf)], { runs: 41, warmup: 20 });
    const mb = (plain.byteLength / 1e6).toFixed(1);
    rows.push([format, `${VOCAB} x ${DIM}`, mb, fmt(exact1), fmt(fast1), fmt(fast8), fmt(lookup)]);
    if (format === "pq2_0") {
      // the rotation's own cost: lookup of 64 rows with and without the inverse, one forward transform
      const rotated = new RotatedTable(plain, { block: BLOCK, signs });
      const [plainLookup, rotatedLookup, forward1, forward8, rotatedFast1] = medians(
        [
          () => plain.lookup(ids, buf),
          () => rotated.lookup(ids, buf),
          () => rotated.toLatent(h1),
          () => rotated.toLatent(hidden),
          () => rotated.project(h1, { mode: "fast" }),
        ],
        { runs: 41, warmup: 20 },
      );
      rotation = { plainLookup, rotatedLookup, forward1, forward8, rotatedFast1, fast1 };
      rotated.dispose();
    } else plain.dispose();
    buf.dispose();
  }
  const r = rotation;
  return [
    "### Ternary Bonsai 2 heads",
    "",
    "Medians in ms, single thread, the baseline build; random packed rows of width 5120 (Bonsai 2 27B's hidden size).",
    "",
    table(["format", "head", "MB", "exact, 1 vector (ms)", "fast, 1 (ms)", "fast, 8 (ms)", "lookup 64 rows (ms)"], rows),
    "",
    `Rotation (B = ${BLOCK}, width ${DIM}, explicit signs): the head's forward transform (RotatedTable.toLatent: copy in, NaN ` +
      `check, transform, copy out) of 1 hidden vector ${fmt(r.forward1 * 1000)} µs, of 8: ${fmt(r.forward8 * 1000)} µs; a rotated pq2_0 head's fast call ${fmt(r.rotatedFast1)} ms ` +
      `against ${fmt(r.fast1)} ms unrotated; lookup of 64 rows ${fmt(r.rotatedLookup)} ms rotated against ${fmt(r.plainLookup)} ms ` +
      `(the inverse: ${fmt(((r.rotatedLookup - r.plainLookup) / 64) * 1000)} µs a row).`,
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(machineLine());
  console.log(await run());
}

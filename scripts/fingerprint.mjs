// Fingerprints of every format's computed values, to show a refactor changed no bit: lookup (decode),
// quantize, and projection in every mode (exact, fast where it exists, ggml) over batches of 1, 3, 5 and 9
// vectors, dims around the blocks, on deterministic tables; both builds (baseline, relaxed SIMD).
// Usage: node scripts/fingerprint.mjs [path/to/build/node.js]   (run the same script against two builds)
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const entry = process.argv[2] ? pathToFileURL(resolve(process.argv[2])).href : new URL("../build/node.js", import.meta.url).href;
const lib = await import(entry);

let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const values = (n, scale) => Float32Array.from({ length: n }, () => rand() * scale);

for (const relaxedSimd of [false, true]) {
  const rt = await lib.init(undefined, { relaxedSimd });
  const lines = [];
  for (const format of lib.FORMAT_NAMES) {
    const h = createHash("sha256");
    const add = (a) => h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    for (const [vocab, dim] of [[37, 256], [21, 1024], [9, 100], [40, 2048]]) {
      seed = vocab * 7919 + dim;
      const table = rt.tableFromF32(values(vocab * dim, 2), { vocab, dim, format });
      add(table.bytes());
      add(table.lookup(Array.from({ length: vocab }, (_, i) => (i * 5) % vocab)));
      for (const n of [1, 3, 5, 9]) {
        const hidden = values(n * dim, 1);
        for (const mode of ["exact", "fast", "ggml"]) {
          if (mode === "fast" && !lib.supportsFast(format)) continue;
          add(table.project(hidden, { mode }));
          const top = table.topk(hidden, 4, { mode });
          add(top.ids);
          add(top.scores);
        }
      }
      table.dispose();
    }
    lines.push(`${format.padEnd(6)} ${h.digest("hex").slice(0, 16)}`);
  }
  console.log(`${relaxedSimd ? "relaxed" : "baseline"} (${rt.relaxedSimd ? "relaxed build" : "baseline build"}):\n  ${lines.join("\n  ")}`);
  rt.dispose();
}

// npm run bench: every bench/<topic>.mjs in its own process (big tables, clean heaps), one after another,
// collected into BENCHMARKS.md with the machine line. `node bench/run.mjs lookup rope` re-runs a subset and
// keeps the other topics' sections as they were (each section says when and where it ran).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { machineLine } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const outPath = join(here, "..", "BENCHMARKS.md");
const ALL = ["lookup", "decode", "quantize", "rope", "project", "f32-stream", "ggml", "defaults", "engines", "fast", "bonsai2", "io", "pool", "threads", "threads-crossover"];
const topics = process.argv.length > 2 ? process.argv.slice(2) : ALL;

// sections already in BENCHMARKS.md, by topic
const previous = new Map();
if (existsSync(outPath)) {
  const parts = readFileSync(outPath, "utf8").split(/<!-- bench:([\w-]+) -->\n/);
  for (let i = 1; i + 1 < parts.length; i += 2) previous.set(parts[i], parts[i + 1].trim());
}

for (const topic of topics) {
  const file = join(here, `${topic}.mjs`);
  if (!existsSync(file)) continue;
  console.error(`bench: ${topic} ...`);
  const t = performance.now();
  // Node 20 has relaxed SIMD behind a flag: the projection benches measure both wasm builds
  const relaxed = (topic === "fast" || topic === "project" || topic === "f32-stream" || topic === "ggml" || topic === "defaults") && process.versions.node.startsWith("20.") ? ["--experimental-wasm-relaxed-simd"] : [];
  const output = execFileSync(process.execPath, ["--max-old-space-size=16384", ...relaxed, file], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 26,
  });
  // each bench prints its machine line first, then markdown
  const [machine, ...rest] = output.split("\n");
  previous.set(topic, `${rest.join("\n").trim()}\n\n_Run: ${machine}._`);
  console.error(`bench: ${topic} done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}

const doc = [
  "# Benchmarks",
  "",
  `Machine: ${machineLine()}. Single thread everywhere (peers are set to one thread) except the threads sections (issue 15).`,
  "The machine is shared and noisy: every number is a median of repeated runs, and comparisons are made in the same run.",
  "Regenerate with `npm run bench` (all) or `node bench/run.mjs lookup decode` (a subset; other sections are kept).",
  "",
  ...ALL.filter((t) => previous.has(t)).flatMap((t) => [`<!-- bench:${t} -->`, previous.get(t), ""]),
].join("\n");
writeFileSync(outPath, doc);
console.log(doc);

// npm run bench: every bench/<topic>.mjs in its own process (big tables, clean heaps), one after another,
// collected into BENCHMARKS.md with the machine line. `node bench/run.mjs lookup rope` runs a subset.
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { machineLine } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const ALL = ["lookup", "decode", "quantize", "rope", "project", "tmac", "io"];
const topics = process.argv.length > 2 ? process.argv.slice(2) : ALL;

const sections = [];
for (const topic of topics) {
  const file = join(here, `${topic}.mjs`);
  if (!existsSync(file)) continue;
  console.error(`bench: ${topic} ...`);
  const t = performance.now();
  const output = execFileSync(process.execPath, ["--max-old-space-size=16384", file], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 26,
  });
  // each bench prints its machine line first, then markdown
  sections.push(output.split("\n").slice(1).join("\n").trim());
  console.error(`bench: ${topic} done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}

const doc = [
  "# Benchmarks",
  "",
  `Machine: ${machineLine()}. Single thread everywhere (bitembed is single-threaded; peers are set to one thread).`,
  "The machine is shared and noisy: every number is a median of repeated runs, and comparisons are made in the same run.",
  "Regenerate with `npm run bench` (all) or `node bench/run.mjs lookup` (a subset, written to BENCHMARKS.md too).",
  "",
  ...sections.flatMap((s) => [s, ""]),
].join("\n");
writeFileSync(join(here, "..", "BENCHMARKS.md"), doc);
console.log(doc);

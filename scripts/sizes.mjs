// Prints the sizes of what bitembed ships and of the example bundles (raw and gzip -9) as a markdown
// table, for README. Run after `npm run build`: `node scripts/sizes.mjs`.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const build = join(root, "build");
if (!existsSync(join(build, "bitembed.wasm"))) {
  console.error("build/bitembed.wasm is missing: run `npm run build` first.");
  process.exit(1);
}

const what = {
  "bitembed.wasm": "the kernels (WebAssembly SIMD)",
  "bitembed.relaxed.wasm": "the same kernels with relaxed SIMD",
  "lib": "the library: chunks every entry imports, so an install holds it once",
  "node.js": "Node entry (reads the wasm file)",
  "deno.js": "Deno entry (reads the wasm file)",
  "bun.js": "Bun entry (Bun.file)",
  "browser.js": "browser entry (fetches the wasm beside it)",
  "worker.js": "Workers entry (imports the wasm module)",
  "inline.js": "inline entry (wasm embedded, base64)",
  "head-shard.js": "`bitembed/head-shard`: the Workers entry + the HeadShard Durable Object",
  "cli.js": "the `bitembed` command",
  "examples/browser/main.js": "browser example, esbuild bundle, minified (+ bitembed.wasm)",
  "examples/cloudflare-worker/worker.js": "worker example, esbuild bundle, minified (+ bitembed.wasm)",
};
const files = ["bitembed.wasm", "bitembed.relaxed.wasm", ...readdirSync(build).filter((f) => f.endsWith(".js")).sort(), "examples/browser/main.js", "examples/cloudflare-worker/worker.js"];

const kB = (n) => (n / 1024).toFixed(1);
const rows = [];
for (const f of files) {
  const path = join(build, f);
  if (!existsSync(path)) continue;
  const bytes = readFileSync(path);
  const gz = gzipSync(bytes, { level: 9 }).length;
  rows.push(`| \`build/${f}\` | ${what[f] ?? (/^lib-/.test(f) ? what.lib : "")} | ${bytes.length} (${kB(bytes.length)} KiB) | ${gz} (${kB(gz)} KiB) |`);
}
const packed = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" }))[0];
rows.push(`| \`npm pack\` | the published package: ${packed.entryCount} files | ${packed.unpackedSize} unpacked (${kB(packed.unpackedSize)} KiB) | ${packed.size} packed (${kB(packed.size)} KiB) |`);
console.log("| file | what | bytes | gzip -9 |");
console.log("|---|---|---:|---:|");
for (const r of rows) console.log(r);

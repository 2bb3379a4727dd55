// Bundles the browser and Cloudflare Worker examples with esbuild the way a user's build would, into
// build/examples/<name>/, with build/bitembed.wasm copied beside each bundle. The runtime test suites
// run these bundles, so what users bundle is what is tested. Run by scripts/build.mjs; also runs alone.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const build = join(root, "build");
const examples = join(root, "examples");

// minified, as a production build would ship it (the tests then also cover what minifying does)
const common = { bundle: true, minify: true, format: "esm", target: "es2022", logLevel: "warning", legalComments: "none" };

// build/worker.js imports "./bitembed.wasm": it stays a separate module that the platform compiles.
const wasmModule = {
  name: "wasm-module",
  setup(b) {
    b.onResolve({ filter: /\.wasm$/ }, () => ({ path: "./bitembed.wasm", external: true }));
  },
};

export async function bundleExamples() {
  const browserDir = join(build, "examples", "browser");
  const workerDir = join(build, "examples", "cloudflare-worker");
  const shardedDir = join(build, "examples", "cloudflare-sharded");
  for (const dir of [browserDir, workerDir, shardedDir]) mkdirSync(dir, { recursive: true });

  await Promise.all([
    // "bitembed" resolves through package.json `exports` (the "browser" condition) to build/browser.js,
    // which fetches new URL("./bitembed.wasm", import.meta.url): esbuild leaves that URL alone.
    esbuild.build({
      ...common,
      entryPoints: [join(examples, "browser", "main.js")],
      outfile: join(browserDir, "main.js"),
      platform: "browser",
    }),
    // The "workerd" condition picks build/worker.js, as wrangler does.
    esbuild.build({
      ...common,
      entryPoints: [join(examples, "cloudflare-worker", "worker.js")],
      outfile: join(workerDir, "worker.js"),
      platform: "neutral",
      conditions: ["workerd", "worker", "browser"],
      plugins: [wasmModule],
    }),
    // the sharded head: bitembed/head-shard imports workerd's "cloudflare:workers"
    esbuild.build({
      ...common,
      entryPoints: [join(examples, "cloudflare-sharded", "front.js")],
      outfile: join(shardedDir, "front.js"),
      platform: "neutral",
      conditions: ["workerd", "worker", "browser"],
      external: ["cloudflare:*"],
      plugins: [wasmModule],
    }),
  ]);

  // the bundle has no bare imports left: drop the import map the unbundled page needs
  const html = readFileSync(join(examples, "browser", "index.html"), "utf8");
  writeFileSync(join(browserDir, "index.html"), html.replace(/\s*<script type="importmap">[\s\S]*?<\/script>/, ""));
  copyFileSync(join(examples, "cloudflare-worker", "config.capnp"), join(workerDir, "config.capnp"));
  copyFileSync(join(examples, "cloudflare-sharded", "config.capnp"), join(shardedDir, "config.capnp"));
  for (const dir of [browserDir, workerDir, shardedDir]) copyFileSync(join(build, "bitembed.wasm"), join(dir, "bitembed.wasm"));
  // the browser entry loads the relaxed-SIMD build where the engine has it (the worker imports the baseline)
  copyFileSync(join(build, "bitembed.relaxed.wasm"), join(browserDir, "bitembed.relaxed.wasm"));
  // and the shared-memory builds, for threads on a cross-origin-isolated page
  for (const f of ["bitembed.shared.wasm", "bitembed.shared.relaxed.wasm"]) copyFileSync(join(build, f), join(browserDir, f));
  return { browserDir, workerDir };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundleExamples();

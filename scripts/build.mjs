// npm run build: wasm (asc, release + debug), one ESM bundle per runtime entry (esbuild), .d.ts (tsc).
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { generateKernelTypes, generateRegistry } from "./gen-registry.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const build = join(root, "build");
const bin = (name) => join(root, "node_modules", ".bin", name);
mkdirSync(build, { recursive: true });

const step = (label, fn) => {
  const t = performance.now();
  fn();
  console.log(`build: ${label} (${Math.round(performance.now() - t)} ms)`);
};
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });

// the assembly side of the format registry (ids and per-format switches), from src/formats/registry.ts
{
  const t = performance.now();
  await generateRegistry(root);
  console.log(`build: format registry (${Math.round(performance.now() - t)} ms)`);
}
step("wasm release", () => run(bin("asc"), ["assembly/index.ts", "--target", "release", "--bindings", "raw"]));
// the typed kernel ABI from asc's declarations of the exports; the bindings' own JS is not used
generateKernelTypes(root, readFileSync(join(build, "bitembed.d.ts"), "utf8"));
rmSync(join(build, "bitembed.d.ts"));
rmSync(join(build, "bitembed.js"));
// the same kernels with relaxed SIMD (loaded where the engine validates it; see src/core/runtime.ts)
// the same kernels with relaxed SIMD (loaded where the engine validates it; see src/core/runtime.ts), and both
// builds on an imported shared memory for threads (src/parallel/): three asc runs at once
{
  const t = performance.now();
  const { execFile } = await import("node:child_process");
  const asc = (target) =>
    new Promise((ok, fail) =>
      execFile(bin("asc"), ["assembly/index.ts", "--target", target], { cwd: root }, (e, out, err) => {
        process.stdout.write(out);
        process.stderr.write(err);
        if (e) fail(e);
        else ok();
      }),
    );
  await Promise.all(["relaxed", "shared", "shared-relaxed"].map(asc));
  console.log(`build: wasm relaxed, shared, shared-relaxed (${Math.round(performance.now() - t)} ms)`);
}
if (process.env.BITEMBED_DEBUG_WASM) step("wasm debug", () => run(bin("asc"), ["assembly/index.ts", "--target", "debug"]));

// One esbuild run over every entry with code splitting: each entry (build/node.js, browser.js, ...) is a few
// lines that import the library from one shared chunk beside it (build/lib-<hash>.js), so an installed
// package holds the library once. Chunks stay in build/, next to the wasm: `new URL("./bitembed.wasm",
// import.meta.url)` resolves the same from any of these files. `./bitembed.wasm` imports stay sibling
// imports (the worker entry's module), except in the inline entry, which embeds the bytes.
const wasm = {
  name: "wasm-and-cli",
  setup(b) {
    // the CLI runs on the node entry as published (build/node.js), so the node entry's code stays in that file
    b.onResolve({ filter: /entries\/node\.js$/ }, (args) =>
      args.importer.endsWith(join("cli", "cli.ts")) ? { path: "./node.js", external: true } : undefined,
    );
    b.onResolve({ filter: /\.wasm$/ }, (args) =>
      args.importer.endsWith(join("entries", "inline.ts"))
        ? { path: join(build, "bitembed.wasm") }
        : { path: "./bitembed.wasm", external: true },
    );
  },
};

await (async () => {
  const t = performance.now();
  for (const f of readdirSync(build)) if (/^lib-.*\.js$/.test(f)) rmSync(join(build, f));
  const entries = Object.fromEntries(["node", "deno", "bun", "browser", "worker", "inline"].map((e) => [e, join(root, "src/entries", `${e}.ts`)]));
  if (existsSync(join(root, "src/cli/cli.ts"))) entries.cli = join(root, "src/cli/cli.ts");
  // bitembed/head-shard: the HeadShard Durable Object; workerd's own "cloudflare:workers" stays an import
  entries["head-shard"] = join(root, "src/entries/head-shard.ts");
  await esbuild.build({
    entryPoints: entries,
    outdir: build,
    bundle: true,
    splitting: true,
    chunkNames: "lib-[hash]",
    format: "esm",
    target: "es2022",
    // neutral: no entry may pull in a runtime's built-ins by accident; `node:` imports stay imports (only the
    // node, deno, bun and cli entries have them)
    platform: "neutral",
    external: ["node:*", "cloudflare:*"],
    loader: { ".wasm": "binary" },
    plugins: [wasm],
    define: { BITEMBED_VERSION: JSON.stringify(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version) },
    logLevel: "warning",
    legalComments: "none",
  });
  mkdirSync(join(build, "types"), { recursive: true });
  copyFileSync(join(root, "src/entries/wasm-export.d.ts"), join(build, "types", "wasm.d.ts"));
  if (entries.cli) {
    const cli = join(build, "cli.js");
    writeFileSync(cli, "#!/usr/bin/env node\n" + readFileSync(cli, "utf8"));
    chmodSync(cli, 0o755);
  }
  console.log(`build: bundles (${Math.round(performance.now() - t)} ms)`);
})();

// the browser and worker examples, bundled as users would; the runtime suites run these bundles
if (existsSync(join(root, "examples/shared/smoke.js"))) {
  const t = performance.now();
  await (await import("./bundle-examples.mjs")).bundleExamples();
  console.log(`build: example bundles (${Math.round(performance.now() - t)} ms)`);
}

if (!process.env.BITEMBED_SKIP_TYPES) step("types", () => run(bin("tsc"), ["-p", "tsconfig.json"]));

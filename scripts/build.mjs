// npm run build: wasm (asc, release + debug), one ESM bundle per runtime entry (esbuild), .d.ts (tsc).
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
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
step("wasm relaxed", () => run(bin("asc"), ["assembly/index.ts", "--target", "relaxed"]));
if (process.env.BITEMBED_DEBUG_WASM) step("wasm debug", () => run(bin("asc"), ["assembly/index.ts", "--target", "debug"]));

// `./bitembed.wasm` stays a sibling import of the bundle: the asset is build/bitembed.wasm.
const wasmExternal = {
  name: "wasm-external",
  setup(b) {
    b.onResolve({ filter: /\.wasm$/ }, () => ({ path: "./bitembed.wasm", external: true }));
  },
};
const wasmInline = {
  name: "wasm-inline",
  setup(b) {
    b.onResolve({ filter: /\.wasm$/ }, () => ({ path: join(build, "bitembed.wasm") }));
  },
};

const common = { bundle: true, format: "esm", target: "es2022", logLevel: "warning", legalComments: "none" };
await (async () => {
  const t = performance.now();
  const entries = ["node", "deno", "bun", "browser", "worker"];
  await Promise.all(
    entries.map((e) =>
      esbuild.build({
        ...common,
        entryPoints: [join(root, "src/entries", `${e}.ts`)],
        outfile: join(build, `${e}.js`),
        platform: e === "node" ? "node" : "neutral",
        plugins: [wasmExternal],
      }),
    ),
  );
  await esbuild.build({
    ...common,
    entryPoints: [join(root, "src/entries/inline.ts")],
    outfile: join(build, "inline.js"),
    platform: "neutral",
    loader: { ".wasm": "binary" },
    plugins: [wasmInline],
  });
  if (existsSync(join(root, "src/cli/cli.ts"))) {
    await esbuild.build({
      ...common,
      entryPoints: [join(root, "src/cli/cli.ts")],
      outfile: join(build, "cli.js"),
      platform: "node",
      banner: { js: "#!/usr/bin/env node" },
      plugins: [wasmExternal],
    });
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

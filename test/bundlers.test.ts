// The packed package in a user's app, bundled by Vite (dev server and build), webpack 5, Rollup and esbuild,
// each with its documented recipe (README: Bundlers), and run in headless Chromium: the default init() must
// find the relaxed-SIMD build (Chromium has relaxed SIMD) and pass the shared smoke checks.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectSmoke, root, serve, type SmokeResult } from "./runtimes/harness.js";
import { scratchWithPackage } from "./helpers/pack.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"];

const scratch = join(root, "build", "bundlers");
const app = join(scratch, "app"); // resolves "bitembed" from scratch/node_modules, the bundlers from the repo's
const dist = (name: string) => join(scratch, `dist-${name}`);
const html = (script: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">${script}</head><body><pre id="result">running...</pre></body></html>`;

let browser: Browser;
const servers: Server[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (\`apt-get install -y chromium\`), as .ci/run does.`);
  scratchWithPackage(scratch);
  mkdirSync(app, { recursive: true });
  cpSync(join(root, "test/fixtures/bundler-app"), app, { recursive: true });
  for (const f of ["smoke.js", "values.js"]) cpSync(join(root, "examples/shared", f), join(app, f));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
});

afterAll(async () => {
  await browser?.close();
  for (const s of servers) await new Promise((r) => s.close(r));
});

/** Open `url`, wait for the smoke result; fail on any page or console error. Also the .wasm URLs fetched. */
async function visit(url: string): Promise<{ result: SmokeResult; wasm: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  const wasm: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("response", (r) => r.url().endsWith(".wasm") && wasm.push(`${r.status()} ${new URL(r.url()).pathname}`));
  try {
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { smokeResult?: unknown }).smokeResult, null, { timeout: 20_000 }).catch((e) => {
      throw new Error(`no smoke result from ${url}: ${e.message}\n${problems.join("\n")}`);
    });
    expect(problems).toEqual([]);
    return { result: await page.evaluate(() => (window as unknown as { smokeResult: SmokeResult }).smokeResult), wasm };
  } finally {
    await page.close();
  }
}

async function serveDist(dir: string, headers?: Record<string, string>): Promise<string> {
  const site = await serve(dir, headers);
  servers.push(site.server);
  return site.origin + "/";
}

const ISOLATION = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

/** The bundle served cross-origin isolated: 2 threads on the shared relaxed build the bundler emitted. */
async function expectThreads(dir: string): Promise<void> {
  const { result, wasm } = await visit(await serveDist(dir, ISOLATION));
  expectSmoke(result);
  expect((result as SmokeResult & { threads?: unknown }).threads).toEqual({ threads: 2, relaxedSimd: true, sameBits: true });
  expect(wasm.filter((w) => /^200 /.test(w))).toHaveLength(2); // the relaxed build, then the shared relaxed one
}

/** The relaxed build was fetched (and only it: the baseline is the fallback) and every check passed. */
function expectRelaxed({ result, wasm }: { result: SmokeResult; wasm: string[] }, servedFrom?: string): void {
  expectSmoke(result);
  expect(result.relaxedSimd).toBe(true);
  expect(wasm).toHaveLength(1);
  if (servedFrom === undefined) {
    expect(wasm[0]).toMatch(/^200 .*bitembed\.relaxed[^/]*\.wasm$/);
  } else {
    // webpack names assets by content hash only: compare the bytes
    expect(wasm[0]).toMatch(/^200 /);
    const file = readFileSync(join(servedFrom, wasm[0].slice(4)));
    expect(file.equals(readFileSync(join(root, "build/bitembed.relaxed.wasm")))).toBe(true);
  }
}

describe("bundlers: the default init() in a bundled app, in Chromium", () => {
  it("Vite dev server (dependency pre-bundling on, no config)", async () => {
    const { createServer } = await import("vite");
    const server = await createServer({ root: app, configFile: false, logLevel: "warn", cacheDir: join(scratch, ".vite"), server: { host: "127.0.0.1", port: 0 } });
    await server.listen();
    try {
      expectRelaxed(await visit(server.resolvedUrls!.local[0]));
    } finally {
      await server.close();
    }
  });

  it("Vite build (no config): the four wasm files emitted as assets (one-thread and shared-memory builds)", async () => {
    const { build } = await import("vite");
    await build({ root: app, configFile: false, logLevel: "warn", build: { outDir: dist("vite"), emptyOutDir: true } });
    const assets = readdirSync(join(dist("vite"), "assets"));
    expect(assets.filter((f) => f.endsWith(".wasm")).map((f) => f.replace(/-[\w-]+\.wasm$/, ".wasm")).sort()).toEqual([
      "bitembed.relaxed.wasm", "bitembed.shared.relaxed.wasm", "bitembed.shared.wasm", "bitembed.wasm",
    ]);
    expectRelaxed(await visit(await serveDist(dist("vite"))));
    await expectThreads(dist("vite"));
  });

  it("webpack 5 (no rules: new URL(..., import.meta.url) becomes an asset)", async () => {
    const { default: webpack } = await import("webpack");
    const stats = await new Promise<import("webpack").Stats>((resolve, reject) =>
      webpack(
        { mode: "production", context: app, entry: "./main.js", output: { path: dist("webpack"), filename: "main.js", clean: true }, performance: { hints: false } },
        (err, s) => (err || !s ? reject(err) : resolve(s)),
      ),
    );
    expect(stats.hasErrors() ? stats.toString("errors-only") : "").toBe("");
    expect(stats.hasWarnings() ? stats.toString("errors-warnings") : "").toBe("");
    writeFileSync(join(dist("webpack"), "index.html"), html('<script src="./main.js" defer></script>'));
    expect(readdirSync(dist("webpack")).filter((f) => f.endsWith(".wasm"))).toHaveLength(4); // with the shared-memory builds
    expectRelaxed(await visit(await serveDist(dist("webpack"))), dist("webpack"));
    await expectThreads(dist("webpack"));
  });

  it("Rollup with @rollup/plugin-node-resolve and @web/rollup-plugin-import-meta-assets", async () => {
    const { rollup } = await import("rollup");
    const { nodeResolve } = await import("@rollup/plugin-node-resolve");
    // @ts-expect-error: the plugin ships no types
    const { importMetaAssets } = await import("@web/rollup-plugin-import-meta-assets");
    rmSync(dist("rollup"), { recursive: true, force: true });
    const warnings: string[] = [];
    const bundle = await rollup({
      input: join(app, "main.js"),
      plugins: [nodeResolve({ browser: true }), importMetaAssets()],
      onwarn: (w) => warnings.push(w.message),
    });
    await bundle.write({ dir: dist("rollup"), format: "es" });
    await bundle.close();
    expect(warnings).toEqual([]);
    writeFileSync(join(dist("rollup"), "index.html"), html('<script type="module" src="./main.js"></script>'));
    expectRelaxed(await visit(await serveDist(dist("rollup"))));
    await expectThreads(dist("rollup"));
  });

  it("esbuild, with the wasm files copied beside the bundle (esbuild copies no assets)", async () => {
    const esbuild = await import("esbuild");
    rmSync(dist("esbuild"), { recursive: true, force: true });
    await esbuild.build({ entryPoints: [join(app, "main.js")], bundle: true, format: "esm", platform: "browser", outdir: dist("esbuild"), logLevel: "warning" });
    for (const f of ["bitembed.wasm", "bitembed.relaxed.wasm"]) cpSync(join(scratch, "node_modules/bitembed/build", f), join(dist("esbuild"), f));
    writeFileSync(join(dist("esbuild"), "index.html"), html('<script type="module" src="./main.js"></script>'));
    expectRelaxed(await visit(await serveDist(dist("esbuild"))));
  });
});

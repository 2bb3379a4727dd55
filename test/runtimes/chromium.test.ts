// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): the esbuild bundle of the
// browser example (build/examples/browser/, wasm copied beside it) and the unbundled example (import map
// to build/browser.js), both served from a loopback http server that sends .wasm as application/wasm.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { built, expectSmoke, root, serve, type SmokeResult } from "./harness.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

describe("runtime: chromium", () => {
  let context: BrowserContext | undefined;
  let profile: string | undefined;
  let site: { server: Server; origin: string; requests: string[] };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (\`apt-get install -y chromium\`), as .ci/run does.`);
    }
    built("build/examples/browser/main.js");
    built("build/browser.js");
    site = await serve(root);
    profile = mkdtempSync(join(tmpdir(), "bitembed-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      timeout: 30_000,
    });
  });

  afterAll(async () => {
    await context?.close().catch(() => {});
    await new Promise((r) => site?.server.close(r));
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  async function smokePage(path: string): Promise<SmokeResult> {
    const page = await context!.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
    try {
      await page.goto(site.origin + path);
      await page.waitForFunction(() => (window as unknown as { smokeResult?: unknown }).smokeResult, null, { timeout: 15_000 }).catch((e) => {
        throw new Error(`no smoke result from ${path} within 15 s: ${e.message}\n${problems.join("\n")}`);
      });
      expect(problems).toEqual([]);
      return await page.evaluate(() => (window as unknown as { smokeResult: SmokeResult }).smokeResult);
    } finally {
      await page.close();
    }
  }

  it("runs the smoke checks from the esbuild bundle, loading the wasm copied beside it", async () => {
    const result = await smokePage("/build/examples/browser/index.html");
    expect(result.runtime).toMatch(/Chrome\/\d+/);
    expectSmoke(result);
    // Chromium has relaxed SIMD: the bundle's `new URL("./bitembed.relaxed.wasm", import.meta.url)` found the
    // copy beside it
    expect(result.relaxedSimd).toBe(true);
    expect(site.requests).toContain("/build/examples/browser/bitembed.relaxed.wasm");
  });

  it("runs the smoke checks unbundled, with an import map to build/browser.js", async () => {
    const result = await smokePage("/examples/browser/index.html");
    expectSmoke(result);
    expect(site.requests).toContain("/build/browser.js");
    expect(site.requests).toContain("/build/bitembed.relaxed.wasm");
  });
});

// Threads in headless Chromium: a test build of the browser entry (threadsBuild: the shared-memory builds
// beside it, found by its `new URL("./bitembed.shared*.wasm", import.meta.url)`) on a page served with
// `Cross-Origin-Opener-Policy: same-origin` + `Cross-Origin-Embedder-Policy: require-corp` (cross-origin
// isolated: SharedArrayBuffer, Web Workers from a blob URL on one shared memory), and the same page served
// without them (not isolated: one thread, one warning naming the headers). Both run the shared threads checks
// (examples/shared/threads.js): every format's *Async calls against the one-thread calls, bit for bit, on a
// 300 x 320 table with MIN_PARALLEL_WORK at 0 so every call goes to the workers.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectThreaded, failedChecks, serve, threadsBuild, type ThreadsResult } from "./harness.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const ISOLATION = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module">import * as lib from "./bitembed-test.js"; window.lib = lib; window.ready = true;</script>
</head><body></body></html>`;

describe("runtime: chromium, threads", () => {
  let context: BrowserContext | undefined;
  let profile: string | undefined;
  let isolated: { server: Server; origin: string; requests: string[] };
  let plain: { server: Server; origin: string; requests: string[] };
  let noRelaxed: { server: Server; origin: string; requests: string[] };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (\`apt-get install -y chromium\`), as .ci/run does.`);
    }
    const dir = await threadsBuild("browser");
    writeFileSync(join(dir, "index.html"), PAGE);
    isolated = await serve(dir, ISOLATION);
    plain = await serve(dir);
    noRelaxed = await serve(dir, ISOLATION, ["/bitembed.shared.relaxed.wasm"]);
    profile = mkdtempSync(join(tmpdir(), "bitembed-chromium-threads-"));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
  });

  afterAll(async () => {
    await context?.close().catch(() => {});
    for (const site of [isolated, plain, noRelaxed]) if (site) await new Promise((r) => site.server.close(r));
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** A fresh page at `origin` with the test build loaded; `problems` collects page errors, `warnings` console warnings. */
  async function open(origin: string): Promise<{ page: Page; problems: string[]; warnings: string[] }> {
    const page = await context!.newPage();
    const problems: string[] = [];
    const warnings: string[] = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
      if (m.type() === "warning") warnings.push(m.text());
    });
    await page.goto(origin + "/index.html");
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready, null, { timeout: 15_000 }).catch((e) => {
      throw new Error(`the test build did not load: ${e.message}\n${problems.join("\n")}`);
    });
    return { page, problems, warnings };
  }

  function runChecks(page: Page, threads: number): Promise<ThreadsResult> {
    return page.evaluate(async (threads) => {
      const lib = (window as unknown as { lib: Record<string, (...a: unknown[]) => unknown> }).lib;
      lib.setMinParallelWork(0);
      return (await lib.threadsCheck(lib, { threads })) as ThreadsResult;
    }, threads);
  }

  for (const threads of [2, 4]) {
    it(`a cross-origin-isolated page: ${threads} threads, every format's *Async calls bit for bit as one thread`, async () => {
      const { page, problems, warnings } = await open(isolated.origin);
      try {
        expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
        const r = await runChecks(page, threads);
        expectThreaded(r, threads);
        expect(r.checks.length).toBeGreaterThan(20); // init + one per format
        expect(warnings).toEqual([]);
        expect(problems).toEqual([]);
        // Chromium has relaxed SIMD: the shared relaxed build, fetched from beside the test build
        expect(isolated.requests).toContain("/bitembed.shared.relaxed.wasm");
      } finally {
        await page.close();
      }
    }, 120_000);
  }

  it("rt.dispose() ends every Web Worker; a page closed with workers running does not hang", async () => {
    const { page, problems } = await open(isolated.origin);
    try {
      expect(page.workers()).toHaveLength(0);
      const threads = await page.evaluate(async () => {
        const w = window as unknown as { lib: { init: (s: undefined, o: object) => Promise<{ threads: number }> }; rt: unknown };
        const rt = await w.lib.init(undefined, { threads: 3 });
        w.rt = rt;
        return rt.threads;
      });
      expect(threads).toBe(3);
      expect(page.workers()).toHaveLength(2); // the page's own thread is the third
      await page.evaluate(() => (window as unknown as { rt: { dispose(): void } }).rt.dispose());
      await expect.poll(() => page.workers().length, { timeout: 10_000 }).toBe(0);
      // a runtime left running: closing the page ends its workers
      await page.evaluate(async () => {
        const w = window as unknown as { lib: { init: (s: undefined, o: object) => Promise<unknown> }; rt: unknown };
        w.rt = await w.lib.init(undefined, { threads: 3 });
      });
      expect(page.workers()).toHaveLength(2);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
    expect(page.isClosed()).toBe(true);
  });

  it("the relaxed shared build missing (404): threads on the baseline shared build, one warning naming its URL", async () => {
    const { page, problems, warnings } = await open(noRelaxed.origin);
    try {
      const r = await page.evaluate(async () => {
        type Table = { project(h: Float32Array): Float32Array; projectAsync(h: Float32Array): Promise<Float32Array>; dispose(): void };
        type Rt = { threads: number; relaxedSimd: boolean; tableFromF32(v: Float32Array, o: object): Table; dispose(): void };
        const lib = (window as unknown as { lib: { init(s: undefined, o: object): Promise<Rt> } }).lib;
        const out = [];
        for (let i = 0; i < 2; i++) {
          const rt = await lib.init(undefined, { threads: 2 });
          const values = Float32Array.from({ length: 64 * 32 }, (_, j) => Math.sin(j));
          const t = rt.tableFromF32(values, { vocab: 64, dim: 32, format: "q8_0" });
          const h = values.subarray(5 * 32, 6 * 32);
          const got = await t.projectAsync(h);
          const want = t.project(h);
          out.push({ threads: rt.threads, relaxedSimd: rt.relaxedSimd, same: got.every((x, j) => Object.is(x, want[j])) });
          rt.dispose();
        }
        return out;
      });
      expect(r).toEqual([{ threads: 2, relaxedSimd: false, same: true }, { threads: 2, relaxedSimd: false, same: true }]);
      // the 404 itself shows as the browser's own console error, nothing else does
      expect(problems.filter((p) => !/404/.test(p))).toEqual([]);
      expect(warnings, "one warning for both runtimes").toHaveLength(1);
      expect(warnings[0]).toContain(`${noRelaxed.origin}/bitembed.shared.relaxed.wasm: HTTP 404`);
      expect(warnings[0]).toMatch(/baseline shared-memory build/);
      expect(noRelaxed.requests).toContain("/bitembed.shared.wasm");
    } finally {
      await page.close();
    }
  }, 120_000);

  it("a page without COOP/COEP: threads 2 runs on 1 thread, one warning names the headers, the same bits", async () => {
    const { page, problems, warnings } = await open(plain.origin);
    try {
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      const r = await runChecks(page, 2);
      expect(failedChecks(r)).toEqual([]);
      expect(r.threads).toBe(1);
      expect(r.jobs).toBe(0);
      expect(page.workers()).toHaveLength(0);
      expect(r.warnings).toHaveLength(1);
      expect(warnings).toEqual(r.warnings);
      expect(warnings[0]).toMatch(/`threads` 2 .*1 thread/);
      expect(warnings[0]).toContain("Cross-Origin-Opener-Policy: same-origin");
      expect(warnings[0]).toContain("Cross-Origin-Embedder-Policy: require-corp");
      expect(problems).toEqual([]);
      expect(plain.requests.filter((p) => p.includes(".shared"))).toEqual([]);
    } finally {
      await page.close();
    }
  }, 120_000);
});

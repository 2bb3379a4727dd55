// The explorer (examples/explorer/, served by scripts/explorer.mjs as `npm run explorer` does) in headless
// Chromium: the GloVe demo preloads, "king" finds "queen", switching to q1_0 changes the neighbours and shows
// the table's size, the map draws one point per neighbour. A screenshot is left in build/explorer.png.
// Also its PCA (power iteration) against closed-form cases.
import { existsSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { built, root } from "./runtimes/harness.js";
// @ts-expect-error plain JS modules
import { startExplorer } from "../scripts/explorer.mjs";
// @ts-expect-error plain JS modules
import { pca2 } from "../examples/explorer/pca.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"];

describe("the explorer's PCA", () => {
  it("points on a line: the first component is the line, the second carries nothing", () => {
    const dir = [1, 2, 0, -2].map((x) => x / 3); // unit length
    const ts = [-2, -1, 0, 0.5, 3];
    const rows = Float32Array.from(ts.flatMap((t) => dir.map((x) => 5 + t * x)));
    const coords: number[][] = pca2(rows, ts.length, 4);
    const mean = ts.reduce((a, b) => a + b) / ts.length;
    const sign = Math.sign(coords[0][0] / (ts[0] - mean));
    coords.forEach(([a, b], i) => {
      expect(a * sign).toBeCloseTo(ts[i] - mean, 5);
      expect(Math.abs(b)).toBeLessThan(1e-5);
    });
  });
  it("a 2-D ellipse in 3-D: both axes found, in order of variance", () => {
    const n = 24;
    const rows = Float32Array.from({ length: n * 3 }, (_, k) => {
      const [i, j] = [Math.floor(k / 3), k % 3];
      const a = (2 * Math.PI * i) / n;
      return j === 0 ? 3 * Math.cos(a) : j === 1 ? 0 : Math.sin(a); // x: radius 3, z: radius 1
    });
    const coords: number[][] = pca2(rows, n, 3);
    coords.forEach(([a, b], i) => {
      const t = (2 * Math.PI * i) / n;
      expect(Math.abs(a)).toBeCloseTo(Math.abs(3 * Math.cos(t)), 4);
      expect(Math.abs(b)).toBeCloseTo(Math.abs(Math.sin(t)), 4);
    });
  });
});

describe("the explorer in Chromium", () => {
  let browser: Browser;
  let page: Page;
  let server: Server;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (\`apt-get install -y chromium\`), as .ci/run does.`);
    built("build/browser.js");
    mkdirSync(join(root, "build"), { recursive: true });
    const started = await startExplorer(0);
    server = started.server;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
    await page.goto(started.url);
    await page.waitForSelector('#status[data-ready="true"]', { timeout: 30_000 }).catch(async (e) => {
      throw new Error(`the explorer did not get ready: ${e.message}; status: ${await page.textContent("#status")}\n${problems.join("\n")}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  const neighbours = () => page.$$eval("#neighbours li", (lis) => lis.map((li) => li.firstChild!.textContent));

  it("preloads the GloVe demo: its tensor and the memory per format", async () => {
    expect(await page.textContent("#source-name")).toBe("glove-50k.q8_0.gguf: 50000 tokens x 100, stored as q8_0");
    expect(await page.$$eval("#tensors tbody tr", (trs) => trs.map((tr) => tr.textContent))).toEqual(["token_embd.weightq8_0[128, 50000]6.48 MiB"]);
    const memory = await page.$$eval("#memory tbody tr", (trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent)));
    expect(memory.find((r) => r[0] === "f32")).toEqual(["f32", "32", "19.07 MiB"]); // 50000 x 100 x 4 bytes
    expect(memory.find((r) => r[0] === "q1_0")).toEqual(["q1_0", "1.125", "878.9 KiB"]); // 50000 x 18 bytes
  });

  it('searching "king" shows "queen" among the neighbours; switching to q1_0 changes them and shows the size', async () => {
    await page.fill("#word", "king");
    await page.click("#search-form button");
    const q8 = await neighbours();
    expect(q8).toHaveLength(10);
    expect(q8).toContain("queen");
    await page.selectOption("#format", "q1_0");
    await page.waitForFunction(() => document.querySelector("#table-size")?.textContent?.startsWith("q1_0"));
    expect(await page.getAttribute("#table-size", "data-bytes")).toBe(String(50000 * 18));
    expect(await page.textContent("#table-size")).toMatch(/^q1_0: 878\.9 KiB in wasm memory, quantized in \d+ ms$/);
    const q1 = await neighbours();
    expect(q1).toHaveLength(10);
    expect(q1).not.toEqual(q8);
    expect(await page.textContent("#quality")).toMatch(/mean cosine 0\.\d+; nearest 10 of 50000 in [\d.]+ ms, \d+ of 10 as in f32/);
    await page.screenshot({ path: join(root, "build", "explorer-q1_0.png"), fullPage: true });
  });

  it("the map draws one point per neighbour, and the word itself", async () => {
    expect(await page.$$eval("#map circle.neighbour", (c) => c.length)).toBe((await neighbours()).length);
    expect(await page.$$eval("#map circle.query", (c) => c.length)).toBe(1);
    const labels = await page.$$eval("#map text", (t) => t.map((x) => x.textContent));
    expect(labels).toEqual(["king", ...(await neighbours())]);
  });

  it("analogies, and back to f32, with no page errors; screenshots in build/explorer.png (and -q1_0.png)", async () => {
    await page.selectOption("#format", "f32");
    await page.waitForFunction(() => document.querySelector("#table-size")?.textContent?.startsWith("f32"));
    await page.click("#analogy-form button");
    expect(await page.$$eval("#analogy li", (lis) => lis.map((li) => li.textContent!.split(" ")[0]))).toContain("queen");
    await page.screenshot({ path: join(root, "build", "explorer.png"), fullPage: true });
    expect(problems).toEqual([]);
  });
});

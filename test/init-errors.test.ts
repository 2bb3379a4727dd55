// What init() says when loading fails (the source named, what came back, the fix), init() from paths and
// file: URLs, its options checked before anything loads, and rt.dispose() ending every object of that runtime.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instantiate, type Runtime } from "../src/index.js";
import { fetchPackaged, PACKAGED_FIX } from "../src/core/load-wasm.js";

const wasmPath = new URL("../build/bitembed.wasm", import.meta.url).pathname;
const bytes = readFileSync(wasmPath);
const noDefault = () => Promise.reject(new Error("default loader must not be called"));
const works = (rt: Runtime) => rt.tableFromF32(Float32Array.of(1, 2, 3, 4), { vocab: 2, dim: 2, format: "f16" }).lookup([1]).join() === "3,4";

const HTML = "<!doctype html><html><head><title>My app</title></head><body><div id=app></div></body></html>";
let server: Server;
let base = "";
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/spa/bitembed.wasm") res.writeHead(200, { "content-type": "text/html" }).end(HTML);
    else if (req.url === "/missing.wasm") res.writeHead(404, "Not Found", { "content-type": "text/plain" }).end("File not found");
    else if (req.url === "/ok.wasm") res.writeHead(200, { "content-type": "application/wasm" }).end(bytes);
    else if (req.url === "/truncated.wasm") res.writeHead(200, { "content-type": "application/octet-stream" }).end(bytes.subarray(0, 200));
    else res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("init from a path or a file: URL (Node, Deno, Bun)", () => {
  it.each([
    ["an absolute path", () => wasmPath],
    ["a relative path", () => "build/bitembed.wasm"],
    ["a file: URL", () => pathToFileURL(wasmPath)],
    ["a file: URL string", () => pathToFileURL(wasmPath).href],
  ])("from %s", async (_, source) => {
    expect(works(await instantiate(source(), noDefault))).toBe(true);
  });

  it("names the path when the file is missing or a directory", async () => {
    await expect(instantiate("/nonexistent/dir/bitembed.wasm", noDefault)).rejects.toThrow(
      /^Reading the wasm from \/nonexistent\/dir\/bitembed\.wasm failed: ENOENT.*Pass bitembed's own build\/bitembed\.wasm/,
    );
    const dir = mkdtempSync(join(tmpdir(), "bitembed-init-"));
    await expect(instantiate(dir, noDefault)).rejects.toThrow(new RegExp(`Reading the wasm from ${dir} failed: EISDIR`));
  });
});

describe("loading failures name the source, what came back and the fix", () => {
  it("an HTTP error: URL, status and content type", async () => {
    await expect(instantiate(`${base}/missing.wasm`, noDefault)).rejects.toThrow(
      `Fetching the wasm from ${base}/missing.wasm failed: HTTP 404 Not Found (content-type text/plain).`,
    );
  });

  it("an SPA's index.html served for the wasm: says it is HTML", async () => {
    await expect(instantiate(`${base}/spa/bitembed.wasm`, noDefault)).rejects.toThrow(
      `The wasm from ${base}/spa/bitembed.wasm is not WebAssembly: it starts with 3c 21 64 6f 63 74 79 70 ("<!doctyp"): this is HTML (content-type text/html).`,
    );
  });

  it("bytes that are not wasm, empty bytes, a truncated module", async () => {
    await expect(instantiate(Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5), noDefault)).rejects.toThrow(
      "it starts with 1f 8b 08 00 01 02 03 04: this is gzip-compressed.",
    );
    await expect(instantiate(new Uint8Array(0), noDefault)).rejects.toThrow("The wasm from `init(source)` is not WebAssembly: it is empty.");
    await expect(instantiate(`${base}/truncated.wasm`, noDefault)).rejects.toThrow(
      new RegExp(`^Compiling the wasm from ${base}/truncated\\.wasm failed: .+Pass bitembed's own`),
    );
  });

  it("a server that is not there: the URL and the network error", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/bitembed.wasm`;
    await new Promise((r) => closed.close(r));
    await expect(instantiate(url, noDefault)).rejects.toThrow(`Fetching the wasm from ${url} failed: fetch failed.`);
  });

  it("the packaged wasm missing beside a bundle: the URL, and how to make the bundler emit it", async () => {
    const missing = () => fetchPackaged(() => new URL("./bitembed.wasm", `${base}/assets/index-abc123.js`), "unused");
    const err = await instantiate(undefined, missing, { relaxedSimd: false }).catch((e: Error) => e);
    expect((err as Error).message).toBe(`Fetching the wasm from ${base}/assets/bitembed.wasm failed: HTTP 500 Internal Server Error. ${PACKAGED_FIX}`);
    expect(PACKAGED_FIX).toMatch(/Vite and webpack 5 emit it.*Rollup with @web\/rollup-plugin-import-meta-assets.*esbuild copy.*bitembed\/inline/);
  });

  it("an import.meta.url that is not a URL (a Workers bundle built without the workerd condition)", async () => {
    await expect(fetchPackaged(() => new URL("./bitembed.wasm", "worker.js"), "worker.js")).rejects.toThrow(
      /^bitembed cannot locate its wasm: import\.meta\.url is "worker\.js" \(.*\)\. .*"workerd" for Cloudflare Workers.*`init\(wasmModule\)`/,
    );
  });

  it("the runtime stays usable after a failed init", async () => {
    await expect(instantiate(`${base}/spa/bitembed.wasm`, noDefault)).rejects.toThrow();
    expect(works(await instantiate(`${base}/ok.wasm`, noDefault))).toBe(true);
  });
});

describe("init options are checked before anything loads", () => {
  const load = () => Promise.resolve(new Uint8Array(bytes));
  it.each([
    [{ maxMemory: 2 ** 40 }, "`maxMemory` is 1099511627776; expected a whole number of bytes, at most 4294967296 (4 GiB, the wasm32 limit)."],
    [{ maxMemory: 1e6 + 0.5 }, "`maxMemory` is 1000000.5; expected a whole number"],
    [{ maxMemory: "128M" }, '`maxMemory` is "128M"; expected'],
    [{ maxMemory: -1 }, "`maxMemory` is -1; expected"],
    [{ maxMemory: 0 }, "`maxMemory` is 0; expected"],
    [{ relaxedSimd: "yes" }, '`relaxedSimd` is "yes"; expected true or false.'],
    [{ maxMemmory: 2 ** 27 }, "Unknown option `maxMemmory` passed to `init`. Expected one of: maxMemory, relaxedSimd, threads."],
    [{ threads: 0 }, '`threads` is 0; expected an integer from 1 to 256, or "auto".'],
    [{ threads: "all" }, '`threads` is "all"; expected'],
  ])("refuses %o before loading anything", async (options, message) => {
    let loaded = false;
    const err = await instantiate(undefined, () => ((loaded = true), load()), options as never).catch((e: Error) => e);
    expect((err as Error).message).toContain(message);
    expect(loaded).toBe(false);
  });

  it("refuses a maxMemory that leaves nothing to allocate, naming where the module's data ends", async () => {
    const heapBase = (await instantiate(undefined, load)).kernels.heap_base();
    expect(heapBase).toBeGreaterThan(1000);
    await expect(instantiate(undefined, load, { maxMemory: 1000 })).rejects.toThrow(
      `\`maxMemory\` is 1000; expected more than ${heapBase} bytes, where this module's own data ends.`,
    );
  });

  it("accepts the bounds", async () => {
    expect((await instantiate(undefined, load, { maxMemory: 2 ** 32 })).memory.maxBytes).toBe(2 ** 32);
    const heapBase = (await instantiate(undefined, load)).kernels.heap_base();
    const small = await instantiate(undefined, load, { maxMemory: heapBase + 4096, relaxedSimd: false });
    expect(small.tableFromF32(new Float32Array(64), { vocab: 8, dim: 8, format: "f32" }).lookup([7]).length).toBe(8);
    expect(() => small.tableFromF32(new Float32Array(2048), { vocab: 8, dim: 256, format: "f32" })).toThrow(/Out of wasm memory/);
  });
});

describe("rt.dispose() ends every table, buffer and rope of that runtime", () => {
  it("every later call throws, dispose() of its objects stays a no-op, and other runtimes go on", async () => {
    const rt = await instantiate(new Uint8Array(bytes), noDefault);
    const other = await instantiate(new Uint8Array(bytes), noDefault);
    const values = Float32Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i));
    const t = rt.tableFromF32(values, { vocab: 64, dim: 32, format: "q8_0" });
    const buf = rt.f32Buffer(32);
    const rope = rt.rope({ headDim: 32, pairing: "neox" });
    const o = other.tableFromF32(values, { vocab: 64, dim: 32, format: "q8_0" });
    const hidden = values.subarray(0, 32);
    rt.dispose();
    const gone = /runtime this belongs to was disposed/;
    expect(() => t.lookup([1])).toThrow(gone);
    expect(() => t.project(hidden)).toThrow(gone);
    expect(() => t.topk(hidden, 3)).toThrow(gone);
    expect(() => t.nearest(hidden, 3)).toThrow(gone);
    expect(() => t.bytes()).toThrow(gone);
    expect(() => t.stats(values)).toThrow(gone);
    expect(() => buf.view()).toThrow(gone);
    expect(() => t.lookup([1], buf)).toThrow(gone);
    expect(() => rope.apply(new Float32Array(32), [0], 1)).toThrow(gone);
    expect(() => rt.tableFromF32(values, { vocab: 64, dim: 32, format: "f32" })).toThrow(/This runtime was disposed/);
    expect(() => (t.dispose(), buf.dispose(), rope.dispose(), t.dispose())).not.toThrow();
    expect(Array.from(o.lookup([5]))).toEqual(Array.from(other.tableFromF32(values, { vocab: 64, dim: 32, format: "q8_0" }).lookup([5])));
  });
});

// init/instantiate accepts every way a runtime hands over wasm, checks SIMD first, and refuses the rest.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { instantiate, type Runtime } from "../src/index.js";
import { RELAXED_FLAGS } from "./helpers/node-flags.js";

const bytes = readFileSync(new URL("../build/bitembed.wasm", import.meta.url));
const noDefault = () => Promise.reject(new Error("default loader must not be called"));

// a runtime works if it can build a table and look a row up
function works(rt: Runtime): boolean {
  using t = rt.tableFromF32(Float32Array.from([1, 2, 3, 4]), { vocab: 2, dim: 2, format: "bf16" });
  return t.lookup([1]).join() === "3,4";
}

afterEach(() => vi.restoreAllMocks());

describe("instantiate", () => {
  it.each([
    ["a WebAssembly.Module", () => new WebAssembly.Module(bytes)],
    ["a Uint8Array", () => new Uint8Array(bytes)],
    ["an ArrayBuffer", () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)],
    ["a Response (not application/wasm)", () => new Response(bytes)],
    ["a Response (application/wasm, streamed)", () => new Response(bytes, { headers: { "content-type": "application/wasm" } })],
    ["a promise of bytes", () => Promise.resolve(new Uint8Array(bytes))],
  ])("from %s", async (_, source) => {
    expect(works(await instantiate(source() as never, noDefault))).toBe(true);
  });

  it("from a URL and a URL string (fetched)", async () => {
    const server = createServer((_, res) => {
      res.writeHead(200, { "content-type": "application/wasm" });
      res.end(bytes);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bitembed.wasm`;
    try {
      expect(works(await instantiate(url, noDefault))).toBe(true);
      expect(works(await instantiate(new URL(url), noDefault))).toBe(true);
    } finally {
      server.close();
    }
  });

  it("with no source, uses the default loader", async () => {
    const loader = vi.fn(async () => new Uint8Array(bytes));
    expect(works(await instantiate(undefined, loader))).toBe(true);
    expect(loader).toHaveBeenCalledOnce();
  });

  it("refuses other sources by name, and a failed fetch by status", async () => {
    await expect(instantiate(42 as never, noDefault)).rejects.toThrow("`init(source)` takes a WebAssembly.Module");
    await expect(instantiate(new Response("nope", { status: 404 }), noDefault)).rejects.toThrow("HTTP 404");
  });

  it("fails with a message naming SIMD when the runtime lacks it", async () => {
    vi.spyOn(WebAssembly, "validate").mockReturnValue(false);
    await expect(instantiate(new Uint8Array(bytes), noDefault)).rejects.toThrow("needs WebAssembly SIMD");
  });

  it("refuses a maxMemory that is not a positive number", async () => {
    await expect(instantiate(new Uint8Array(bytes), noDefault, { maxMemory: -1 })).rejects.toThrow("`maxMemory`");
  });

  it("the packaged Node entry loads its wasm with no argument", async () => {
    const { init } = await import("../build/node.js" as string);
    expect(works(await init())).toBe(true);
  });
});

describe("the relaxed-SIMD build", () => {
  it("is loaded where the engine validates it, not when opted out, with the baseline as fallback", async () => {
    const { execFileSync } = await import("node:child_process");
    const script = new URL("./scripts/relaxed-fallback.mjs", import.meta.url).pathname;
    const run = (flags: string[]) => JSON.parse(execFileSync(process.execPath, [...flags, script], { encoding: "utf8" }));
    const on = run(RELAXED_FLAGS);
    expect(on.hasRelaxedSimd).toBe(true);
    expect(on.auto).toEqual({ relaxedSimd: true, asked: [true], works: true });
    expect(on.optedOut).toEqual({ relaxedSimd: false, asked: [false], works: true });
    expect(on.throws).toEqual({ relaxedSimd: false, asked: [true, false], works: true });
    expect(on.notFound).toEqual({ relaxedSimd: false, asked: [true, false], works: true });
    // an engine without it (Node 20 without the flag) never asks for the relaxed asset
    if (RELAXED_FLAGS.length > 0) {
      const off = run([]);
      expect(off.hasRelaxedSimd).toBe(false);
      expect(off.auto).toEqual({ relaxedSimd: false, asked: [false], works: true });
    }
  });
});

describe("the relaxed-SIMD shared-memory build (threads)", () => {
  it("falls back to the baseline shared build when it cannot be loaded, with one warning naming it", async () => {
    const { execFileSync } = await import("node:child_process");
    const script = new URL("./scripts/shared-relaxed-fallback.mjs", import.meta.url).pathname;
    const out = JSON.parse(execFileSync(process.execPath, [...RELAXED_FLAGS, script], { encoding: "utf8", timeout: 60_000 }));
    const named = {
      notFound: [`${out.origin}/bitembed.shared.relaxed.wasm`, "HTTP 404"],
      notCompiling: ["bitembed.shared.relaxed.wasm", "Compiling"],
      unreadable: ["/pkg/build/bitembed.shared.relaxed.wasm", "ENOENT"],
    };
    for (const [name, words] of Object.entries(named)) {
      const { first, again } = out[name];
      for (const round of [first, again]) {
        expect(round.threads, name).toBe(2);
        expect(round.relaxedSimd, name).toBe(false);
        expect(round.asked, name).toEqual(["bitembed.shared.relaxed.wasm", "bitembed.shared.wasm"]);
        expect(round.same, `${name}: projectAsync on the workers = project`).toBe(true);
      }
      expect(first.warnings, name).toHaveLength(1);
      for (const w of words) expect(first.warnings[0], name).toContain(w);
      expect(first.warnings[0], name).toMatch(/baseline shared-memory build/);
      expect(again.warnings, `${name}: the same failure warns once per process`).toEqual([]);
    }
  });
});

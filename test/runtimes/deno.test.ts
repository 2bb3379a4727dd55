// Deno: `deno run` on the example resolves "bitembed" through the `deno` condition to build/deno.js,
// which needs read permission for the packaged wasm only; the inline entry needs no permission at all.
// Threads: examples/deno/threads.js on build/deno.js (node:worker_threads workers on the shared-memory
// build), and a test build with every call on the workers (threadsBuild) for the sweep over every format.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { built, expectSmoke, expectThreaded, parseResult, root, run, threadsBuild, tool, type ThreadsResult } from "./harness.js";

const flags = ["run", "--no-prompt", "--no-lock", "--quiet"];

describe("runtime: deno", () => {
  it("runs the smoke checks on build/deno.js with read access to build/ only", async () => {
    const deno = tool("deno");
    built("build/deno.js");
    const args = [...flags, `--allow-read=${join(root, "build")}`, "examples/deno/smoke.js"];
    const result = parseResult(await run(deno, args));
    expect(result.entry).toMatch(/\/build\/deno\.js$/);
    expect(result.runtime).toMatch(/^deno 2\./);
    expect(result.relaxedSimd).toBe(true); // Deno's V8 has relaxed SIMD: the relaxed build beside deno.js
    expectSmoke(result);
  });

  it("runs the smoke checks on bitembed/inline with no permissions", async () => {
    const deno = tool("deno");
    built("build/inline.js");
    const result = parseResult(await run(deno, [...flags, "examples/deno/inline.js"]));
    expect(result.entry).toMatch(/\/build\/inline\.js$/);
    expect(result.relaxedSimd).toBe(false); // the inline entry embeds the baseline build only
    expectSmoke(result);
  });

  it("threads: build/deno.js runs 2 threads (the caller and a worker) bit for bit as one thread; dispose ends them, idle ones let Deno exit", async () => {
    const deno = tool("deno");
    built("build/bitembed.shared.relaxed.wasm");
    const args = [...flags, `--allow-read=${join(root, "build")}`, "examples/deno/threads.js"];
    const out = await run(deno, args, { timeoutMs: 120_000 });
    const r = JSON.parse(out.stdout.trim().split("\n").pop()!) as ThreadsResult & Record<string, unknown>;
    expect(r.entry).toMatch(/\/build\/deno\.js$/);
    expectThreaded(r, 2);
    expect(r.checks.map((c) => c.name)).toEqual(["init with threads 2", ...["f32", "q8_0", "q1_0", "q6_k"].map((f) => `${f}: the *Async calls give the one-thread results`)]);
    // a job under way when the runtime was disposed: its workers were ref'd, so the exit below needs them ended
    expect(r.disposedMidJob).toMatch(/^rejected: .*(terminated|disposed)/);
    expect([r.idleThreads, r.idleTop]).toEqual([2, 0]);
    expect(out.code).toBe(0); // and it exited by itself, the idle runtime never disposed
  }, 150_000);

  it("threads: every format on 2 and 4 threads, every call on the workers, bit for bit; no worker left after dispose", async () => {
    const deno = tool("deno");
    const dir = await threadsBuild("deno");
    const out = await run(deno, [...flags, `--allow-read=${dir}`, join(dir, "sweep.js")], { timeoutMs: 240_000 });
    const line = out.stdout.trim().split("\n").pop()!;
    expect(out.code, out.stderr).toBe(0);
    const { results, liveAfterDispose } = JSON.parse(line) as { results: ThreadsResult[]; liveAfterDispose: number };
    expectThreaded(results[0], 2);
    expectThreaded(results[1], 4);
    expect(results[0].checks.length).toBeGreaterThan(20);
    expect(liveAfterDispose).toBe(0);
  }, 300_000);
});

// Bun: the example resolves "bitembed" through the `bun` condition to build/bun.js (Bun.file reads the wasm).
// Threads: examples/bun/threads.js on build/bun.js (node:worker_threads workers on the shared-memory build:
// Bun 1.4's workers see each other's wasm writes to a shared memory), and a test build with every call on the
// workers (threadsBuild) for the sweep over every format.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { built, expectSmoke, expectThreaded, parseResult, run, threadsBuild, tool, type ThreadsResult } from "./harness.js";

describe("runtime: bun", () => {
  it("runs the smoke checks on build/bun.js via the `bun` condition", async () => {
    const bun = tool("bun");
    built("build/bun.js");
    const result = parseResult(await run(bun, ["examples/bun/smoke.js"]));
    expect(result.entry).toMatch(/\/build\/bun\.js$/);
    expect(result.runtime).toMatch(/^bun 1\./);
    expect(result.relaxedSimd).toBe(true);
    expectSmoke(result);
  });

  it("threads: build/bun.js runs 2 threads (the caller and a worker) bit for bit as one thread; dispose ends them, idle ones let Bun exit", async () => {
    const bun = tool("bun");
    built("build/bitembed.shared.relaxed.wasm");
    const out = await run(bun, ["examples/bun/threads.js"], { timeoutMs: 120_000 });
    const r = JSON.parse(out.stdout.trim().split("\n").pop()!) as ThreadsResult & Record<string, unknown>;
    expect(r.entry).toMatch(/\/build\/bun\.js$/);
    expectThreaded(r, 2);
    expect(r.checks.map((c) => c.name)).toEqual(["init with threads 2", ...["f32", "q8_0", "q1_0", "q6_k"].map((f) => `${f}: the *Async calls give the one-thread results`)]);
    // a job under way when the runtime was disposed: its workers were ref'd, so the exit below needs them ended
    expect(r.disposedMidJob).toMatch(/^rejected: .*(terminated|disposed)/);
    expect([r.idleThreads, r.idleTop]).toEqual([2, 0]);
    expect(out.code).toBe(0); // and it exited by itself, the idle runtime never disposed
  }, 150_000);

  it("threads: every format on 2 and 4 threads, every call on the workers, bit for bit; no worker left after dispose", async () => {
    const bun = tool("bun");
    const dir = await threadsBuild("bun");
    const out = await run(bun, [join(dir, "sweep.js")], { timeoutMs: 240_000 });
    expect(out.code, out.stderr).toBe(0);
    const { results, liveAfterDispose } = JSON.parse(out.stdout.trim().split("\n").pop()!) as { results: ThreadsResult[]; liveAfterDispose: number };
    expectThreaded(results[0], 2);
    expectThreaded(results[1], 4);
    expect(results[0].checks.length).toBeGreaterThan(20);
    expect(liveAfterDispose).toBe(0);
  }, 300_000);
});

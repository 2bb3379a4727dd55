// workerd (Cloudflare's runtime): the esbuild bundle of the worker example with bitembed.wasm as a separate
// CompiledWasm module (build/examples/cloudflare-worker/config.capnp), served on a free loopback port and
// queried with fetch. Also: maxMemory is enforced (local workerd does not apply the 128 MB cap itself), and
// threads: a Worker cannot start workers, so `threads: 2` runs on one thread, says why once, and the *Async
// calls work there (the shared threads checks, examples/shared/threads.js).
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { built, children, expectSmoke, failedChecks, freePort, tool, type SmokeResult, type ThreadsResult } from "./harness.js";

const MiB = 2 ** 20;

describe("runtime: workerd", () => {
  const procs = children();
  let origin = "";
  let worker: ChildProcess;
  let log = "";

  beforeAll(async () => {
    const workerd = tool("workerd");
    const config = built("build/examples/cloudflare-worker/config.capnp");
    built("build/examples/cloudflare-worker/worker.js");
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    worker = procs.add(
      spawn(workerd, ["serve", config, `--socket-addr=http=127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] }),
    );
    worker.stdout!.on("data", (d) => (log += d));
    worker.stderr!.on("data", (d) => (log += d));
    // ready when it answers; fail early with its output if it exits or stays silent
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (worker.exitCode !== null) throw new Error(`workerd exited with code ${worker.exitCode}:\n${log}`);
      try {
        await fetch(origin + "/", { signal: AbortSignal.timeout(1000) });
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`workerd did not answer on ${origin} within 15 s:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });

  afterAll(() => procs.killAll());

  async function get(path: string, timeoutMs = 20_000): Promise<unknown> {
    const res = await fetch(origin + path, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}\n${body}\nworkerd log:\n${log}`);
    return JSON.parse(body);
  }

  it("runs the smoke checks in the bundled worker (wasm imported as a module)", async () => {
    const result = (await get("/smoke")) as SmokeResult;
    expect(result.runtime).toBe("workerd");
    expect(result.relaxedSimd).toBe(false); // the worker entry imports the baseline module
    expectSmoke(result);
  });

  it("threads 2: rt.threads is 1, one warning says why, the *Async calls give the synchronous results for every format", async () => {
    const r = (await get("/threads", 60_000)) as ThreadsResult;
    expect(failedChecks(r)).toEqual([]);
    expect(r.checks.length).toBeGreaterThan(20); // init + one per format
    expect(r.threads).toBe(1);
    expect(r.jobs).toBe(0);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/`threads` 2 .*1 thread: this runtime cannot start workers \(Cloudflare Workers/);
    expect(log).toContain(r.warnings[0]); // and it reached the console
  }, 60_000);

  it("enforces maxMemory: 128 MiB fills with 7 tables of 16 MiB, then a RangeError names bytes and limit", async () => {
    const r = (await get(`/oom?max=${128 * MiB}`)) as Record<string, unknown>;
    expect(r.isRangeError).toBe(true);
    expect(r.tables).toBe(7);
    expect(r.message).toContain(`asked for ${16 * MiB} bytes`);
    expect(r.message).toContain(`\`maxMemory\` is ${128 * MiB} bytes`);
    expect(r.peakMemoryBytes as number).toBeLessThanOrEqual(128 * MiB);
    expect(r.usableAfter).toBe(true);
    const held = r.bytesInUse as { start: number; end: number };
    expect(held.end).toBe(held.start);
    // and the worker still answers
    expectSmoke((await get("/smoke")) as SmokeResult);
  });

  it.each([1, 0])("builds a 151936 x 4096 q1_0 LM head under 128 MiB and ranks a planted row first (checked in float64), stream=%i", async (stream) => {
    const vocab = 151936;
    const dim = 4096;
    const planted = 98765;
    const t = Date.now();
    const r = (await get(`/head?vocab=${vocab}&dim=${dim}&planted=${planted}&max=${128 * MiB}&stream=${stream}`, 60_000)) as {
      ok: boolean;
      failures: string[];
      wasmBytes: number;
      headBytes: number;
      packedBytes: number;
      topIds: number[];
      errOverBound: number;
      ms: Record<string, number>;
    };
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.packedBytes).toBe(vocab * (dim / 128) * 18);
    expect(r.headBytes).toBe((vocab / 16) * (dim / 128) * 288); // the size of the packed table
    expect(r.wasmBytes).toBeLessThanOrEqual(128 * MiB);
    // a temporary packed copy beside the tiled one would not fit
    expect(r.packedBytes + r.headBytes).toBeGreaterThan(128 * MiB);
    expect(r.topIds).toHaveLength(5);
    expect(r.topIds[0]).toBe(planted);
    console.log(`workerd 1-bit head, stream=${stream}: ${JSON.stringify({ wasmBytes: r.wasmBytes, errOverBound: r.errOverBound, ms: r.ms, requestMs: Date.now() - t })}`);
  }, 60_000);
});

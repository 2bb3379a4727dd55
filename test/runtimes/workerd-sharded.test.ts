// workerd: the sharded head example (build/examples/cloudflare-sharded/front.js) with 3 HeadShard Durable
// Objects, each holding a third of a q1_0 head under maxMemory 128 MiB and reading only its rows of the GGUF
// file, served by a disk service. The front worker's top-10, probabilities, log-sum-exp, samples and lookups
// are checked against one table of the whole head in this process (readGGUF(...).loadTable: topk in the
// default mode, project for the float64 log-sum-exp and the Gumbel-max keys).
// Size: the Gemma-class 262144 x 5376 (198 MB; ~25 s on 2 cores, ~1 GB of memory in all);
// BITEMBED_SHARDED=small gives 65536 x 2048 (~9 s).
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gumbelNoise, readGGUF, writeGGUF, type EmbeddingTable, type Runtime } from "../../src/index.js";
import { newRuntime } from "../helpers/runtime.js";
import { randomValues } from "../helpers/values.js";
import { built, children, freePort, tool } from "./harness.js";

const MiB = 2 ** 20;
const FULL = process.env.BITEMBED_SHARDED !== "small";
const VOCAB = FULL ? 262144 : 65536;
const DIM = FULL ? 5376 : 2048;
const BLOCKS = Math.ceil(DIM / 128);
const ROW_BYTES = BLOCKS * 18;
// 3 shards, the last ragged
const THIRD = Math.ceil(VOCAB / 3 / 16) * 16;
const RANGES = [[0, THIRD], [THIRD, 2 * THIRD], [2 * THIRD, VOCAB]];

/** q1_0 rows from one xorshift stream: random sign bits, each block's d a random f16 in [0.01, 0.1]. */
function makeHead(): Uint8Array {
  const data = new Uint8Array(VOCAB * ROW_BYTES);
  const words = new Uint32Array(data.buffer, 0, data.byteLength >>> 2);
  let s = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    words[i] = s;
  }
  const lo = 0x211f; // f16 0.01 and 0.1: positive f16 bits order like their values
  const hi = 0x2e66;
  for (let b = 0; b < VOCAB * BLOCKS; b++) {
    const at = b * 18;
    const h = lo + ((data[at] | (data[at + 1] << 8)) % (hi - lo + 1));
    data[at] = h & 255;
    data[at + 1] = h >> 8;
  }
  return data;
}

describe(`runtime: workerd, a ${VOCAB} x ${DIM} q1_0 head in 3 HeadShard Durable Objects`, () => {
  const procs = children();
  let dir = "";
  let origin = "";
  let log = "";
  let rt: Runtime;
  let table: EmbeddingTable;
  const ms: Record<string, number> = {};

  beforeAll(async () => {
    const workerd = tool("workerd");
    const bundle = built("build/examples/cloudflare-sharded/front.js");
    let t = Date.now();
    dir = mkdtempSync(join(tmpdir(), "bitembed-sharded-"));
    mkdirSync(join(dir, "data"));
    const file = join(dir, "data", "head.gguf");
    writeFileSync(file, writeGGUF({ tensors: [{ name: "output.weight", format: "q1_0", dims: [DIM, VOCAB], data: makeHead() }] }));
    ms.makeHead = Date.now() - t;
    copyFileSync(bundle, join(dir, "front.js"));
    copyFileSync(built("build/examples/cloudflare-sharded/bitembed.wasm"), join(dir, "bitembed.wasm"));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    // the example's config with this head's ranges
    const config = (await import("node:fs")).readFileSync(built("build/examples/cloudflare-sharded/config.capnp"), "utf8")
      .replace(/text = "\[\[0, 131072\], \[131072, 262144\]\]"/, `text = "${JSON.stringify(RANGES)}"`);
    expect(config).toContain(JSON.stringify(RANGES));
    writeFileSync(join(dir, "config.capnp"), config);
    const proc = procs.add(spawn(workerd, ["serve", join(dir, "config.capnp"), `--socket-addr=http=127.0.0.1:${port}`], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] }));
    proc.stdout!.on("data", (d) => (log += d));
    proc.stderr!.on("data", (d) => (log += d));
    t = Date.now();
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`workerd exited with code ${proc.exitCode}:\n${log}`);
      try {
        await fetch(origin + "/", { signal: AbortSignal.timeout(1000) });
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`workerd did not answer on ${origin} within 15 s:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // the single-process reference: the whole head as one table
    t = Date.now();
    rt = await newRuntime();
    table = await (await readGGUF(file)).loadTable(rt, "output.weight");
    ms.referenceLoad = Date.now() - t;
  }, 180_000);

  afterAll(() => {
    procs.killAll();
    table?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.log(`workerd sharded head ${VOCAB} x ${DIM}: ${JSON.stringify(ms)}`);
  });

  async function call(path: string, body?: unknown, timeoutMs = 120_000): Promise<any> {
    const res = await fetch(origin + path, {
      method: body === undefined ? "GET" : "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}\n${text}\nworkerd log:\n${log}`);
    return JSON.parse(text);
  }

  it("loads each shard's rows once, under maxMemory 128 MiB", async () => {
    const t = Date.now();
    const infos = await call("/shards");
    ms.open = Date.now() - t;
    expect(infos.map((i: any) => [i.start, i.end])).toEqual(RANGES);
    for (const i of infos) {
      expect(i).toMatchObject({ dim: DIM, format: "q1_0", mode: "fast" });
      expect(i.heldBytes).toBe(Math.ceil((i.end - i.start) / 16) * 16 * ROW_BYTES); // q1_0's tiled copy: the packed size
      expect(i.wasmBytes).toBeLessThanOrEqual(128 * MiB);
    }
    ms.shardLoadMs = Math.max(...infos.map((i: any) => i.loadMs));
    ms.shardWasmMiB = Math.max(...infos.map((i: any) => i.wasmBytes)) / MiB;
  }, 180_000);

  it("top-10 ids and scores equal one table's, probabilities and log-sum-exp within 1e-6", async () => {
    const times: number[] = [];
    for (const [seed, temperature] of [[1, 1], [2, 0.5], [3, 2]]) {
      const hidden = randomValues(DIM, seed, 2);
      const t = Date.now();
      const got = await call("/topk", { hidden: Array.from(hidden), k: 10, temperature });
      times.push(Date.now() - t);
      const want = table.topk(hidden, 10);
      expect(got.ids).toEqual(Array.from(want.ids));
      expect(got.scores).toEqual(Array.from(want.scores)); // f32 values through JSON: exact
      const logits = table.project(hidden);
      let m = -Infinity;
      for (const x of logits) m = Math.max(m, x);
      let s = 0;
      for (const x of logits) s += Math.exp((x - m) / temperature);
      const lse = m / temperature + Math.log(s);
      expect(Math.abs(got.logSumExp - lse)).toBeLessThanOrEqual(1e-6 * Math.abs(lse));
      got.probs.forEach((p: number, j: number) => {
        const ref = Math.exp(want.scores[j] / temperature - lse);
        expect(Math.abs(p - ref)).toBeLessThanOrEqual(1e-6 * ref);
      });
    }
    ms.topkRequestMs = Math.min(...times);
  }, 120_000);

  it("samples the single-process Gumbel-max winner for 100 seeds", async () => {
    const hidden = randomValues(DIM, 7, 2);
    const logits = table.project(hidden);
    const t = Date.now();
    const winners = new Set<number>();
    for (let seed = 0; seed < 100; seed++) {
      const got = await call("/sample", { hidden: Array.from(hidden), seed, temperature: 1 });
      let best = -1;
      let key = -Infinity;
      for (let v = 0; v < VOCAB; v++) {
        const x = logits[v] + gumbelNoise(seed, v);
        if (x > key) [best, key] = [v, x];
      }
      expect(got.id).toBe(best);
      winners.add(got.id);
    }
    ms.sampleRequestMs = (Date.now() - t) / 100;
    expect(winners.size).toBeGreaterThan(10);
  }, 180_000);

  it("row-sharded lookup returns one table's rows", async () => {
    const ids = [0, THIRD - 1, THIRD, VOCAB - 1, 2 * THIRD, 12345, THIRD];
    const got = await call("/lookup", { ids });
    expect(Float32Array.from(got.rows)).toEqual(table.lookup(ids));
  }, 60_000);
});

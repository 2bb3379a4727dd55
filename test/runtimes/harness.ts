// Shared by the runtime suites: run a child process with a deadline, find a free loopback port, serve a
// directory over http, and check a smoke result (examples/shared/smoke.js) against values computed here.
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
// @ts-expect-error plain JS module shared with the examples
import { DIM, VOCAB, expectedBits } from "../../examples/shared/values.js";
// @ts-expect-error: plain JS shared with the runtimes
import { fastProbe } from "../../examples/shared/smoke.js";
import { newRuntime } from "../helpers/runtime.js";

export const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
// the runtimes and tools the suites run are installed with the test tools (test/package.json)
export const bin = (name: string) => join(root, "test", "node_modules", ".bin", name);

/** Fails with a clear message when `npm run build` has not produced `rel` (a path under the repo). */
export function built(rel: string): string {
  const path = join(root, rel);
  if (!existsSync(path)) throw new Error(`${rel} is missing: run \`npm run build\` first (npm test does).`);
  return path;
}

/** Fails with a message naming the missing tool instead of skipping. */
export function tool(name: string): string {
  const path = bin(name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm ci --prefix test\` (npm test does; its postinstall fetches the ${name} binary).`);
  return path;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to completion; kill it and fail with its output if it outlives `timeoutMs`. */
export function run(cmd: string, args: string[], { timeoutMs = 20_000, cwd = root } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`\`${cmd} ${args.join(" ")}\` did not finish within ${timeoutMs} ms.\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`could not start \`${cmd}\`: ${e.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** The smoke result: the last line of stdout that parses as JSON. */
export function parseResult({ code, stdout, stderr }: RunResult): SmokeResult {
  const line = stdout.trim().split("\n").reverse().find((l) => l.startsWith("{"));
  if (line === undefined) throw new Error(`no JSON result (exit code ${code}).\nstdout: ${stdout}\nstderr: ${stderr}`);
  return JSON.parse(line);
}

export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createNetServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(port));
    });
  });
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
};

/**
 * Serve files under `dir` on 127.0.0.1 (a free port); `requests` records every path asked for. `headers` go
 * on every answer (COOP/COEP for a cross-origin-isolated page); the paths in `missing` get a 404 (an asset a
 * bundler or CDN did not copy).
 */
export async function serve(
  dir: string,
  headers: Record<string, string> = {},
  missing: readonly string[] = [],
): Promise<{ server: Server; origin: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(path);
    const file = normalize(join(dir, path.endsWith("/") ? path + "index.html" : path));
    if (missing.includes(path) || !file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, headers).end("not found");
      return;
    }
    res.writeHead(200, { ...headers, "content-type": MIME[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { server, origin: `http://127.0.0.1:${port}`, requests };
}

/** Processes started by a suite, killed in its afterAll. */
export function children() {
  const list: ChildProcess[] = [];
  return {
    add<T extends ChildProcess>(child: T): T {
      list.push(child);
      return child;
    },
    killAll() {
      for (const c of list) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    },
  };
}

export interface SmokeResult {
  ok: boolean;
  runtime?: string;
  entry?: string;
  checks: { name: string; ok: boolean; detail?: string }[];
  rows: Record<string, number[]>;
  fast: Record<string, number[]> | null;
  relaxedSimd: boolean | null;
  bytesInUse: { start: number; end: number };
}

// The fast-projection bits the baseline build gives in this (vitest) process: every runtime must match them.
const baselineFast = fastProbe(await newRuntime());

const FORMATS = ["f32", "f16", "bf16"];
// The checks every runtime must report, in order: a smoke that silently ran fewer fails here.
export const EXPECTED_CHECKS = [
  "init() with no argument",
  ...FORMATS.flatMap((f) => [
    `${f}: tableFromF32`,
    `${f}: lookup of ids as Int32Array, Uint32Array, number[] and into out`,
    `${f}: bad ids throw RangeError naming id and position`,
    `${f}: runtime usable after the error`,
  ]),
  "f32, f16, bf16: exact projection, 1 and 5 vectors, rows of 21 and 1029",
  "q1_0, q2_0: fast projection",
  "dispose returns bytesInUse to its start",
];

/** Assert a smoke result: every check ran and passed, rows 0 and V-1 match the source values bit for bit. */
export function expectSmoke(result: SmokeResult): void {
  const failed = result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  expect(failed, `failed checks in ${result.runtime}`).toEqual([]);
  expect(result.checks.map((c) => c.name)).toEqual(EXPECTED_CHECKS);
  expect(result.ok).toBe(true);
  const expected = expectedBits([0, VOCAB - 1]) as number[];
  expect(expected.length).toBe(2 * DIM);
  for (const f of FORMATS) expect(result.rows[f], `rows of ${f}`).toEqual(expected);
  expect(result.bytesInUse.end).toBe(result.bytesInUse.start);
  // bit for bit as the baseline build in Node, whichever build the runtime loaded
  expect(baselineFast.q1_0).toHaveLength(3 * 40);
  expect(result.fast).toEqual(baselineFast);
}

/**
 * A test build of one runtime entry (src/entries/<entry>.ts) in build/test-threads/<entry>/, with the wasm
 * builds copied beside it (its `new URL("./x.wasm", import.meta.url)` find them there, as in a user's
 * bundle), exporting beside the library the test-only hooks the threads suites need: setMinParallelWork
 * (small tables go to the workers too), liveWorkers, and the shared checks (examples/shared/threads.js).
 */
export async function threadsBuild(entry: "browser" | "deno" | "bun"): Promise<string> {
  for (const f of WASM_BUILDS) built(`build/${f}`);
  const dir = join(root, "build", "test-threads", entry);
  mkdirSync(dir, { recursive: true });
  const esbuild = await import("esbuild");
  await esbuild.build({
    stdin: {
      contents: [
        `export * from "./src/entries/${entry}.ts";`,
        `export { setMinParallelWork } from "./src/parallel/crossover.ts";`,
        `export { liveWorkers } from "./src/parallel/pool.ts";`,
        `export { threadsCheck } from "./examples/shared/threads.js";`,
      ].join("\n"),
      resolveDir: root,
      loader: "ts",
      sourcefile: "threads-test-entry.ts",
    },
    outfile: join(dir, "bitembed-test.js"),
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    external: ["node:*"],
    logLevel: "warning",
  });
  for (const f of WASM_BUILDS) copyFileSync(join(root, "build", f), join(dir, f));
  writeFileSync(join(dir, "sweep.js"), SWEEP);
  return dir;
}

// sweep.js beside a Deno or Bun test build: the threads checks for every format on 2 and 4 threads, every
// call on the workers; then the workers still alive once both runtimes are disposed (waited for: a
// worker_threads worker counts until its exit event). One line of JSON.
const SWEEP = `import * as lib from "./bitembed-test.js";
lib.setMinParallelWork(0);
const results = [];
for (const threads of [2, 4]) results.push(await lib.threadsCheck(lib, { threads }));
for (let i = 0; i < 100 && lib.liveWorkers() > 0; i++) await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify({ results, liveAfterDispose: lib.liveWorkers() }));
`;

export interface ThreadsResult {
  ok: boolean;
  threads: number;
  warnings: string[];
  jobs: number;
  checks: { name: string; ok: boolean; detail?: string }[];
}

/** The checks of a threads result that failed, with their details (expected: none). */
export const failedChecks = (r: ThreadsResult): string[] => r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);

/** A threads result where `threads` threads ran the work and every check passed. */
export function expectThreaded(r: ThreadsResult, threads: number): void {
  expect(failedChecks(r)).toEqual([]);
  expect(r.checks.length).toBeGreaterThan(1);
  expect(r.threads).toBe(threads);
  expect(r.jobs).toBeGreaterThan(0);
  expect(r.warnings).toEqual([]);
}

const WASM_BUILDS = ["bitembed.wasm", "bitembed.relaxed.wasm", "bitembed.shared.wasm", "bitembed.shared.relaxed.wasm"];

// The head kernels on every JavaScript engine users run (bench/engines/kernels.js: 32000 x 4096, one vector,
// median of 15 in round robin): this Node, Node 24 LTS, Deno and Bun (the test tools in test/node_modules, which
// npm test installs; BENCH_NODE adds further Node binaries, comma-separated paths), and Chromium
// (/usr/bin/chromium through playwright-core). Each loads the entry users get, so each runs the build its engine
// picks (relaxed SIMD where it validates: Node >= 22, Deno, Bun, Chromium). The engines run one after another,
// ROUNDS times (BENCH_ROUNDS, default 2); a figure is the median over rounds.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { loadavg } from "node:os";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { machineLine, table } from "./harness.mjs";
import { FORMAT_NAMES } from "../build/node.js";
import { exactKernels, KERNELS } from "./engines/kernels.js";

// every kernel timed, in the order each runtime reports them: the head kernels, then every other format's exact
const EXACT_KERNELS = exactKernels(FORMAT_NAMES);
const ALL = [...KERNELS, ...EXACT_KERNELS];

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CHROMIUM = "/usr/bin/chromium";

function runJson(cmd, args) {
  const out = execFileSync(cmd, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 24, timeout: 30 * 60_000 });
  const line = out.trim().split("\n").reverse().find((l) => l.startsWith("{"));
  if (!line) throw new Error(`no result from ${cmd} ${args.join(" ")}`);
  return JSON.parse(line);
}

function serve() {
  const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url, "http://x").pathname)));
    if (!path.startsWith(root + sep) || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" }).end(readFileSync(path));
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}

async function chromiumRun() {
  const { chromium } = await import(join(root, "test", "node_modules", "playwright-core", "index.mjs"));
  const server = await serve();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/bench/engines/page.html`);
    await page.waitForFunction(() => window.benchResult, null, { timeout: 30 * 60_000, polling: 1000 });
    const result = await page.evaluate(() => window.benchResult);
    if (result.error) throw new Error(result.error);
    return result;
  } finally {
    await browser.close();
    server.close();
  }
}

export async function run() {
  const bin = (name) => join(root, "test", "node_modules", ".bin", name);
  const engines = [
    ["node", () => runJson(process.execPath, ["bench/engines/main.mjs"])],
    ...(existsSync(bin("node")) ? [["node 24", () => runJson(bin("node"), ["bench/engines/main.mjs"])]] : []),
    ...(process.env.BENCH_NODE ?? "").split(",").filter(Boolean).map((node) => [`node ${node}`, () => runJson(node, ["bench/engines/main.mjs"])]),
    // not counted: Node 24 with the explicit bounds checks Deno's wasm runs with (Deno does not enable V8's trap
    // handler), to tell what Deno's own gap is
    ...(existsSync(bin("node")) ? [["node 24 checks", () => runJson(bin("node"), ["--disable-wasm-trap-handler", "bench/engines/main.mjs"]), ", --disable-wasm-trap-handler (not counted)"]] : []),
    ["deno", () => runJson(bin("deno"), ["run", "--no-prompt", "--no-lock", "--quiet", `--allow-read=${root}`, "bench/engines/main.mjs"])],
    ["bun", () => runJson(bin("bun"), ["bench/engines/main.mjs"])],
    ...(existsSync(CHROMIUM) ? [["chromium", chromiumRun]] : []),
  ];
  const results = new Map();
  const loads = [loadavg()[0]];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn, note = ""] of engines) {
      const r = await fn();
      console.error(`bench engines: round ${round + 1}: ${r.runtime}${note} done`);
      if (!results.has(name)) results.set(name, { runtime: r.runtime + note, diagnostic: note !== "", relaxedSimd: r.relaxedSimd, ms: ALL.map(() => []), cpu: ALL.map(() => []) });
      r.rows.forEach((row, k) => {
        results.get(name).ms[k].push(row.ms);
        if (row.cpuMs !== undefined) results.get(name).cpu[k].push(row.cpuMs);
      });
      loads.push(loadavg()[0]);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const all = [...results.values()].map((e) => ({ ...e, med: e.ms.map(median), cpuMed: e.cpu.map((c) => (c.length ? median(c) : undefined)) }));
  // "current" engines: every one but an end-of-life Node 20
  const current = all.filter((e) => !/^Node 20\./.test(e.runtime) && !e.diagnostic);
  const fastest = ALL.map((_, k) => Math.min(...current.map((e) => e.med[k])));
  const cell = (ms, k) => `${ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)}${current.length > 1 ? ` (${(ms / fastest[k]).toFixed(2)}x)` : ""}`;
  const head = KERNELS.map((_, k) => k);
  const rows = all.map((e) => [`${e.runtime}${e.relaxedSimd ? ", relaxed SIMD" : ""}`, ...head.map((k) => cell(e.med[k], k))]);
  const worst = ALL.map((_, k) => Math.max(...current.map((e) => e.med[k])) / fastest[k]);
  rows.push([`slowest / fastest of the current engines (${current.map((e) => e.runtime.split(" ")[0]).join(", ")})`, ...head.map((k) => `${worst[k].toFixed(2)}x`)]);
  // every other format's exact projection: a row per kernel, a column per engine
  const exactRows = EXACT_KERNELS.map(([f, m], i) => {
    const k = KERNELS.length + i;
    return [`${f} ${m}`, ...all.map((e) => cell(e.med[k], k)), `${worst[k].toFixed(2)}x`];
  });
  // "Node 24.22.3 (V8 ...), --disable-wasm-trap-handler (not counted)" -> "Node 24.22.3, --disable-wasm-trap-handler (not counted)"
  const shortName = (e) => e.runtime.replace(/ \(V8 [^)]*\)| \(JavaScriptCore\)/, "");
  // CPU time: the engines that report it
  const withCpu = all.filter((e) => e.cpuMed.every((c) => c !== undefined));
  const currentCpu = withCpu.filter((e) => !/^Node 20\./.test(e.runtime) && !e.diagnostic);
  const fastestCpu = KERNELS.map((_, k) => Math.min(...currentCpu.map((e) => e.cpuMed[k])));
  const cpuRows = withCpu.map((e) => [e.runtime, ...head.map((k) => `${e.cpuMed[k] >= 10 ? e.cpuMed[k].toFixed(1) : e.cpuMed[k].toFixed(2)} (${(e.cpuMed[k] / fastestCpu[k]).toFixed(2)}x)`)]);
  cpuRows.push(["slowest / fastest", ...KERNELS.map((_, k) => `${(Math.max(...currentCpu.map((e) => e.cpuMed[k])) / fastestCpu[k]).toFixed(2)}x`)]);
  return [
    "### Head kernels on each engine: 32000 x 4096, one vector",
    "",
    `Median ms over ${ROUNDS} rounds (each round: every engine in turn, each kernel the median of 15 runs in round robin);`,
    "in brackets: the time relative to the fastest current engine on that kernel (Node 20, past its end of life, is",
    "shown but not counted). Each engine runs the package's own entry for it, and so the build it picks: the relaxed-SIMD",
    "one where it validates. Regenerate with `node bench/run.mjs engines` (after `npm test` has installed the test tools).",
    `Machine load (1-minute load average, 2 cores) during the run: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}.`,
    "",
    table(["runtime", ...KERNELS.map(([f, m]) => `${f} ${m}`)], rows),
    "",
    "CPU time (user + system, `process.cpuUsage`; browsers have no such clock), median ms: on this shared machine it",
    "leaves out the time other processes held the core, so it compares the engines' code where wall time compares their luck.",
    "",
    table(["runtime", ...KERNELS.map(([f, m]) => `${f} ${m}`)], cpuRows),
    "",
    "Every other format's exact projection, the same way (in groups of six tables alive at once), median ms of wall time and",
    "in brackets the time relative to the fastest current engine; last column: slowest / fastest of the current engines.",
    "",
    table(["kernel", ...all.map(shortName), "slowest / fastest"], exactRows),
    "",
    "Why an engine is slower on a kernel, where measured:",
    "- Deno runs WebAssembly with an explicit bounds check before every memory access: unlike Node, Chromium and Bun it does",
    "  not enable V8's trap handler, which lets guard pages catch out-of-bounds accesses (denoland/deno#35658). The row",
    "  \"--disable-wasm-trap-handler\" is Node 24 run the same way: it matches Deno's times, so Deno's gap is its bounds",
    "  checks, largest on the kernels with the most loads per instruction (q8_0 ggml: seven loads a block).",
    "- JavaScriptCore (Bun) lowers a vector shift by a constant to four instructions (the count masked and moved to a",
    "  vector register at each use; its Air dump, `BUN_JSC_dumpAirGraphAtEachPhase=true`), where V8 emits one. The",
    "  relaxed build's q8_0 ggml moves bytes with a shuffle instead (Bun 9.5 -> 8.6 ms), and f16's exact dots make the",
    "  shift a 16-bit multiply-add (half.ts f16WordsToF32M: Bun 31.8 -> 28.9 ms, Node 24 23.3 -> 24.6). q4_0's and",
    "  q4_k's nibbles need a right shift, which has no such stand-in that does not cost V8 as much as it saves Bun.",
    "- JavaScriptCore lowers extend_high (i8 to i16, i16 to i32) to `unpckhpd dst, src, dst` and a pmovzx: the unpckhpd",
    "  reads dst's old value, so where its register allocator picks a dst other than src, the loop's iterations wait on",
    "  each other through that register (seen in Bun's machine code: `BUN_JSC_dumpWasmDisassembly=true` prints each",
    "  instruction's address range, gdb attached to the process reads the code there). The relaxed build's exact dots",
    "  widen codes to 32-bit lanes by byte swizzles instead (kquants.ts dotCodes16: Bun q4_1 39.2 -> 30.1 ms, q4_k",
    "  36.5 -> 31.2, q5_1 41.3 -> 36.5; V8 unchanged).",
    "- JavaScriptCore makes a two-input byte shuffle two pshufb and a por. The relaxed build's f16 and bf16 put each half in",
    "  a 32-bit lane with one swizzle of the row's bytes alone (indices 0x80 give zero in every engine): Bun bf16 21.4 ->",
    "  16.7-17.9 ms. q2_0's and pq2_0's exact dots no longer interleave their 2-bit fields: each byte is repeated four",
    "  times by one swizzle, field k kept in place by a mask and scaled by 4^-k after the conversion (ternary.ts",
    "  fieldsDot16; Bun q2_0 33.1 -> 24.7 ms, pq2_0 36.0 -> 24.0; Node 24 pq2_0 25.9 -> 23.5).",
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(machineLine());
  console.log(await run());
}

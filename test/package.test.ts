// The package as published: `npm pack`, then `npm install ./bitembed-x.tgz --offline` into a scratch project,
// and the README's "Use" code run from there in Node (the pinned Node 24 that runs npm's scripts, and the
// machine's node that ran npm), Deno and Bun; require() from CommonJS; the types compiled under a plain
// strict tsconfig; and what the tarball holds.
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { pack, type Packed } from "./helpers/pack.js";
import { bin, root, run, tool } from "./runtimes/harness.js";

const node24 = bin("node");

const scratch = join(root, "build", "package-test");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
let packed: Packed;

// the README's code, as a user copies it
const readme = readFileSync(join(root, "README.md"), "utf8");
const use = /## Use\n\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
const EXPECTED_OUTPUT = [
  "queen monarch throne", // analogy
  "king emperor prince queen son", // topk of king's row
  "7 8000", // argmax of a q1_0 head, and the logits' length
];
// what each runtime prints, as words (Node prints [ 'a', 'b' ], Deno and Bun [ "a", "b" ])
const lines = (stdout: string) => stdout.trim().split("\n").map((l) => l.replace(/[[\]'",]/g, " ").trim().split(/\s+/).join(" "));

beforeAll(() => {
  packed = pack(join(scratch, "tarball"));
  writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  execFileSync("npm", ["install", packed.tarball, "--offline", "--no-audit", "--no-fund", "--no-package-lock"], { cwd: scratch, stdio: "pipe" });
  mkdirSync(join(scratch, "examples", "data"), { recursive: true });
  copyFileSync(join(root, "examples/data/glove-50k.q8_0.gguf"), join(scratch, "examples/data/glove-50k.q8_0.gguf"));
  writeFileSync(join(scratch, "use.mjs"), use ?? "throw new Error('no Use section in README.md')");
}, 60_000);

describe("the packed tarball", () => {
  it("holds the entries, one copy of the library, both wasm builds, the types, LICENSE and README; nothing else", () => {
    const paths = packed.files.map((f) => f.path).sort();
    for (const p of ["LICENSE", "README.md", "package.json", "build/bitembed.wasm", "build/bitembed.relaxed.wasm", "build/types/wasm.d.ts", "build/types/entries/node.d.ts"]) {
      expect(paths).toContain(p);
    }
    for (const e of ["node", "deno", "bun", "browser", "worker", "inline", "cli"]) expect(paths).toContain(`build/${e}.js`);
    const unexpected = paths.filter((p) => !/^(LICENSE|README\.md|package\.json|build\/[\w.-]+\.(js|wasm)|build\/types\/.+\.d\.ts)$/.test(p));
    expect(unexpected).toEqual([]);
    expect(paths.filter((p) => p.endsWith(".wasm"))).toEqual([
      "build/bitembed.relaxed.wasm", "build/bitembed.shared.relaxed.wasm", "build/bitembed.shared.wasm", "build/bitembed.wasm",
    ]);
    // the library once: the class that holds tables is defined in exactly one file, and the entries are small
    const js = packed.files.filter((f) => f.path.endsWith(".js"));
    const defining = js.filter((f) => /(class|var) EmbeddingTable\b/.test(readFileSync(join(root, f.path), "utf8")));
    expect(defining.map((f) => f.path)).toHaveLength(1);
    for (const f of js) if (!/\/(lib-\w+|inline|cli)\.js$/.test(f.path)) expect(f.size, f.path).toBeLessThan(4096);
    // 418.8 KB with 23 formats, 12 of them with integer dots (mode ggml's kernels: each wasm build +~3.4 KB gzipped
    // per four formats; the k-quants' one-vector walker, four blocks inlined per step for q6_k, q4_k, q5_k: +~15 KB
    // in all): the four wasm builds (one-thread and shared memory) are most of it; the bound catches a stray file
    // or a second copy of the library (~100 KB), not a kernel or a feature
    expect(packed.size).toBeLessThan(430_000);
  });

  it("has the metadata a registry page and tools read", () => {
    expect(readFileSync(join(root, "LICENSE"), "utf8")).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(pkg.license).toBe("Apache-2.0");
    // no repository/homepage: the project has no public remote yet (a made-up URL would mislead)
    expect(pkg.repository).toBeUndefined();
    expect(pkg.keywords).toEqual(expect.arrayContaining(["embeddings", "gguf", "webassembly"]));
    expect(pkg.engines.node).toBe(">=20.19.0");
    // the entries that register the file system at import are the only modules with side effects
    expect(pkg.sideEffects).toEqual(["./build/node.js", "./build/deno.js", "./build/bun.js", "./build/cli.js"]);
  });
});

describe("installed from the tarball, the README's code runs", () => {
  // the node running the suite, the pinned Node 24, and the node that ran npm
  const nodes = [...new Set([process.execPath, node24, process.env.npm_node_execpath].filter((p): p is string => !!p && existsSync(p)))];

  it.each(nodes)("in Node (%s)", async (node) => {
    const r = await run(node, ["use.mjs"], { cwd: scratch, timeoutMs: 60_000 });
    expect(r.stderr).toBe("");
    expect(lines(r.stdout)).toEqual(EXPECTED_OUTPUT);
  });

  it("in Deno (read access to the project only)", async () => {
    const r = await run(tool("deno"), ["run", "--no-prompt", "--no-lock", "--quiet", `--allow-read=${scratch}`, "use.mjs"], { cwd: scratch, timeoutMs: 60_000 });
    expect(r.stderr).toBe("");
    expect(lines(r.stdout)).toEqual(EXPECTED_OUTPUT);
  });

  it("in Bun", async () => {
    const r = await run(tool("bun"), ["use.mjs"], { cwd: scratch, timeoutMs: 60_000 });
    expect(r.stderr).toBe("");
    expect(lines(r.stdout)).toEqual(EXPECTED_OUTPUT);
  });

  it.each(nodes)("from CommonJS: require(\"bitembed\") in Node (%s)", async (node) => {
    writeFileSync(join(scratch, "use.cjs"), 'const { init } = require("bitembed");\ninit().then((rt) => console.log(typeof rt.tableFromF32));\n');
    const r = await run(node, ["use.cjs"], { cwd: scratch });
    expect(r.stdout.trim()).toBe("function");
  });

  it("the installed bitembed command", async () => {
    const r = await run(join(scratch, "node_modules/.bin/bitembed"), ["nearest", "examples/data/glove-50k.q8_0.gguf", "king", "-k", "3"], { cwd: scratch });
    expect(r.stdout).toMatch(/^ {2}1 {2}\S+/);
    expect(r.stdout.split("\n").filter(Boolean)).toHaveLength(3);
  });
});

describe("the installed types", () => {
  const tsc = (args: string[]) => run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), ...args], { cwd: scratch, timeoutMs: 60_000 });

  const tsconfig = (name: string, compilerOptions: object) => {
    cpSync(join(root, `test/fixtures/package-types/${name}.ts`), join(scratch, `${name}.ts`));
    writeFileSync(join(scratch, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, types: [], ...compilerOptions }, files: [`${name}.ts`] }));
    return `tsconfig.${name}.json`;
  };

  it("compile under a plain strict tsconfig: lib es2022 + dom, no @types/node, no lib esnext; wasm subpath typed", async () => {
    const r = await tsc(["-p", tsconfig("plain", { target: "es2022", module: "es2022", moduleResolution: "bundler", lib: ["es2022", "dom"] })]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("support `using` under lib esnext with module nodenext", async () => {
    const r = await tsc(["-p", tsconfig("esnext", { target: "esnext", module: "nodenext", lib: ["esnext", "dom"] })]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

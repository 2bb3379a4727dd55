// The `bitembed` command against hostile inputs and faults (issue 13): OUT == IN, a full disk, a failure
// halfway through a conversion; control characters from files on the terminal; odd word tables; word-vector
// files that are big, indented or start with a byte-order mark. build/cli.js runs as a child process (npm test builds it first).
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { readGGUF, writeGGUF } from "../src/index.js";

const run = promisify(execFile);
const root = new URL("../", import.meta.url).pathname;
const cli = join(root, "build", "cli.js");
const golden = join(root, "test", "fixtures", "ggml", "gauss2048.f32.gguf");
const goldenBytes = readFileSync(golden);

async function bitembed(args: string[], shellPrefix?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = shellPrefix
      ? await run("sh", ["-c", `${shellPrefix}; exec "$0" "$@"`, process.execPath, cli, ...args], { cwd: root })
      : await run(process.execPath, [cli, ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** A fresh directory holding a copy of the golden f32 GGUF as in.gguf. */
function workdir(): { dir: string; input: string } {
  const dir = mkdtempSync(join(tmpdir(), "bitembed-cli-hostile-"));
  const input = join(dir, "in.gguf");
  copyFileSync(golden, input);
  return { dir, input };
}

const same = (path: string, bytes: Uint8Array) => Buffer.from(readFileSync(path)).equals(Buffer.from(bytes));

describe("convert never loses data", () => {
  it.each([
    ["the same path", (_dir: string, input: string) => input],
    ["a path through ..", (dir: string) => join(dir, "sub", "..", "in.gguf")],
    ["a symlink to IN", (dir: string, input: string) => (symlinkSync(input, join(dir, "link.gguf")), join(dir, "link.gguf"))],
    ["a hard link to IN", (dir: string, input: string) => (linkSync(input, join(dir, "hard.gguf")), join(dir, "hard.gguf"))],
  ])("refuses OUT that is IN by %s, before any work, leaving IN whole", async (_, outOf) => {
    const { dir, input } = workdir();
    mkdirSync(join(dir, "sub"));
    const output = outOf(dir, input);
    const r = await bitembed(["convert", input, output, "--format", "q1_0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bitembed convert: OUT is the same file as IN \(.*\); choose another OUT/);
    expect(same(input, goldenBytes), "IN unchanged").toBe(true);
  });

  it("a full disk (a 64 KiB file-size limit) leaves an existing OUT as it was, and no temporary file", async () => {
    const { dir, input } = workdir();
    const output = join(dir, "out.gguf");
    const old = new TextEncoder().encode("the previous OUT\n");
    writeFileSync(output, old);
    // SIGXFSZ ignored: the write fails with EFBIG, as on a full disk, instead of killing the process
    const r = await bitembed(["convert", input, output, "--format", "q8_0"], "trap '' XFSZ; ulimit -f 128");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/EFBIG|too large/);
    expect(same(output, old), "OUT unchanged").toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["in.gguf", "out.gguf"]);
    // and without the limit the same command writes it whole
    const ok = await bitembed(["convert", input, output, "--format", "q8_0"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(output).byteLength).toBeGreaterThan(64 * 1024);
  });

  it("a conversion that fails halfway (a truncated token table) leaves no OUT and no temporary file", async () => {
    const { dir } = workdir();
    const input = join(dir, "cut.gguf");
    writeFileSync(input, goldenBytes.subarray(0, goldenBytes.byteLength - 100));
    const output = join(dir, "out.gguf");
    const r = await bitembed(["convert", input, output, "--format", "q4_0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/runs past the end of the file/);
    expect(existsSync(output)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(["cut.gguf", "in.gguf"]);
  });

  it("writes through an existing symlink OUT, as a plain write would", async () => {
    const { dir, input } = workdir();
    const real = join(dir, "real.gguf");
    writeFileSync(real, "old");
    symlinkSync(real, join(dir, "out.gguf"));
    const r = await bitembed(["convert", input, join(dir, "out.gguf"), "--format", "f16"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(real).subarray(0, 4).toString()).toBe("GGUF");
  });
});

/** A GGUF word table: `words` as its vocabulary, rows as given (f32, dim 4). */
function wordTable(dir: string, words: string[], rows: number[][], name = "words.gguf", extra: Record<string, string> = {}): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    writeGGUF({
      metadata: { "general.architecture": "word-vectors", "tokenizer.ggml.tokens": words, ...extra },
      tensors: [{ name: "token_embd.weight", format: "f32", dims: [4, rows.length], data: Float32Array.from(rows.flat()) }],
    }),
  );
  return path;
}

// ESC, BEL, CSI as one C1 byte, a bidi override, a hyperlink: none may reach the terminal raw
const EVIL = "\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202eevil\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\\nforged line";
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("terminal output", () => {
  it("inspect shows keys, values and tensor names from the file with their control characters escaped", async () => {
    const { dir } = workdir();
    const path = join(dir, "evil.gguf");
    writeFileSync(
      path,
      writeGGUF({
        metadata: { [`key${EVIL}`]: `value${EVIL}`, long: "k".repeat(100_000), ["x".repeat(50_000)]: 1 },
        tensors: [{ name: `token_embd.weight${EVIL}`, format: "f32", dims: [4, 1], data: new Float32Array(4) }],
      }),
    );
    const r = await bitembed(["inspect", path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stdout).toContain("key\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m\\u202eevil");
    expect(r.stdout).toContain("\\nforged line");
    expect(r.stdout.split("\n").every((l) => l.length < 400), "no line floods the screen").toBe(true);
  });

  it("nearest prints tokens escaped; an error quoting a file's string is escaped and cut short", async () => {
    const { dir } = workdir();
    const path = wordTable(dir, ["cat", `dog${EVIL}`, "car"], [[1, 0.9, 0, 0], [0.9, 1, 0, 0], [0, 0, 1, 1]]);
    const r = await bitembed(["nearest", path, "cat", "-k", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stdout).toMatch(/^\s+1\s+dog\\u001b\]0;pwned\\u0007/);
    const e = await bitembed(["nearest", path, `${EVIL}${"w".repeat(100_000)}`]);
    expect(e.code).toBe(1);
    expect(e.stderr).not.toMatch(RAW);
    expect(e.stderr.trim().split("\n")).toHaveLength(1);
    expect(e.stderr.length).toBeLessThan(1000);
  });
});

describe("nearest and analogy on odd tables", () => {
  it("a vocabulary shorter than the table prints #id for rows without a word (once: a crash)", async () => {
    const { dir } = workdir();
    const path = wordTable(dir, ["a", "b"], [[1, 0, 0, 0], [0, 1, 0, 0], [0.9, 0.1, 0, 0], [0.8, 0.2, 0, 0]]);
    const r = await bitembed(["nearest", path, "a", "-k", "3"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/)[1])).toEqual(["#2", "#3", "b"]);
  });

  it("a vocabulary longer than the table names the word and the row count", async () => {
    const { dir } = workdir();
    const path = wordTable(dir, ["a", "b", "c"], [[1, 0, 0, 0], [0, 1, 0, 0]]);
    const r = await bitembed(["nearest", path, "c"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^bitembed nearest: "c" is token 2, but the table has only 2 rows/);
  });

  it("zero and NaN rows: no crash; a NaN query is named; a one-row table has no neighbours", async () => {
    const { dir } = workdir();
    const path = wordTable(dir, ["zero", "nan", "x", "y"], [[0, 0, 0, 0], [NaN, 1, 0, 0], [1, 0, 0, 0], [0.5, 0.5, 0, 0]]);
    const z = await bitembed(["nearest", path, "zero"]);
    expect(z.code, z.stderr).toBe(0);
    expect(z.stdout).toMatch(/no row could be scored/);
    const x = await bitembed(["nearest", path, "x", "-k", "3"]);
    expect(x.code, x.stderr).toBe(0);
    expect(x.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/)[1])).toEqual(["y"]);
    const n = await bitembed(["nearest", path, "nan"]);
    expect(n.stderr).toMatch(/^bitembed nearest: the vector of "nan" \(row 1\) holds NaN/);
    const a = await bitembed(["analogy", path, "x", "-", "zero", "+", "y"]);
    expect(a.code, a.stderr).toBe(0);
    const one = wordTable(dir, ["only"], [[1, 2, 3, 4]], "one.gguf");
    expect((await bitembed(["nearest", one, "only"])).stdout).toMatch(/the table has no other row/);
    expect((await bitembed(["analogy", one, "only", "-", "only", "+", "only"])).stdout).toMatch(/the table has no other row/);
  });
});

describe("word-vector inputs", () => {
  it.each([
    ["8 leading spaces (once: read as safetensors)", `        ${JSON.stringify({ cat: [1, 0], dog: [0, 1] })}`],
    ["a byte-order mark (once: read as text)", `\ufeff${JSON.stringify({ cat: [1, 0], dog: [0, 1] })}`],
  ])("JSON with %s is read as JSON", async (_, text) => {
    const { dir } = workdir();
    const path = join(dir, "w.json");
    writeFileSync(path, text);
    const r = await bitembed(["inspect", path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/word vectors \(json\), 2 words x 2/);
  });

  it("a text file past V8's 512 MiB string limit converts with --limit, reading only its start", async () => {
    const { dir } = workdir();
    const path = join(dir, "big.txt");
    writeFileSync(path, "the 1 2 3\nof 4 5 6\nand 7 8 9\n");
    truncateSync(path, 2 ** 30); // sparse: 1 GiB of NULs after the three lines, nothing on disk
    const out = join(dir, "big.gguf");
    const t0 = performance.now();
    const r = await bitembed(["convert", path, out, "--format", "f32", "--limit", "3"]);
    expect(r.code, r.stderr).toBe(0);
    expect(performance.now() - t0).toBeLessThan(10_000);
    const g = await readGGUF(out);
    expect(g.metadata["tokenizer.ggml.tokens"]).toEqual(["the", "of", "and"]);
    expect(Array.from(new Float32Array((await g.readTensor("token_embd.weight")).buffer))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // without --limit the NULs are one endless line: refused once it passes 64 Mi characters, not buffered whole
    const all = await bitembed(["convert", path, out, "--format", "f32"]);
    expect(all.code).toBe(1);
    expect(all.stderr).toMatch(/a line longer than 67108864 characters/);
  });

  it("a safetensors --config nested 5,000 deep is refused in one line (once: a stack overflow)", async () => {
    const { dir } = workdir();
    const config = join(dir, "config.json");
    writeFileSync(config, `{"model_type":"gemma","torch_dtype":${"[".repeat(5000)}${"]".repeat(5000)}}`);
    const st = join(root, "test", "fixtures", "safetensors", "energetic-en-512.safetensors");
    const r = await bitembed(["convert", st, join(dir, "o.gguf"), "--format", "f16", "--config", config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^bitembed convert: Malformed config\.json file .* it nests deeper than 128 levels/);
  });
});

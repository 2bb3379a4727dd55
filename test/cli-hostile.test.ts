// The `bitembed` command against hostile inputs and faults (issue 13): OUT == IN, a full disk, a failure
// halfway through a conversion. build/cli.js runs as a child process (npm test builds it first).
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

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

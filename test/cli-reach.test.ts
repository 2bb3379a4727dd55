// The command's reach (issue 18): --version, progress lines when stderr is not a terminal, memory per format
// from the true dim, and files that are not models named for what they are (CLI and loadEmbeddingModel).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadEmbeddingModel } from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";
import { root, run } from "./runtimes/harness.js";

const cli = join(root, "build", "cli.js");
const demo = join(root, "examples", "data", "glove-50k.q8_0.gguf");
const tmp = mkdtempSync(join(tmpdir(), "bitembed-cli-reach-"));
const bitembed = (...args: string[]) => run(process.execPath, [cli, ...args]);

// deterministic bytes of no known kind (an LCG; the first byte is not printable)
const noise = (n: number) => {
  let x = 12345;
  return Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 0x9c : ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) & 255));
};

describe("bitembed --version", () => {
  it("prints the package version", async () => {
    const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
    for (const flag of ["--version", "-v"]) {
      const r = await bitembed(flag);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });
});

describe("inspect: memory per format from the true dim", () => {
  it("the demo table is 50000 x 100 (stored padded to 128): f32 is 50000 * 100 * 4 bytes, q1_0 pads to 128", async () => {
    const r = await bitembed("inspect", demo);
    expect(r.stdout).toContain("memory for token_embd.weight (50000 x 100) per format:");
    expect(r.stdout).toMatch(/\n {2}f32 +19\.1 MiB /); // 20,000,000 bytes
    expect(r.stdout).toMatch(/\n {2}f16 +9\.54 MiB /); // 10,000,000 bytes
    expect(r.stdout).toMatch(/\n {2}q1_0 +878\.9 KiB /); // 50000 rows x 18 bytes (one 128-block)
  });
});

describe("progress when stderr is not a terminal", () => {
  it("prints plain lines (no carriage returns), rate-limited, and the last one always", async () => {
    const words = Array.from({ length: 3000 }, (_, i) => `w${i} ${Array.from({ length: 8 }, (_, j) => ((i * 7 + j) % 13) / 13).join(" ")}`);
    const input = join(tmp, "words.txt");
    writeFileSync(input, words.join("\n") + "\n");
    const r = await bitembed("convert", input, join(tmp, "words.q8_0.gguf"), "--format", "q8_0");
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("\r");
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("token_embd:"));
    // a conversion this small ends within the 2 s between lines: only the last line shows
    expect(lines).toEqual(["token_embd: 100% (3000 of 3000 rows)"]);
  });
});

describe("files that are not models are named for what they are", () => {
  const file = (name: string, bytes: Uint8Array | string) => {
    const path = join(tmp, name);
    writeFileSync(path, bytes);
    return path;
  };

  it.each([
    ["random bytes named .gguf", "random.gguf", noise(3000), /^bitembed inspect: \S+random\.gguf is not a GGUF file: it starts with 9c [0-9a-f ]+\. bitembed reads GGUF, safetensors/],
    ["random bytes named .bin", "random.bin", noise(3000), /is not a GGUF file: it starts with 9c /],
    ["an HTML page saved as .gguf", "page.gguf", "<!doctype html><html><body>Not found</body></html>", /page\.gguf is not a GGUF file: it starts with 3c 21 64 6f 63 74 79 70 \("<!doctyp"\): this is HTML\./],
    ["a gzip named .safetensors", "model.safetensors", Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3), /model\.safetensors is not a safetensors file: it starts with 1f 8b .*: this is gzip-compressed\./],
  ])("%s", async (_, name, bytes, message) => {
    const r = await bitembed("inspect", file(name, bytes));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(message);
  });

  it("a directory", async () => {
    const dir = join(tmp, "model-dir");
    mkdirSync(dir, { recursive: true });
    const r = await bitembed("nearest", dir, "king");
    expect(r.stderr.trim()).toBe(`bitembed nearest: ${dir} is a directory; expected a model file (GGUF, safetensors, or word vectors)`);
  });

  it("loadEmbeddingModel: random bytes are not read as safetensors; a directory is named", async () => {
    const rt = await newRuntime();
    await expect(loadEmbeddingModel(rt, noise(4096))).rejects.toThrow(
      /^bytes is not a GGUF or safetensors file: it starts with 9c [0-9a-f ]+\. loadEmbeddingModel reads GGUF and safetensors model files\.$/,
    );
    await expect(loadEmbeddingModel(rt, new TextEncoder().encode("the 0.1 0.2\nof 0.3 0.4\n"))).rejects.toThrow(
      'it starts with 74 68 65 20 30 2e 31 20 ("the 0.1 "): this is text.',
    );
    await expect(loadEmbeddingModel(rt, tmp)).rejects.toThrow(`"${tmp}" is a directory; expected a file`);
    expect(rt.bytesInUse).toBe(0);
  });
});

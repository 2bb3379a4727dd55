// The `bitembed` command (build/cli.js, built by `npm test`) and the demo, run as child processes.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, FORMAT_NAMES, loadEmbeddingModel, readGGUF, RotatedTable, writeGGUF, type Runtime } from "../src/index.js";
import { expectSameBytes } from "./helpers/close.js";
import { goldenBytes } from "./helpers/golden.js";
import { newRuntime } from "./helpers/runtime.js";
import { bonsai2Gguf } from "./helpers/bonsai2-gguf.js";
import { randomValues } from "./helpers/values.js";

const run = promisify(execFile);
const root = new URL("../", import.meta.url).pathname;
const cli = join(root, "build", "cli.js");
const tmp = mkdtempSync(join(tmpdir(), "bitembed-cli-"));
const golden = (f: string) => join(root, "test", "fixtures", "ggml", f);
const demo = join(root, "examples", "data", "glove-50k.q8_0.gguf");

async function bitembed(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

describe("bitembed CLI", () => {
  it.each(["inspect", "convert", "nearest", "analogy"])("%s --help", async (cmd) => {
    const r = await bitembed(cmd, "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: bitembed ${cmd}`));
  });

  it("inspect lists tensors and the memory per format", async () => {
    const r = await bitembed("inspect", golden("gauss2048.q1_0.gguf"));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/token_embd\.weight\s+q1_0\s+\[2048, 64\]\s+18\.0 KiB/);
    expect(r.stdout).toMatch(/llama\.rope\.freq_base \(f32\) = 500000/);
    for (const f of FORMAT_NAMES) expect(r.stdout).toMatch(new RegExp(`^  ${f} `, "m"));
  });

  it.each(FORMAT_NAMES)("converts the golden f32 GGUF to %s: the golden bytes, the metadata kept", async (format) => {
    const out = join(tmp, `golden.${format}.gguf`);
    const r = await bitembed("convert", golden("gauss2048.f32.gguf"), out, "--format", format);
    expect(r.code, r.stderr).toBe(0);
    const g = await readGGUF(out);
    expect(g.tensor("token_embd.weight").typeName).toBe(format);
    expect(g.metadata["llama.rope.freq_base"]).toBe(500000);
    const { blockElems, blockBytes } = FORMATS[format];
    expectSameBytes(await g.readTensor("token_embd.weight"), goldenBytes(`gauss2048.${format}.bin`), (2048 / blockElems) * blockBytes, "convert");
  });

  it("converts GloVe text to q8_0 and answers nearest from it", async () => {
    const txt = join(tmp, "tiny.txt");
    const words = ["cat", "dog", "car", "bus", "tree"];
    const vecs = [[1, 0.9, 0, 0], [0.9, 1, 0, 0], [0, 0, 1, 0.8], [0, 0, 0.8, 1], [0.5, -0.5, 0.5, -0.5]];
    writeFileSync(txt, words.map((w, i) => `${w} ${vecs[i].join(" ")}`).join("\n") + "\n");
    const out = join(tmp, "tiny.gguf");
    const c = await bitembed("convert", txt, out, "--format", "q8_0");
    expect(c.code, c.stderr).toBe(0);
    const g = await readGGUF(out);
    expect(g.metadata["tokenizer.ggml.tokens"]).toEqual(words);
    expect(g.tensor("token_embd.weight").dims).toEqual([32, 5]); // 4 padded to one q8_0 block
    const n = await bitembed("nearest", out, "cat", "-k", "2");
    expect(n.code, n.stderr).toBe(0);
    expect(n.stdout.trim().split("\n")[0]).toMatch(/^\s*1\s+dog\s+0\.99/);
  });

  // 6000 x 1024 f32 (24 MiB): two steps of the threaded convert, each past MIN_PARALLEL_WORK.quantize, so the
  // workers quantize; the reference is rt.quantize on the whole table at once
  it("convert --threads 2 writes the bytes --threads 1 writes", async () => {
    const vocab = 6000;
    const dim = 1024;
    const values = randomValues(vocab * dim, 15, 1);
    const input = join(tmp, "threads.f32.gguf");
    const src = rt.tableFromF32(values, { vocab, dim, format: "f32" });
    writeFileSync(input, writeGGUF({ metadata: { "general.architecture": "llama" }, tensors: [{ name: "token_embd.weight", table: src }] }));
    src.dispose();
    for (const format of ["q6_k", "q4_0"] as const) {
      const outs = [1, 2].map((t) => join(tmp, `threads-${t}.${format}.gguf`));
      const one = await bitembed("convert", input, outs[0], "--format", format, "--threads", "1");
      expect(one.code, one.stderr).toBe(0);
      const two = await bitembed("convert", input, outs[1], "--format", format, "--threads=2");
      expect(two.code, two.stderr).toBe(0);
      expect(two.stderr).toMatch(/quantized on 2 threads/);
      expect(one.stderr).not.toMatch(/quantized on/);
      expect(readFileSync(outs[1]).equals(readFileSync(outs[0])), format).toBe(true);
      const g = await readGGUF(outs[0]);
      expectSameBytes(await g.readTensor("token_embd.weight"), rt.quantize(values, { vocab, dim, format }), 1 << 16, format);
    }
    const bad = await bitembed("convert", input, join(tmp, "x.gguf"), "--format", "q8_0", "--threads", "0");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--threads must be a positive integer, got 0/);
    const other = await bitembed("nearest", input, "a", "--threads", "2");
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--threads is an option of convert/);
  });

  it("converts a safetensors table and word-vector JSON (wink layout) to GGUF", async () => {
    const st = join(root, "test", "fixtures", "safetensors", "energetic-en-512.safetensors");
    const i = await bitembed("inspect", st);
    expect(i.stdout).toMatch(/model\.embed_tokens\.weight\s+F32\s+\[512, 256\]\s+512\.0 KiB/);
    expect(i.stdout).toMatch(/^  q1_0\s+18\.0 KiB/m);
    const out = join(tmp, "st.gguf");
    const c = await bitembed("convert", st, out, "--format", "f16");
    expect(c.code, c.stderr).toBe(0);
    const g = await readGGUF(out);
    expect(g.tensor("token_embd.weight")).toMatchObject({ dims: [256, 512], typeName: "f16" });

    const json = join(tmp, "wink.json");
    const vectors = { a: [1, 2, 3, 3.7, 0], b: [3, 2, 1, 3.7, 1], c: [0, 0, 1, 1, 2] };
    writeFileSync(json, JSON.stringify({ precision: 8, dimensions: 3, words: ["b", "a", "c"], vectors }));
    const jout = join(tmp, "wink.gguf");
    const j = await bitembed("convert", json, jout, "--format", "f32", "--limit", "2");
    expect(j.code, j.stderr).toBe(0);
    const h = await readGGUF(jout);
    expect(h.metadata["tokenizer.ggml.tokens"]).toEqual(["b", "a"]);
    expect(Array.from(new Float32Array((await h.readTensor("token_embd.weight")).buffer))).toEqual([3, 2, 1, 1, 2, 3]);
  });

  it("answers king - man + woman = queen on the demo table", async () => {
    const r = await bitembed("analogy", demo, "king", "-", "man", "+", "woman", "-k", "3");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split("\n")[1]).toMatch(/^\s+1\s+queen\s/);
  });

  it("inspects a Ternary Bonsai 2 file's rotation and converts it to q8_0 in the latent basis, keys kept", async () => {
    const file = bonsai2Gguf();
    const path = join(tmp, "bonsai2.gguf");
    writeFileSync(path, file.bytes);
    const r = await bitembed("inspect", path);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/token_embd\.weight\s+ptq1_0\s+\[2048, 100\]/);
    expect(r.stdout).toMatch(/output\.weight\s+pq2_0\s+\[2048, 100\]/);
    expect(r.stdout).toContain("rotation: prism.hadamard v1, block 1024, explicit signs for widths 2048, 3072; 6 folded weights, latent lookups: token_embd.weight");
    const out = join(tmp, "bonsai2.q8_0.gguf");
    const c = await bitembed("convert", path, out, "--format", "q8_0");
    expect(c.code, c.stderr).toBe(0);
    const m = await loadEmbeddingModel(rt, out);
    try {
      expect(m.tokens).toBeInstanceOf(RotatedTable);
      expect([m.tokens.format, m.head.format, m.rotation?.version]).toEqual(["q8_0", "q8_0", 1]);
      // the real rows come back through q8_0 of the latent ones: within its half step (max|z| / 254 per 32)
      const got = m.tokens.lookup([4]);
      const z = file.tokensLatent.subarray(4 * 2048, 5 * 2048);
      const step = z.reduce((a, v) => Math.max(a, Math.abs(v)), 0) / 254;
      for (let j = 0; j < 2048; j++) expect(Math.abs(got[j] - file.tokens[4 * 2048 + j])).toBeLessThanOrEqual(step * Math.sqrt(2048) * 1.01);
    } finally {
      m.dispose();
    }
  });

  it.each([
    [["inspect", "/nonexistent/model.gguf"], 1, /^bitembed inspect: cannot open \/nonexistent\/model\.gguf/],
    [["convert", golden("gauss2048.f32.gguf"), join(tmp, "x.gguf"), "--format", "q3"], 1, /^bitembed convert: Unknown `format` "q3"/],
    [["convert", golden("gauss2048.f32.gguf")], 2, /^bitembed convert: convert needs IN and OUT/],
    [["nearest", demo, "qwertyuiopzz"], 1, /"qwertyuiopzz" is not in the vocabulary/],
    [["analogy", demo, "king", "+", "man"], 2, /analogy takes "A - B \+ C"/],
    [["frobnicate"], 2, /^bitembed: unknown command "frobnicate"/],
  ])("%j fails with one line", async (args, code, message) => {
    const r = await bitembed(...(args as string[]));
    expect(r.code).toBe(code);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});

describe("npm run demo", () => {
  it("prints neighbours and king - man + woman = queen, offline", async () => {
    const { stdout } = await run(process.execPath, [join(root, "examples", "node", "demo.mjs")], { cwd: root });
    expect(stdout).toMatch(/^king - man \+ woman = queen /m);
    expect(stdout).toMatch(/^nearest\(frog\): toad /m);
    expect(stdout).toMatch(/^paris - france \+ italy = rome /m);
  });
});

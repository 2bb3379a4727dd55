// `bitembed embed` (build/cli.js, built by `npm test`) on the demo GloVe GGUF: the similarity matrix and the
// vectors it prints equal loadStaticModel's in process.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { loadStaticModel, type Runtime } from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";

const run = promisify(execFile);
const root = new URL("../", import.meta.url).pathname;
const cli = join(root, "build", "cli.js");
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

describe("bitembed embed", () => {
  const texts = ["the king and the queen", "the queen and her king", "stocks fell sharply xyzzyq"];

  it("prints the cosine similarities between the texts, and counts unknown words", async () => {
    const r = await bitembed("embed", demo, ...texts);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("text 3: 1 unknown word skipped\n");
    using model = await loadStaticModel(rt, demo);
    const v = model.encode(texts, { normalize: true });
    const cos = (i: number, j: number) => v.subarray(i * 100, i * 100 + 100).reduce((s, x, k) => s + x * v[j * 100 + k], 0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.slice(0, 3)).toEqual(texts.map((t, i) => `[${i + 1}] ${t}`));
    const matrix = lines.slice(4).map((l) => l.trim().split(/\s+/).slice(1).map(Number));
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(matrix[i][j]).toBeCloseTo(cos(i, j), 4);
    // the same sentence twice reads alike; a sentence about markets does not
    expect(matrix[0][1]).toBeGreaterThan(0.9);
    expect(matrix[0][2]).toBeLessThan(0.6);
  });

  it("--vectors prints each vector on one line", async () => {
    const r = await bitembed("embed", demo, "king", "queen", "--vectors");
    expect(r.code).toBe(0);
    using model = await loadStaticModel(rt, demo);
    const v = model.encode(["king", "queen"]);
    const rows = r.stdout.trim().split("\n").map((l) => l.split(" ").map(Number));
    expect(rows.map((x) => x.length)).toEqual([100, 100]);
    rows.flat().forEach((x, i) => expect(x).toBeCloseTo(v[i], 5));
  });

  it("usage errors", async () => {
    expect((await bitembed("embed", demo)).stderr).toMatch(/embed needs FILE and at least one TEXT/);
    expect((await bitembed("embed", "--help")).stdout).toMatch(/^Usage: bitembed embed/);
    expect((await bitembed("embed", demo, "x", "--format", "q3")).code).toBe(2);
  });
});

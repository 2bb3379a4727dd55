// File-path sources (node:fs/promises, imported dynamically) under Deno and Bun, through their entries.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = new URL("../", import.meta.url).pathname;
const script = join(root, "test", "scripts", "load-model.mjs");
const bin = (name: string) => join(root, "test", "node_modules", ".bin", name);

describe.each([
  ["deno", [bin("deno"), ["run", "--allow-read", script]]],
  ["bun", [bin("bun"), [script]]],
] as const)("%s", (_, [cmd, args]) => {
  it("reads GGUF files by path and loads the demo model", async () => {
    const { stdout } = await run(cmd, [...args], { cwd: root, env: { ...process.env, NO_COLOR: "1" } });
    expect(JSON.parse(stdout.trim().split("\n").pop()!)).toEqual({
      tensors: ["token_embd.weight", "position_embd.weight"],
      dim: 100,
      answer: "queen",
    });
  });
});

// Bun: the example resolves "bitembed" through the `bun` condition to build/bun.js (Bun.file reads the wasm).
import { describe, expect, it } from "vitest";
import { built, expectSmoke, parseResult, run, tool } from "./harness.js";

describe("runtime: bun", () => {
  it("runs the smoke checks on build/bun.js via the `bun` condition", async () => {
    const bun = tool("bun");
    built("build/bun.js");
    const result = parseResult(await run(bun, ["examples/bun/smoke.js"]));
    expect(result.entry).toMatch(/\/build\/bun\.js$/);
    expect(result.runtime).toMatch(/^bun 1\./);
    expect(result.relaxedSimd).toBe(true);
    expectSmoke(result);
  });
});

// Deno: `deno run` on the example resolves "bitembed" through the `deno` condition to build/deno.js,
// which needs read permission for the packaged wasm only; the inline entry needs no permission at all.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { built, expectSmoke, parseResult, root, run, tool } from "./harness.js";

const flags = ["run", "--no-prompt", "--no-lock", "--quiet"];

describe("runtime: deno", () => {
  it("runs the smoke checks on build/deno.js with read access to build/ only", async () => {
    const deno = tool("deno");
    built("build/deno.js");
    const args = [...flags, `--allow-read=${join(root, "build")}`, "examples/deno/smoke.js"];
    const result = parseResult(await run(deno, args));
    expect(result.entry).toMatch(/\/build\/deno\.js$/);
    expect(result.runtime).toMatch(/^deno 2\./);
    expect(result.relaxedSimd).toBe(true); // Deno's V8 has relaxed SIMD: the relaxed build beside deno.js
    expectSmoke(result);
  });

  it("runs the smoke checks on bitembed/inline with no permissions", async () => {
    const deno = tool("deno");
    built("build/inline.js");
    const result = parseResult(await run(deno, [...flags, "examples/deno/inline.js"]));
    expect(result.entry).toMatch(/\/build\/inline\.js$/);
    expect(result.relaxedSimd).toBe(false); // the inline entry embeds the baseline build only
    expectSmoke(result);
  });
});

// Node: the example script, run as users run it, resolves "bitembed" through package.json `exports`
// (the "node" condition: build/node.js) and the inline entry (wasm embedded: build/inline.js).
import { describe, expect, it } from "vitest";
import { hasRelaxedSimd } from "../../src/core/runtime.js";
import { built, expectSmoke, parseResult, run } from "./harness.js";
import { RELAXED_FLAGS } from "../helpers/node-flags.js";

describe("runtime: node", () => {
  it("runs the smoke checks on build/node.js via the `node` condition", async () => {
    built("build/node.js");
    const result = parseResult(await run(process.execPath, ["examples/node/smoke.mjs"]));
    expect(result.entry).toMatch(/\/build\/node\.js$/);
    expect(result.relaxedSimd).toBe(hasRelaxedSimd()); // Node >= 22: the relaxed build
    expectSmoke(result);
  });

  it("loads the relaxed-SIMD build where the engine has it (Node 20: behind a flag), with the same results", async () => {
    const result = parseResult(await run(process.execPath, [...RELAXED_FLAGS, "examples/node/smoke.mjs"]));
    expect(result.relaxedSimd).toBe(true);
    expectSmoke(result);
  });

  it("runs the smoke checks on bitembed/inline (build/inline.js, wasm embedded)", async () => {
    built("build/inline.js");
    const result = parseResult(await run(process.execPath, ["examples/node/smoke.mjs", "bitembed/inline"]));
    expect(result.entry).toMatch(/\/build\/inline\.js$/);
    expect(result.relaxedSimd).toBe(false);
    expectSmoke(result);
  });
});

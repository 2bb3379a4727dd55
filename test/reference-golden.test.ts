// Judging the judges: every format's plain reference (test/reference/formats/) reproduces ggml's golden bytes
// and values (test/fixtures/ggml/, or bonsai2/ for the formats ggml lacks; 64 rows x 2048, edge rows 0-7 included). JS alone, so it runs once, not
// per wasm build.
import { describe, expect, it } from "vitest";
import { FORMATS, FORMAT_NAMES, type Format } from "../src/index.js";
import { expectSameBits, expectSameBytes } from "./helpers/close.js";
import { goldenBytes, goldenF32 } from "./helpers/golden.js";
import { REFERENCES } from "./reference/formats/index.js";

const V = 64;
const D = 2048;
// what rows 0-7 of the golden table hold (test/fixtures/ggml/README.md), for failure messages
const EDGE_ROWS = ["zeros", "all 0.5", "one outlier", "subnormals", "alternating", "negative", "x 1e4", "beyond f16"];

const bytesOf = (name: string) => goldenBytes(`gauss2048.${name}`);
const f32Of = (name: string) => goldenF32(`gauss2048.${name}`);

describe.each(FORMAT_NAMES)("%s reference against ggml's golden files", (format: Format) => {
  const info = FORMATS[format];
  const ref = REFERENCES[format];
  const rowBytes = (D / info.blockElems) * info.blockBytes;

  it("the registry's block agrees with the reference and with ggml's file", () => {
    expect(ref.quantize(new Float32Array(info.blockElems)).length).toBe(info.blockBytes);
    expect(ref.dequantize(new Uint8Array(info.blockBytes)).length).toBe(info.blockElems);
    expect(bytesOf(`${format}.bin`).length).toBe(V * rowBytes);
  });

  it("quantizes to ggml's bytes and dequantizes to ggml's values, every row", () => {
    const gold = bytesOf(`${format}.bin`);
    expectSameBytes(ref.quantize(f32Of("f32")), gold, rowBytes, `reference bytes (rows 0-7: ${EDGE_ROWS.join(", ")})`);
    expectSameBits(ref.dequantize(gold), f32Of(`${format}.deq.f32`), "reference deq");
  });
});

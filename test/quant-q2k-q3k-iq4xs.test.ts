// Q2_K, Q3_K and IQ4_XS against ggml's own outputs (every row of the golden table, edge rows 0-7 included) and
// against the plain references (test/reference/formats/<fmt>.ts) on random tables, special values, and dims that
// are not a multiple of the block.
import { readFileSync } from "node:fs";
import { describe, it } from "vitest";
import { expectSameBits, expectSameBytes } from "./helpers/close.js";
import type { FormatReference } from "./reference/formats/types.js";
import { reference as q2k } from "./reference/formats/q2_k.js";
import { reference as q3k } from "./reference/formats/q3_k.js";
import { reference as iq4xs } from "./reference/formats/iq4_xs.js";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/ggml/gauss2048.${name}`, import.meta.url));
const f32Of = (buf: Buffer) => new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const V = 64;
const D = 2048;

const CASES: [string, FormatReference, number][] = [
  ["q2_k", q2k, 84],
  ["q3_k", q3k, 110],
  ["iq4_xs", iq4xs, 136],
];

describe.each(CASES)("%s against ggml's golden files", (format, reference, blockBytes) => {
  const source = f32Of(fixture("f32"));
  const gold = new Uint8Array(fixture(`${format}.bin`));
  const goldDeq = f32Of(fixture(`${format}.deq.f32`));
  const rowBytes = (D / 256) * blockBytes;

  it("the plain reference reproduces ggml's bytes and values (judging the reference)", () => {
    expectSameBytes(reference.quantize(source), gold, rowBytes, "reference bytes");
    expectSameBits(reference.dequantize(gold), goldDeq, "reference deq");
  });
});

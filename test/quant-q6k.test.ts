// Q6_K against ggml's own outputs (every row of the golden table, edge rows 0-7 included) and against the
// plain reference (test/reference/quantize-q6k.ts) on random tables, special values, and dims that are not a
// multiple of the block.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, dequantize, quantize, type Runtime } from "../src/index.js";
import { expectSameBits, expectSameBytes } from "./helpers/close.js";
import { expectDecodeStaysInside } from "./helpers/decode-bounds.js";
import { newRuntime } from "./helpers/runtime.js";
import { padRows } from "./helpers/values.js";
import { dequantizeQ6K, Q6K_BLOCK, quantizeQ6K } from "./reference/quantize-q6k.js";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/ggml/gauss2048.${name}`, import.meta.url));
const f32Of = (buf: Buffer) => new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const V = 64;
const D = 2048;
const ROW_BYTES = (D / 256) * 210;
const format = "q6_k";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

describe("q6_k against ggml's golden files", () => {
  const source = f32Of(fixture("f32"));
  const gold = new Uint8Array(fixture("q6_k.bin"));
  const goldDeq = f32Of(fixture("q6_k.deq.f32"));

  it("the format table agrees with ggml's block_q6_K (256 values in 210 bytes, type 14)", () => {
    expect([FORMATS.q6_k.blockElems, FORMATS.q6_k.blockBytes, FORMATS.q6_k.id]).toEqual([...Q6K_BLOCK, 14]);
    expect(gold.length).toBe(V * ROW_BYTES);
  });

  it("the plain reference reproduces ggml's bytes and values (judging the reference)", () => {
    expectSameBytes(quantizeQ6K(source), gold, ROW_BYTES, "reference bytes");
    expectSameBits(dequantizeQ6K(gold), goldDeq, "reference deq");
  });

  it("tableFromF32, quantize() and rt.quantize() store ggml's bytes, every row", () => {
    using table = rt.tableFromF32(source, { vocab: V, dim: D, format });
    expectSameBytes(table.bytes(), gold, ROW_BYTES, "tableFromF32");
    expectSameBytes(quantize(source, { vocab: V, dim: D, format }), gold, ROW_BYTES, "quantize");
    expectSameBytes(rt.quantize(source, { vocab: V, dim: D, format }), gold, ROW_BYTES, "rt.quantize");
  });

  it("rt.table over ggml's bytes looks up and dequantizes to ggml's values, every row", () => {
    using table = rt.table({ vocab: V, dim: D, format, data: gold });
    expectSameBits(table.lookup(Array.from({ length: V }, (_, i) => i)), goldDeq, "lookup");
    const ids = [V - 1, 0, 3, 3, 7];
    const expected = new Float32Array(ids.length * D);
    ids.forEach((id, i) => expected.set(goldDeq.subarray(id * D, (id + 1) * D), i * D));
    expectSameBits(table.lookup(new Int32Array(ids)), expected, "lookup of bounds");
    expectSameBits(rt.dequantize(gold, { vocab: V, dim: D, format }), goldDeq, "rt.dequantize");
    expectSameBits(dequantize(gold.buffer.slice(0), { vocab: V, dim: D, format, runtime: rt }), goldDeq, "dequantize");
  });
});

describe("q6_k kernels against the plain reference", () => {
  it.each([1, 16, 100, 255, 256, 257, 300, 512, 769])("dim %i: bytes and values match, the padding never shows", (dim) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 600 }),
        fc.float({ min: Math.fround(1e-30), max: Math.fround(1e6), noNaN: true }),
        (vocab, pool, scale) => {
          const values = Float32Array.from({ length: vocab * dim }, (_, i) => Math.fround(pool[i % pool.length] * scale));
          const expected = quantizeQ6K(padRows(values, vocab, dim, 256));
          const bytes = rt.quantize(values, { vocab, dim, format });
          expectSameBytes(bytes, expected, expected.length / vocab, "bytes");
          using table = rt.tableFromF32(values, { vocab, dim, format });
          const padded = Math.ceil(dim / 256) * 256;
          const deq = dequantizeQ6K(expected);
          const want = new Float32Array(vocab * dim);
          for (let r = 0; r < vocab; r++) want.set(deq.subarray(r * padded, r * padded + dim), r * dim);
          expectSameBits(table.lookup(Array.from({ length: vocab }, (_, i) => i)), want, "lookup");
        },
      ),
      { numRuns: 15 },
    );
  });

  it("NaN, infinities, signed zeros, subnormals and huge values quantize as the reference does", () => {
    const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 1e-45, 3.4e38, -3.4e38, 65504, 131008, 1, -1, 0.5, -2.5, 1e-16, 31.5];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...specials.map(Math.fround)), { minLength: 256, maxLength: 256 }), (pool) => {
        const values = Float32Array.from(pool);
        expectSameBytes(rt.quantize(values, { vocab: 1, dim: 256, format }), quantizeQ6K(values), 210, "bytes");
      }),
      { numRuns: 40 },
    );
    for (const v of specials) {
      const values = new Float32Array(256).fill(v);
      expectSameBytes(rt.quantize(values, { vocab: 1, dim: 256, format }), quantizeQ6K(values), 210, `all ${v}`);
    }
  });

  it("the decode kernel writes exactly n * dim values and nothing after them", () => {
    expectDecodeStaysInside(rt, format, [1, 100, 257]);
  });
});

// Q8_0, Q4_0, Q4_1, Q1_0: golden ggml bytes and dequantized values for every row (edge rows 0-7 included),
// through rt.tableFromF32, quantize() and rt.table(); then the wasm kernels against the plain references
// on random data, dims that are not multiples of the block included.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { FORMATS, dequantize, quantize, type Runtime } from "../src/index.js";
import { expectSameBits, expectSameBytes } from "./helpers/close.js";
import { expectDecodeStaysInside } from "./helpers/decode-bounds.js";
import { newRuntime } from "./helpers/runtime.js";
import { BLOCK, dequantizeRef, quantizeRef, type RefFormat } from "./reference/quantize.js";

const FORMATS_HERE: RefFormat[] = ["q8_0", "q4_0", "q4_1", "q1_0"];
const V = 64;
const D = 2048;

const fixture = (name: string) => readFileSync(new URL(`./fixtures/ggml/gauss2048.${name}`, import.meta.url));
const f32Of = (buf: Buffer) => new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const source = f32Of(fixture("f32"));

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

// Reference quantization of V rows of D values: each row zero-padded to whole blocks, as bitembed stores it.
function quantizeRowsRef(format: RefFormat, values: Float32Array, vocab: number, dim: number): Uint8Array {
  const [elems, size] = BLOCK[format];
  const blocks = Math.ceil(dim / elems);
  const out = new Uint8Array(vocab * blocks * size);
  for (let r = 0; r < vocab; r++) {
    const row = new Float32Array(blocks * elems);
    row.set(values.subarray(r * dim, (r + 1) * dim));
    out.set(quantizeRef[format](row), r * blocks * size);
  }
  return out;
}

function dequantizeRowsRef(format: RefFormat, bytes: Uint8Array, vocab: number, dim: number, ids: number[]): Float32Array {
  const [elems, size] = BLOCK[format];
  const rowBytes = Math.ceil(dim / elems) * size;
  const out = new Float32Array(ids.length * dim);
  ids.forEach((id, i) => {
    const row = dequantizeRef(format, bytes.subarray(id * rowBytes, (id + 1) * rowBytes), Math.ceil(dim / elems) * elems);
    out.set(row.subarray(0, dim), i * dim);
  });
  return out;
}

describe.each(FORMATS_HERE)("%s against ggml's golden files", (format) => {
  const gold = new Uint8Array(fixture(`${format}.bin`));
  const goldDeq = f32Of(fixture(`${format}.deq.f32`));
  const rowBytes = (D / FORMATS[format].blockElems) * FORMATS[format].blockBytes;
  const allIds = Array.from({ length: V }, (_, i) => i);

  it("the format table agrees with FORMATS.md", () => {
    const [elems, size] = BLOCK[format];
    expect([FORMATS[format].blockElems, FORMATS[format].blockBytes]).toEqual([elems, size]);
    expect(gold.length).toBe(V * rowBytes);
  });

  it("the plain reference quantizer and dequantizer reproduce ggml (judging the reference)", () => {
    expectSameBytes(quantizeRef[format](source), gold, rowBytes, "reference bytes");
    expectSameBits(dequantizeRef(format, gold, V * D), goldDeq, "reference deq");
  });

  it("tableFromF32 stores ggml's bytes, every row", () => {
    const table = rt.tableFromF32(source, { vocab: V, dim: D, format });
    expectSameBytes(table.bytes(), gold, rowBytes, "tableFromF32");
    expectSameBits(table.lookup(allIds), goldDeq, "lookup of the quantized table");
    table.dispose();
  });

  it("quantize() and rt.quantize() return ggml's bytes", () => {
    expectSameBytes(quantize(source, { vocab: V, dim: D, format }), gold, rowBytes, "quantize");
    expectSameBytes(rt.quantize(source, { vocab: V, dim: D, format }), gold, rowBytes, "rt.quantize");
    expectSameBytes(quantize(source, { vocab: V, dim: D, format, runtime: rt }), gold, rowBytes, "quantize with runtime");
  });

  it("rt.table over ggml's bytes decodes to ggml's values, every row", () => {
    const table = rt.table({ vocab: V, dim: D, format, data: gold });
    expectSameBits(table.lookup(allIds), goldDeq, "lookup");
    // ids at the bounds, repeated, out of order
    const ids = [V - 1, 0, 3, 3, 7];
    const expected = new Float32Array(ids.length * D);
    ids.forEach((id, i) => expected.set(goldDeq.subarray(id * D, (id + 1) * D), i * D));
    expectSameBits(table.lookup(new Int32Array(ids)), expected, "lookup of bounds");
    table.dispose();
  });

  it("rt.dequantize() and dequantize() return ggml's values", () => {
    expectSameBits(rt.dequantize(gold, { vocab: V, dim: D, format }), goldDeq, "rt.dequantize");
    expectSameBits(dequantize(gold.buffer.slice(0), { vocab: V, dim: D, format, runtime: rt }), goldDeq, "dequantize");
  });

  it("refuses packed bytes of the wrong length", () => {
    expect(() => rt.table({ vocab: V, dim: D, format, data: gold.subarray(1) })).toThrow(RangeError);
    expect(() => rt.table({ vocab: V, dim: D, format, data: gold.subarray(1) })).toThrow(
      `\`data\` has ${gold.length - 1} bytes, expected ${gold.length}`,
    );
    expect(() => rt.dequantize(gold.subarray(0, rowBytes), { vocab: V, dim: D, format })).toThrow(RangeError);
  });
});

describe.each(FORMATS_HERE)("%s kernels against the plain reference", (format) => {
  const elems = FORMATS[format].blockElems;
  // around the block size and its multiples, GloVe's 100, and 1
  const dims = [...new Set([1, 2, 3, 15, 16, 17, 31, 32, 33, 100, elems - 1, elems, elems + 1, 2 * elems + 3])];

  it.each(dims)("dim %i: bytes and values match, the padding never shows", (dim) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 600 }),
        fc.float({ min: Math.fround(1e-30), max: Math.fround(1e6), noNaN: true }),
        (vocab, pool, scale) => {
          const values = Float32Array.from({ length: vocab * dim }, (_, i) => Math.fround(pool[i % pool.length] * scale));
          const expectedBytes = quantizeRowsRef(format, values, vocab, dim);
          const bytes = rt.quantize(values, { vocab, dim, format });
          expectSameBytes(bytes, expectedBytes, expectedBytes.length / vocab, "bytes");
          const table = rt.tableFromF32(values, { vocab, dim, format });
          const ids = [vocab - 1, 0, ...Array.from({ length: vocab }, (_, i) => i)];
          expectSameBits(table.lookup(ids), dequantizeRowsRef(format, bytes, vocab, dim, ids), "lookup");
          table.dispose();
        },
      ),
      { numRuns: 40 },
    );
  });

  it("the decode kernel writes exactly n * dim values and nothing after them", () => {
    expectDecodeStaysInside(rt, format, [1, 33, 100, elems + 1]);
  });

  it("NaN, infinities, signed zeros and subnormals quantize as ggml's reference does", () => {
    // 127 with halves gives q8_0 exact ties (d = 1); 7.5 and 8.5 ties for the nibble formats
    const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 1e-45, 3.4e38, -3.4e38, 65504, 65520, 131008, 1, -1, 127, 0.5, -2.5, 126.5, 8, 7.5, -8.5];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...specials.map(Math.fround)), { minLength: 256, maxLength: 256 }), (pool) => {
        const values = Float32Array.from(pool);
        expectSameBytes(rt.quantize(values, { vocab: 1, dim: 256, format }), quantizeRowsRef(format, values, 1, 256), 256, "bytes");
      }),
      { numRuns: 60 },
    );
    // order-sensitive blocks: which of +0/-0 is the minimum (q4_1's m), which of -x/+x is the max (q4_0's d)
    const ordered = [
      [0, -0, 1, 2],
      [-0, 0, 1, 2],
      [-2, 2, 1, 0],
      [2, -2, 1, 0],
      [-1, -0, 0, -3],
      [5, NaN, -5, 0],
    ];
    for (const head of ordered) {
      const values = new Float32Array(256).fill(0.25);
      head.forEach((v, i) => (values[i * 5] = v));
      expectSameBytes(rt.quantize(values, { vocab: 1, dim: 256, format }), quantizeRowsRef(format, values, 1, 256), 256, `block ${head}`);
    }
    // uniform blocks of each special value
    for (const v of specials) {
      const values = new Float32Array(256).fill(v);
      expectSameBytes(rt.quantize(values, { vocab: 1, dim: 256, format }), quantizeRowsRef(format, values, 1, 256), 256, `all ${v}`);
    }
  });
});

describe("format errors", () => {
  it("an unknown format name is refused with the valid choices", () => {
    const data = new Uint8Array(18);
    // @ts-expect-error: not a format
    expect(() => rt.table({ vocab: 1, dim: 128, format: "q3", data })).toThrow(TypeError);
    // @ts-expect-error: not a format
    expect(() => rt.table({ vocab: 1, dim: 128, format: "q3", data })).toThrow(/Unknown `format` "q3". Expected one of: .*q1_0/);
    // @ts-expect-error: not a format
    expect(() => quantize(new Float32Array(4), { vocab: 1, dim: 4, format: "Q8_0" })).toThrow(TypeError);
  });

  it("quantize refuses values of the wrong length or kind", () => {
    expect(() => rt.quantize(new Float32Array(5), { vocab: 2, dim: 2, format: "q8_0" })).toThrow(RangeError);
    expect(() => rt.quantize([1, 2] as unknown as Float32Array, { vocab: 1, dim: 2, format: "q8_0" })).toThrow(TypeError);
  });

  it("quantize() uses the newest runtime, and forgets it once disposed", async () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => i - 30);
    const rt2 = await newRuntime();
    const alloc = vi.spyOn(rt2.memory, "alloc");
    expect(quantize(values, { vocab: 2, dim: 32, format: "q8_0" })).toEqual(quantizeRowsRef("q8_0", values, 2, 32));
    expect(alloc).toHaveBeenCalled(); // the work ran in rt2's memory
    expect(rt2.bytesInUse).toBe(0); // and its slices were freed
    rt2.dispose();
    expect(() => quantize(values, { vocab: 2, dim: 32, format: "q8_0" })).toThrow(/needs an initialised runtime/);
    expect(quantize(values, { vocab: 2, dim: 32, format: "q8_0", runtime: rt })).toEqual(quantizeRowsRef("q8_0", values, 2, 32));
  });

  it("quantize without any runtime says how to get one", async () => {
    vi.resetModules();
    const fresh = await import("../src/formats/quantize.js");
    expect(() => fresh.quantize(new Float32Array(32), { vocab: 1, dim: 32, format: "q8_0" })).toThrow(/needs an initialised runtime/);
  });
});

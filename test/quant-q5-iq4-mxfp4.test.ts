// Q5_0, Q5_1, IQ4_NL and MXFP4 against ggml's own outputs (every row of the golden table, edge rows 0-7
// included) and against their plain references (test/reference/formats/) on random tables, special values,
// the formats' own boundaries (the levels' midpoints, the powers of two where MXFP4's exponent steps) and
// dims that are not a multiple of the block.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, dequantize, loadEmbeddingModel, quantize, readGGUF, type Runtime } from "../src/index.js";
import { expectSameBits, expectSameBytes } from "./helpers/close.js";
import { expectDecodeStaysInside } from "./helpers/decode-bounds.js";
import { newRuntime } from "./helpers/runtime.js";
import { padRows } from "./helpers/values.js";
import { KVALUES, reference as iq4_nl } from "./reference/formats/iq4_nl.js";
import { e8m0Half, reference as mxfp4, sharedExponent } from "./reference/formats/mxfp4.js";
import { reference as q5_0 } from "./reference/formats/q5_0.js";
import { reference as q5_1 } from "./reference/formats/q5_1.js";
import type { FormatReference } from "./reference/formats/types.js";

const REFERENCES = { q5_0, q5_1, iq4_nl, mxfp4 } satisfies Record<string, FormatReference>;
type Here = keyof typeof REFERENCES;
const HERE = Object.keys(REFERENCES) as Here[];
// ggml's type id, block elements and block bytes (ggml-common.h, ggml.c type_traits)
const GGML: Record<Here, [number, number, number]> = { q5_0: [6, 32, 22], q5_1: [7, 32, 24], iq4_nl: [20, 32, 18], mxfp4: [39, 32, 17] };

const fixtureUrl = (name: string) => new URL(`./fixtures/ggml/gauss2048.${name}`, import.meta.url);
const fixture = (name: string) => readFileSync(fixtureUrl(name));
const f32Of = (buf: Buffer) => new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const V = 64;
const D = 2048;
const source = f32Of(fixture("f32"));
const allIds = Array.from({ length: V }, (_, i) => i);
const tmp = mkdtempSync(join(tmpdir(), "bitembed-q5-"));

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

/** The reference's bytes for V rows of D values, each row zero-padded to whole blocks as a table stores it. */
function referenceBytes(format: Here, values: Float32Array, vocab: number, dim: number): Uint8Array {
  return REFERENCES[format].quantize(padRows(values, vocab, dim, 32));
}

/** The reference's values of rows `ids` of packed rows of dim D (the padding dropped). */
function referenceRows(format: Here, bytes: Uint8Array, dim: number, ids: number[]): Float32Array {
  const blocks = Math.ceil(dim / 32);
  const rowBytes = blocks * FORMATS[format].blockBytes;
  const out = new Float32Array(ids.length * dim);
  ids.forEach((id, i) => {
    const row = REFERENCES[format].dequantize(bytes.subarray(id * rowBytes, (id + 1) * rowBytes));
    out.set(row.subarray(0, dim), i * dim);
  });
  return out;
}

describe.each(HERE)("%s against ggml's golden files", (format) => {
  const gold = new Uint8Array(fixture(`${format}.bin`));
  const goldDeq = f32Of(fixture(`${format}.deq.f32`));
  const rowBytes = (D / 32) * FORMATS[format].blockBytes;

  it("the registry agrees with ggml's type traits", () => {
    const { id, blockElems, blockBytes } = FORMATS[format];
    expect([id, blockElems, blockBytes]).toEqual(GGML[format]);
    expect(gold.length).toBe(V * rowBytes);
  });

  it("the plain reference reproduces ggml's bytes and values (judging the reference)", () => {
    expectSameBytes(REFERENCES[format].quantize(source), gold, rowBytes, "reference bytes");
    expectSameBits(REFERENCES[format].dequantize(gold), goldDeq, "reference deq");
  });

  it("tableFromF32, quantize() and rt.quantize() store ggml's bytes, every row", () => {
    using table = rt.tableFromF32(source, { vocab: V, dim: D, format });
    expectSameBytes(table.bytes(), gold, rowBytes, "tableFromF32");
    expectSameBytes(quantize(source, { vocab: V, dim: D, format, runtime: rt }), gold, rowBytes, "quantize");
    expectSameBytes(rt.quantize(source, { vocab: V, dim: D, format }), gold, rowBytes, "rt.quantize");
  });

  it("rt.table over ggml's bytes looks up and dequantizes to ggml's values, every row", () => {
    using table = rt.table({ vocab: V, dim: D, format, data: gold });
    expectSameBits(table.lookup(allIds), goldDeq, "lookup");
    // ids at the bounds, repeated, out of order; then straight into wasm memory
    const ids = [V - 1, 0, 3, 3, 7];
    const expected = new Float32Array(ids.length * D);
    ids.forEach((id, i) => expected.set(goldDeq.subarray(id * D, (id + 1) * D), i * D));
    expectSameBits(table.lookup(new Int32Array(ids)), expected, "lookup of bounds");
    using buffer = rt.f32Buffer(ids.length * D);
    expectSameBits(table.lookup(ids, buffer).slice(), expected, "lookup into an F32Buffer");
    expectSameBits(rt.dequantize(gold, { vocab: V, dim: D, format }), goldDeq, "rt.dequantize");
    expectSameBits(dequantize(gold.buffer.slice(0), { vocab: V, dim: D, format, runtime: rt }), goldDeq, "dequantize");
  });
});

describe.each(HERE)("%s golden GGUF and model loading", (format) => {
  const goldDeq = f32Of(fixture(`${format}.deq.f32`));

  it("loadEmbeddingModel reads ggml's file: token table, tied head, positions", async () => {
    const m = await loadEmbeddingModel(rt, fixtureUrl(`${format}.gguf`).pathname);
    expect([m.tokens.vocab, m.tokens.dim, m.tokens.format, m.tied]).toEqual([V, D, format, true]);
    expect([m.positions?.vocab, m.positions?.dim, m.positions?.format]).toEqual([16, D, "f32"]);
    expectSameBits(m.tokens.lookup(allIds), goldDeq, "token_embd");
    m.dispose();
  });

  it("the CLI converts the f32 GGUF to ggml's bytes", async () => {
    const out = join(tmp, `${format}.gguf`);
    const cli = new URL("../build/cli.js", import.meta.url).pathname;
    await promisify(execFile)(process.execPath, [cli, "convert", fixtureUrl("f32.gguf").pathname, out, "--format", format]);
    const g = await readGGUF(out);
    expect(g.tensor("token_embd.weight").typeName).toBe(format);
    expectSameBytes(new Uint8Array(await g.readTensor("token_embd.weight")), new Uint8Array(fixture(`${format}.bin`)), (D / 32) * FORMATS[format].blockBytes, "converted");
  });
});

describe("the golden edge rows say what each format does with them", () => {
  const deq = (format: Here, row: number) => f32Of(fixture(`${format}.deq.f32`)).subarray(row * D, (row + 1) * D);
  it("131008 (row 7, beyond f16): mxfp4 saturates to 98304, q5_0 keeps it, q5_1's f16 minimum overflows", () => {
    expect(new Set(deq("mxfp4", 7))).toEqual(new Set([98304]));
    expect(new Set(deq("q5_0", 7))).toEqual(new Set([131008]));
    expect(deq("q5_1", 7).every((v) => !Number.isFinite(v))).toBe(true);
    // iq4_nl's scale 131008 / 113 * ... stays in f16: the row comes back within a level step
    expect(deq("iq4_nl", 7).every((v) => Math.abs(v - 131008) < 131008 * 0.02)).toBe(true);
  });

  it("zeros and subnormals (rows 0 and 3) decode to zeros; the 1000 spike (row 2) survives but in mxfp4", () => {
    for (const format of HERE) {
      for (const row of [0, 3]) expect(deq(format, row).every((v) => v === 0), `${format} row ${row}`).toBe(true);
      if (format !== "mxfp4") expect(Math.abs(deq(format, 2)[77] - 1000), format).toBeLessThan(1000 * 0.02);
    }
    // mxfp4's largest level is 6 * 2^(floor(log2 amax) - 2): 768 for 1000, as for anything in [768, 1024)
    expect(deq("mxfp4", 2)[77]).toBe(768);
    // an all-subnormal block: mxfp4's exponent byte wraps around as ggml's x86 conversion does
    expect(new Uint8Array(fixture("mxfp4.bin"))[3 * (D / 32) * 17]).toBe(248);
    expect(sharedExponent(Math.fround(1e-40))).toBe(248);
  });
});

// Which NaN comes out where two meet (q5_1's 0 * inf + a NaN minimum) is the engine's choice (wasm leaves it
// open, and so does JavaScript for the reference): such comparisons take every NaN as one.
const anyNaN = (values: Float32Array) => values.map((v) => (Number.isNaN(v) ? NaN : v));

describe.each(HERE)("%s kernels against the plain reference", (format) => {
  it.each([1, 2, 15, 16, 17, 31, 32, 33, 100, 127, 128, 129, 257])("dim %i: bytes and values match, the padding never shows", (dim) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 600 }),
        fc.float({ min: Math.fround(1e-30), max: Math.fround(1e6), noNaN: true }),
        (vocab, pool, scale) => {
          const values = Float32Array.from({ length: vocab * dim }, (_, i) => Math.fround(pool[i % pool.length] * scale));
          const expected = referenceBytes(format, values, vocab, dim);
          expectSameBytes(rt.quantize(values, { vocab, dim, format }), expected, expected.length / vocab, "bytes");
          using table = rt.tableFromF32(values, { vocab, dim, format });
          const ids = [vocab - 1, 0, ...Array.from({ length: vocab }, (_, i) => i)];
          expectSameBits(table.lookup(ids), referenceRows(format, expected, dim, ids), "lookup");
        },
      ),
      { numRuns: 25 },
    );
  });

  it("NaN, infinities, signed zeros, subnormals and huge values quantize as the reference does", () => {
    const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 1e-45, 6e-39, 3.4e38, -3.4e38, 65504, 65520, 131008, 1, -1, 0.5, -2.5, 16, 15.5, -16.5, 31, 12, 6, 1e-16];
    const block = (pool: number[]) => Float32Array.from(pool);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...specials.map(Math.fround)), { minLength: 128, maxLength: 128 }), (pool) => {
        const values = block(pool);
        expectSameBytes(rt.quantize(values, { vocab: 1, dim: 128, format }), REFERENCES[format].quantize(values), FORMATS[format].blockBytes, "bytes");
      }),
      { numRuns: 80 },
    );
    // order-sensitive blocks: which of -x/+x is the largest magnitude, which zero is the minimum
    for (const head of [[0, -0, 1, 2], [-0, 0, 1, 2], [-2, 2, 1, 0], [2, -2, 1, 0], [-1, -0, 0, -3], [5, NaN, -5, 0]]) {
      const values = new Float32Array(32).fill(0.25);
      head.forEach((v, i) => (values[i * 5] = v));
      expectSameBytes(rt.quantize(values, { vocab: 1, dim: 32, format }), REFERENCES[format].quantize(values), FORMATS[format].blockBytes, `block ${head}`);
    }
    for (const v of specials) {
      const values = new Float32Array(32).fill(v);
      expectSameBytes(rt.quantize(values, { vocab: 1, dim: 32, format }), REFERENCES[format].quantize(values), FORMATS[format].blockBytes, `all ${v}`);
    }
  });

  it("decodes every code in every position: all byte values, the scale's special values", () => {
    // random blocks of bytes, the scale field overwritten with zeros, subnormals, inf and NaN
    const bytesPerBlock = FORMATS[format].blockBytes;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8 * bytesPerBlock, maxLength: 8 * bytesPerBlock }), fc.constantFrom(0, 1, 0x3ff, 0x7bff, 0x7c00, 0xfc00, 0x7e01, 0x8001), (data, half) => {
        if (format !== "mxfp4") for (let b = 0; b < 8; b += 3) data[b * bytesPerBlock] = half & 255, data[b * bytesPerBlock + 1] = half >> 8;
        else for (let b = 0; b < 8; b += 3) data[b * bytesPerBlock] = half & 255;
        using table = rt.table({ vocab: 2, dim: 128, format, data });
        expectSameBits(anyNaN(table.lookup([0, 1, 1])), anyNaN(referenceRows(format, data, 128, [0, 1, 1])), "lookup");
        using shorter = rt.table({ vocab: 2, dim: 100, format, data });
        expectSameBits(anyNaN(shorter.lookup([1, 0])), anyNaN(referenceRows(format, data, 100, [1, 0])), "lookup of dim 100");
      }),
      { numRuns: 40 },
    );
  });

  it("the decode kernel writes exactly n * dim values and nothing after them", () => {
    expectDecodeStaysInside(rt, format, [1, 33, 100]);
  });
});

describe("format boundaries", () => {
  it("iq4_nl: values at, around and between its levels' midpoints for many scales, ties included", () => {
    const mids = KVALUES.slice(1).map((v, k) => (v + KVALUES[k]) / 2);
    const points = [...KVALUES, ...mids].flatMap((p) => [p, p + 0.25, p - 0.25, Math.fround(p * (1 + 2 ** -23)), Math.fround(p * (1 - 2 ** -23))]);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...points), { minLength: 32, maxLength: 128 }), fc.constantFrom(1, 0.5, 1 / 127, 3, 1e-3, 1e5), (pool, s) => {
        const values = Float32Array.from({ length: 128 }, (_, i) => Math.fround(pool[i % pool.length] * s));
        expectSameBytes(rt.quantize(values, { vocab: 1, dim: 128, format: "iq4_nl" }), iq4_nl.quantize(values), FORMATS.iq4_nl.blockBytes, "bytes");
      }),
      { numRuns: 100 },
    );
  });

  it("mxfp4: block maxima at and just below every power of two (where floorf(log2f) steps), and ties between levels", () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const values: number[] = [];
    for (let e = 1; e < 255; e++) {
      for (const below of [0, 1, 2, 5, 17, 40]) {
        u[0] = ((e << 23) >>> 0) - below;
        const amax = f[0];
        // the block's largest value, then the levels times the block's scale and the midpoints between them
        const d = e8m0Half(sharedExponent(amax));
        const block = [amax, -amax, ...[0.5, 1, 1.5, 2.5, 3, 3.5, 5, 7, 10, 0.25, 1e-3].flatMap((k) => [k * d, -k * d])];
        while (block.length < 32) block.push(amax / 3);
        values.push(...block.slice(0, 32));
      }
    }
    const x = Float32Array.from(values);
    expectSameBytes(rt.quantize(x, { vocab: 1, dim: x.length, format: "mxfp4" }), mxfp4.quantize(x), 17, "bytes");
    // the exponent is ggml's: just below 16 (and a few more ulps) log2f already gives 4
    u[0] = 0x41800000 - 1;
    expect(sharedExponent(f[0])).toBe(4 - 2 + 127);
    u[0] = 0x41800000 - 2;
    expect(sharedExponent(f[0])).toBe(3 - 2 + 127);
  });
});

// Q4_K and Q5_K against ggml's own outputs (every row of the golden table, edge rows 0-7 included) and against
// the plain references (test/reference/formats/q4_k.ts, q5_k.ts) on random tables, special values and dims
// that are not a multiple of the block; their direct dots against a float64 dot over the decoded row.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, dequantize, quantize, readGGUF, type Runtime } from "../src/index.js";
import { expectSameBits, expectSameBytes } from "./helpers/close.js";
import { expectDecodeStaysInside } from "./helpers/decode-bounds.js";
import { newRuntime } from "./helpers/runtime.js";
import { padRows, randomValues } from "./helpers/values.js";
import { reference as q4k } from "./reference/formats/q4_k.js";
import { reference as q5k } from "./reference/formats/q5_k.js";
import type { FormatReference } from "./reference/formats/types.js";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/ggml/gauss2048.${name}`, import.meta.url));
const f32Of = (buf: Buffer) => new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const V = 64;
const D = 2048;

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

// ggml's numbers (ggml-common.h block_q4_K / block_q5_K, ggml.h enum ggml_type), written out here so the
// registry is checked against them rather than against itself
const CASES = [
  { format: "q4_k", id: 12, blockBytes: 144, ref: q4k },
  { format: "q5_k", id: 13, blockBytes: 176, ref: q5k },
] as const satisfies readonly { format: string; id: number; blockBytes: number; ref: FormatReference }[];

describe.each(CASES)("$format against ggml's golden files", ({ format, id, blockBytes, ref }) => {
  const rowBytes = (D / 256) * blockBytes;
  const source = f32Of(fixture("f32"));
  const gold = new Uint8Array(fixture(`${format}.bin`));
  const goldDeq = f32Of(fixture(`${format}.deq.f32`));

  it("the format table agrees with ggml's block (256 values, type id and bytes)", () => {
    expect([FORMATS[format].blockElems, FORMATS[format].blockBytes, FORMATS[format].id]).toEqual([256, blockBytes, id]);
    expect(gold.length).toBe(V * rowBytes);
  });

  it("the plain reference reproduces ggml's bytes and values (judging the reference)", () => {
    expectSameBytes(ref.quantize(source), gold, rowBytes, "reference bytes");
    expectSameBits(ref.dequantize(gold), goldDeq, "reference deq");
  });

  it("tableFromF32, quantize() and rt.quantize() store ggml's bytes, every row", () => {
    using table = rt.tableFromF32(source, { vocab: V, dim: D, format });
    expectSameBytes(table.bytes(), gold, rowBytes, "tableFromF32");
    expectSameBytes(quantize(source, { vocab: V, dim: D, format }), gold, rowBytes, "quantize");
    expectSameBytes(rt.quantize(source, { vocab: V, dim: D, format }), gold, rowBytes, "rt.quantize");
  });

  it("rt.table over ggml's bytes looks up and dequantizes to ggml's values, every row", () => {
    using table = rt.table({ vocab: V, dim: D, format, data: gold });
    expectSameBits(table.lookup(Array.from({ length: V }, (_, i) => i)), goldDeq, "lookup");
    const ids = [V - 1, 0, 2, 3, 3, 7];
    expectSameBits(table.lookup(new Int32Array(ids)), rowsOf(goldDeq, ids), "lookup of bounds and edge rows");
    using buf = rt.f32Buffer(2 * D);
    expectSameBits(table.lookup([6, 1], buf).slice(), rowsOf(goldDeq, [6, 1]), "lookup into an F32Buffer");
    expectSameBits(rt.dequantize(gold, { vocab: V, dim: D, format }), goldDeq, "rt.dequantize");
    expectSameBits(dequantize(gold.buffer.slice(0), { vocab: V, dim: D, format, runtime: rt }), goldDeq, "dequantize");
  });

  it("the CLI converts the golden f32 GGUF to ggml's bytes", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "bitembed-k-")), `${format}.gguf`);
    const cli = new URL("../build/cli.js", import.meta.url).pathname;
    await promisify(execFile)(process.execPath, [cli, "convert", new URL("./fixtures/ggml/gauss2048.f32.gguf", import.meta.url).pathname, out, "--format", format]);
    const g = await readGGUF(out);
    expect(g.tensor("token_embd.weight").typeName).toBe(format);
    expectSameBytes(await g.readTensor("token_embd.weight"), gold, rowBytes, "convert");
  });

  it("the direct dot of every golden row is within 1e-5 of sum |products| of a float64 dot over ggml's values", () => {
    using table = rt.table({ vocab: V, dim: D, format, data: gold });
    const hidden = f32Of(fixture("hidden.f32"));
    for (let b = 0; b < 4; b++) {
      const x = hidden.subarray(b * D, (b + 1) * D);
      for (let r = 0; r < V; r++) {
        expectDot(rawDot(format, gold.subarray(r * rowBytes, (r + 1) * rowBytes), x), goldDeq.subarray(r * D, (r + 1) * D), x, `row ${r} vector ${b}`);
      }
    }
  });
});

/** The given rows of a V x D table, back to back. */
function rowsOf(values: Float32Array, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * D);
  rows.forEach((r, i) => out.set(values.subarray(r * D, (r + 1) * D), i * D));
  return out;
}

/** dot_<format> on its raw export: one packed row (whole blocks) with x. */
function rawDot(format: string, row: Uint8Array, x: Float32Array): number {
  const mem = rt.memory;
  const rowPtr = mem.alloc(row.length);
  const xPtr = mem.alloc(x.length * 4);
  mem.u8().set(row, rowPtr);
  mem.f32().set(x, xPtr >>> 2);
  const dot = rt.kernels[`dot_${format}`](rowPtr, xPtr, x.length);
  mem.dealloc(rowPtr);
  mem.dealloc(xPtr);
  return dot;
}

/** |got - float64 dot(w, x)| <= 1e-5 sum |w x| (+ the smallest normal, for zero rows): exact mode's tolerance. */
function expectDot(got: number, w: Float32Array, x: Float32Array, label: string): void {
  let sum = 0;
  let magnitude = 0;
  for (let j = 0; j < x.length; j++) {
    sum += w[j] * x[j];
    magnitude += Math.abs(w[j] * x[j]);
  }
  if (Number.isNaN(sum)) expect(got, label).toBeNaN();
  else if (!Number.isFinite(sum)) expect(got, label).toBe(sum);
  else expect(Math.abs(got - sum), `${label}: got ${got}, float64 ${sum}`).toBeLessThanOrEqual(1e-5 * magnitude + 1.2e-38);
}

describe.each(CASES)("$format kernels against the plain reference", ({ format, blockBytes, ref }) => {
  it.each([1, 16, 31, 100, 255, 256, 257, 300, 512, 769])("dim %i: bytes and values match, the padding never shows", (dim) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 600 }),
        fc.float({ min: Math.fround(1e-30), max: Math.fround(1e6), noNaN: true }),
        (vocab, pool, scale) => {
          const values = Float32Array.from({ length: vocab * dim }, (_, i) => Math.fround(pool[i % pool.length] * scale));
          const expected = ref.quantize(padRows(values, vocab, dim, 256));
          const bytes = rt.quantize(values, { vocab, dim, format });
          expectSameBytes(bytes, expected, expected.length / vocab, "bytes");
          using table = rt.tableFromF32(values, { vocab, dim, format });
          const padded = Math.ceil(dim / 256) * 256;
          const deq = ref.dequantize(expected);
          const want = new Float32Array(vocab * dim);
          for (let r = 0; r < vocab; r++) want.set(deq.subarray(r * padded, r * padded + dim), r * dim);
          expectSameBits(table.lookup(Array.from({ length: vocab }, (_, i) => i)), want, "lookup");
        },
      ),
      { numRuns: 12 },
    );
  });

  it("normal data at several scales, and groups far below the block's largest (their scale code rounds to 0)", () => {
    for (const [seed, spread] of [[1, 1], [2, 1e-3], [3, 5e4], [4, 1e-36]] as const) {
      const values = randomValues(8 * 256, seed, spread);
      // block 1: one group 1e4 times larger than the rest; block 2: a single spike; block 3: one positive group
      for (let i = 256; i < 288; i++) values[i] *= 1e4;
      values[512 + 77] = 1000 * spread;
      for (let i = 768; i < 1024; i++) values[i] = i < 800 ? Math.abs(values[i]) + spread : -Math.abs(values[i]);
      expectSameBytes(rt.quantize(values, { vocab: 8, dim: 256, format }), ref.quantize(values), blockBytes, `seed ${seed}`);
    }
  });

  it("NaN, infinities, signed zeros, subnormals and huge values quantize as the reference does", () => {
    const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 1e-45, 3.4e38, -3.4e38, 65504, 131008, 1, -1, 0.5, -2.5, 1e-16, 31.5];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...specials.map(Math.fround)), { minLength: 256, maxLength: 256 }), (pool) => {
        const values = Float32Array.from(pool);
        expectSameBytes(rt.quantize(values, { vocab: 1, dim: 256, format }), ref.quantize(values), blockBytes, "bytes");
      }),
      { numRuns: 40 },
    );
    for (const v of specials) {
      const values = new Float32Array(256).fill(v);
      expectSameBytes(rt.quantize(values, { vocab: 1, dim: 256, format }), ref.quantize(values), blockBytes, `all ${v}`);
      // a flat group with one other value: NaN, inf, or a spike, first or later in the group
      for (const odd of [NaN, Infinity, 7]) {
        for (const at of [0, 5, 40]) {
          const mixed = new Float32Array(256).fill(v);
          mixed[at] = odd;
          expectSameBytes(rt.quantize(mixed, { vocab: 1, dim: 256, format }), ref.quantize(mixed), blockBytes, `all ${v}, ${odd} at ${at}`);
        }
      }
    }
  });

  it("the encode kernel writes exactly its blocks (it keeps its search results in the block it is writing)", () => {
    const mem = rt.memory;
    for (const blocks of [1, 3]) {
      const values = randomValues(blocks * 256, blocks, 4);
      const src = mem.alloc(values.length * 4);
      const dst = mem.alloc(blocks * blockBytes + 128);
      mem.f32().set(values, src >>> 2);
      mem.u8().fill(0xa5, dst, dst + blocks * blockBytes + 128);
      rt.kernels[`encode_${format}`](src, values.length, dst + 64);
      const bytes = mem.u8();
      expect(bytes.subarray(dst, dst + 64).every((b) => b === 0xa5), "bytes before").toBe(true);
      expect(bytes.subarray(dst + 64 + blocks * blockBytes, dst + 128 + blocks * blockBytes).every((b) => b === 0xa5), "bytes after").toBe(true);
      expectSameBytes(bytes.slice(dst + 64, dst + 64 + blocks * blockBytes), ref.quantize(values), blockBytes, "blocks");
      expect(Array.from(mem.f32().subarray(src >>> 2, (src >>> 2) + values.length)), "source untouched").toEqual(Array.from(values));
      mem.dealloc(src);
      mem.dealloc(dst);
    }
  });

  it("the decode kernel writes exactly n * dim values and nothing after them", () => {
    expectDecodeStaysInside(rt, format, [1, 100, 257]);
  });

  it("the direct dot: random rows of 1, 2 and 16 blocks, and inf / NaN in x", () => {
    fc.assert(
      fc.property(fc.constantFrom(256, 512, 4096), fc.integer({ min: 1, max: 1 << 30 }), fc.float({ min: Math.fround(1e-3), max: Math.fround(1e3), noNaN: true }), (dim, seed, spread) => {
        const values = randomValues(dim, seed, spread);
        const row = ref.quantize(values);
        const w = ref.dequantize(row);
        const x = randomValues(dim, seed + 1, 2);
        expectDot(rawDot(format, row, x), w, x, `dim ${dim}`);
      }),
      { numRuns: 30 },
    );
    const row = ref.quantize(randomValues(512, 9, 2));
    const w = ref.dequantize(row);
    const x = randomValues(512, 10, 2);
    x[300] = Infinity;
    expectDot(rawDot(format, row, x), w, x, "inf in x");
    x[301] = -Infinity;
    expectDot(rawDot(format, row, x), w, x, "inf and -inf in x");
  });
});

// Q2_K, Q3_K and IQ4_XS against ggml's own outputs (every row of the golden table, edge rows 0-7 included) and
// against the plain references (test/reference/formats/<fmt>.ts) on random tables, special values, and dims that
// are not a multiple of the block; their exact dot kernels against a float64 dot over the decoded row.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, dequantize, quantize, readGGUF, type Format, type Runtime } from "../src/index.js";
import { expectSameBits, expectSameBytes } from "./helpers/close.js";
import { expectDecodeStaysInside } from "./helpers/decode-bounds.js";
import { newRuntime } from "./helpers/runtime.js";
import { padRows, randomValues } from "./helpers/values.js";
import type { FormatReference } from "./reference/formats/types.js";
import { reference as q2k } from "./reference/formats/q2_k.js";
import { reference as q3k } from "./reference/formats/q3_k.js";
import { bestIndex, KVALUES } from "./reference/formats/iq4_nl.js";
import { reference as iq4xs } from "./reference/formats/iq4_xs.js";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/ggml/gauss2048.${name}`, import.meta.url));
const f32Of = (buf: Buffer) => new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const V = 64;
const D = 2048;
const QK = 256;

// format, plain reference, ggml type id, bytes per block of 256, where its f16 scales sit in the block
type Case = [Format, FormatReference, number, number, number[]];
const CASES: Case[] = (
  [
    ["q2_k", q2k, 10, 84, [80, 82]],
    ["q3_k", q3k, 11, 110, [108]],
    ["iq4_xs", iq4xs, 23, 136, [0]],
  ] as [string, FormatReference, number, number, number[]][]
).filter(([f]) => f in FORMATS) as Case[];

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

// the reference's decoded rows, padding dropped
function decodedRows(reference: FormatReference, packed: Uint8Array, vocab: number, dim: number): Float32Array {
  const padded = Math.ceil(dim / QK) * QK;
  const all = reference.dequantize(packed);
  const out = new Float32Array(vocab * dim);
  for (let r = 0; r < vocab; r++) out.set(all.subarray(r * padded, r * padded + dim), r * dim);
  return out;
}

describe.each(CASES)("%s against ggml's golden files", (format, reference, id, blockBytes) => {
  const source = f32Of(fixture("f32"));
  const gold = new Uint8Array(fixture(`${format}.bin`));
  const goldDeq = f32Of(fixture(`${format}.deq.f32`));
  const rowBytes = (D / QK) * blockBytes;

  it("the registry agrees with ggml's block (256 values, its bytes, type id and Q8_K activations)", () => {
    expect([FORMATS[format].blockElems, FORMATS[format].blockBytes, FORMATS[format].id]).toEqual([QK, blockBytes, id]);
    expect(FORMATS[format].vecDot).toBe("q8_k");
    expect(gold.length).toBe(V * rowBytes);
  });

  it("the plain reference reproduces ggml's bytes and values (judging the reference)", () => {
    expectSameBytes(reference.quantize(source), gold, rowBytes, "reference bytes");
    expectSameBits(reference.dequantize(gold), goldDeq, "reference deq");
  });

  it("tableFromF32, quantize() and rt.quantize() store ggml's bytes, every row", () => {
    using table = rt.tableFromF32(source, { vocab: V, dim: D, format });
    expectSameBytes(table.bytes(), gold, rowBytes, "tableFromF32");
    expectSameBytes(quantize(source, { vocab: V, dim: D, format, runtime: rt }), gold, rowBytes, "quantize");
    expectSameBytes(rt.quantize(source, { vocab: V, dim: D, format }), gold, rowBytes, "rt.quantize");
  });

  it("rt.table over ggml's bytes looks up and dequantizes to ggml's values, every row", () => {
    using table = rt.table({ vocab: V, dim: D, format, data: gold });
    expectSameBits(table.lookup(Array.from({ length: V }, (_, i) => i)), goldDeq, "lookup");
    const ids = [V - 1, 0, 3, 3, 7];
    const expected = new Float32Array(ids.length * D);
    ids.forEach((r, i) => expected.set(goldDeq.subarray(r * D, (r + 1) * D), i * D));
    expectSameBits(table.lookup(new Int32Array(ids)), expected, "lookup of bounds");
    expectSameBits(rt.dequantize(gold, { vocab: V, dim: D, format }), goldDeq, "rt.dequantize");
    expectSameBits(dequantize(gold.buffer.slice(0), { vocab: V, dim: D, format, runtime: rt }), goldDeq, "dequantize");
    // F32Buffer: decoded straight into linear memory
    const buf = rt.f32Buffer(ids.length * D);
    expectSameBits(table.lookup(ids, buf).slice(), expected, "lookup into an F32Buffer");
    buf.dispose();
  });

  it("`bitembed convert` (the CLI, build/cli.js) of ggml's f32 GGUF writes ggml's bytes", async () => {
    const root = new URL("../", import.meta.url).pathname;
    const out = join(mkdtempSync(join(tmpdir(), "bitembed-kq-")), `${format}.gguf`);
    const input = join(root, "test", "fixtures", "ggml", "gauss2048.f32.gguf");
    await promisify(execFile)(process.execPath, [join(root, "build", "cli.js"), "convert", input, out, "--format", format]);
    const g = await readGGUF(out);
    expect(g.tensor("token_embd.weight").typeName).toBe(format);
    expectSameBytes(new Uint8Array(await g.readTensor("token_embd.weight")), gold, rowBytes, "convert");
  });

  it("the exact dot kernel equals a float64 dot over ggml's decoded row, every row, four hidden vectors", () => {
    const hidden = f32Of(fixture("hidden.f32"));
    expectDots(format, gold, goldDeq, V, D, hidden);
  });
});

// dot_<fmt>(row, x, dim) on every row against sum(decoded * x) in float64: within 1e-5 of sum |products|
// (plus the smallest normal, for rows of zeros and subnormals), the tolerance of the exact projection.
function expectDots(format: Format, packed: Uint8Array, decoded: Float32Array, vocab: number, dim: number, hidden: Float32Array): void {
  const name = FORMATS[format].dot;
  expect(name, `${format}: the registry names its direct dot`).toBe(`dot_${format}`);
  const dot = rt.kernels[name!] as (row: number, x: number, dim: number) => number;
  const mem = rt.memory;
  const rowBytes = packed.length / vocab;
  const rows = mem.alloc(packed.length);
  const x = mem.alloc(dim * 4);
  try {
    mem.u8().set(packed, rows);
    for (let v = 0; v < hidden.length / dim; v++) {
      mem.f32().set(hidden.subarray(v * dim, (v + 1) * dim), x >>> 2);
      for (let r = 0; r < vocab; r++) {
        let sum = 0;
        let magnitude = 0;
        for (let j = 0; j < dim; j++) {
          const p = decoded[r * dim + j] * hidden[v * dim + j];
          sum += p;
          magnitude += Math.abs(p);
        }
        const got = dot(rows + r * rowBytes, x, dim);
        if (Number.isNaN(sum) || !Number.isFinite(sum)) expect(got, `${format} row ${r} vector ${v}`).toBe(Math.fround(sum));
        else expect(Math.abs(got - sum), `${format} row ${r} vector ${v}: ${got} vs ${sum}`).toBeLessThanOrEqual(1e-5 * magnitude + 1.2e-38);
      }
    }
  } finally {
    mem.dealloc(x);
    mem.dealloc(rows);
  }
}

// values from a pool of magnitudes: groups of tiny values beside large ones make ggml's rare paths run (a
// group whose quantized scale is 0 keeps the search's codes)
const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 1e-45, 3.4e38, -3.4e38, 65504, 131008, 1, -1, 0.5, -2.5, 1e-16, 31.5];

describe.each(CASES)("%s kernels against the plain reference", (format, reference, _id, blockBytes, halves) => {
  it.each([1, 16, 100, 255, 256, 257, 300, 512, 769])("dim %i: bytes and values match, the padding never shows", (dim) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 600 }),
        fc.float({ min: Math.fround(1e-30), max: Math.fround(1e6), noNaN: true }),
        (vocab, pool, scale) => {
          const values = Float32Array.from({ length: vocab * dim }, (_, i) => Math.fround(pool[i % pool.length] * scale));
          const expected = reference.quantize(padRows(values, vocab, dim, QK));
          expectSameBytes(rt.quantize(values, { vocab, dim, format }), expected, expected.length / vocab, "bytes");
          using table = rt.tableFromF32(values, { vocab, dim, format });
          expectSameBits(table.lookup(Array.from({ length: vocab }, (_, i) => i)), decodedRows(reference, expected, vocab, dim), "lookup");
        },
      ),
      { numRuns: 12 },
    );
  });

  it("gaussian-like rows with outliers and tiny groups (seeded): bytes and values match", () => {
    const vocab = 40;
    const dim = 512;
    const values = randomValues(vocab * dim, 97, 2);
    for (let r = 0; r < vocab; r++) {
      // a spike in some rows, whole groups of tiny values in others
      if (r % 3 === 0) values[r * dim + ((r * 37) % dim)] = 300 * (r % 2 ? 1 : -1);
      if (r % 4 === 1) for (let j = 0; j < 48; j++) values[r * dim + 64 + j] *= 1e-4;
    }
    const expected = reference.quantize(values);
    expectSameBytes(rt.quantize(values, { vocab, dim, format }), expected, (dim / QK) * blockBytes, "bytes");
    expectSameBits(rt.dequantize(expected, { vocab, dim, format }), reference.dequantize(expected), "values");
  });

  it("groups whose q3_k refinement still changes a code in its fifth and last pass: bytes match", () => {
    // found by searching random groups with the plain reference; every format quantizes them
    const groups = [
      [-0.40192925930023193, -0.05419238284230232, -0.3395950496196747, -0.22785210609436035, -0.2865656614303589, -0.4785003364086151,
        0.45934435725212097, 0.3837205469608307, -0.32709044218063354, 0.018572358414530754, 0.39134547114372253, -0.4420263171195984,
        0.38792797923088074, 0.039420053362846375, -0.10077089071273804, -0.4338960647583008],
      [0.3593364357948303, -0.2730642855167389, -0.07479170709848404, -0.43174034357070923, -0.3550509810447693, -0.005131515674293041,
        -0.2996722161769867, 0.32183346152305603, 0.0720212459564209, 0.40126869082450867, 0.0009497711434960365, 0.15388059616088867,
        0.3427561819553375, 0.4535599648952484, 0.16027593612670898, -0.4644511342048645],
    ];
    const values = Float32Array.from({ length: QK }, (_, i) => groups[(i >> 4) % 2][i % 16] * (1 + (i >> 5)));
    expectSameBytes(rt.quantize(values, { vocab: 1, dim: QK, format }), reference.quantize(values), blockBytes, "bytes");
  });

  it("NaN, infinities, signed zeros, subnormals and huge values quantize as the reference does", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...SPECIALS.map(Math.fround)), { minLength: QK, maxLength: QK }), (pool) => {
        const values = Float32Array.from(pool);
        expectSameBytes(rt.quantize(values, { vocab: 1, dim: QK, format }), reference.quantize(values), blockBytes, "bytes");
      }),
      { numRuns: 40 },
    );
    for (const v of SPECIALS) {
      const values = new Float32Array(QK).fill(v);
      expectSameBytes(rt.quantize(values, { vocab: 1, dim: QK, format }), reference.quantize(values), blockBytes, `all ${v}`);
    }
  });

  it("random bytes decode as the reference decodes them (every code, scale and sign)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2 * blockBytes, maxLength: 2 * blockBytes }), (bytes) => {
        // f16 scales below 2^16 (the top exponent bit cleared): finite values compare by bits, no NaN payloads
        const packed = bytes.slice();
        for (let b = 0; b < 2; b++) for (const at of halves) packed[b * blockBytes + at + 1] &= 0xbf;
        expectSameBits(rt.dequantize(packed, { vocab: 1, dim: 2 * QK, format }), reference.dequantize(packed), "values");
      }),
      { numRuns: 50 },
    );
  });

  it("the exact dot kernel equals a float64 dot over the decoded row (random tables, 1..4 blocks)", () => {
    for (const blocks of [1, 2, 3, 4]) {
      const dim = blocks * QK;
      const vocab = 9;
      const values = randomValues(vocab * dim, dim + 3, 3);
      const packed = reference.quantize(values);
      expectDots(format, packed, reference.dequantize(packed), vocab, dim, randomValues(2 * dim, dim, 4));
    }
  });

  it("the decode kernel writes exactly n * dim values and nothing after them", () => {
    expectDecodeStaysInside(rt, format, [1, 100, 257]);
  });
});

describe("the IQ4 level search (encode_iq4_xs and encode_iq4_nl share it)", () => {
  // the encoders count the midpoints at or below v instead of running ggml's bisection (bestIndex here)
  it("best_index_int8 is the number of level midpoints at or below v: every f32 within 2^16 ulps of each midpoint and level", () => {
    const mids = KVALUES.slice(1).map((v, k) => (KVALUES[k] + v) / 2);
    const count = (v: number) => (Number.isNaN(v) ? 15 : mids.filter((m) => v >= m).length);
    const f = new Float32Array(1);
    const u = new Int32Array(f.buffer);
    let checked = 0;
    for (const centre of [...mids, ...KVALUES, 0]) {
      f[0] = centre;
      const bits = u[0];
      for (let d = -(1 << 16); d <= 1 << 16; d++) {
        u[0] = bits + d;
        const v = f[0];
        if (bestIndex(v) !== count(v)) expect.fail(`v = ${v}: ggml's bisection gives ${bestIndex(v)}, the midpoint count ${count(v)}`);
        checked++;
      }
    }
    for (const v of [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -1e-45, 0, -0, 1000, -1000]) expect(bestIndex(v)).toBe(count(v));
    expect(checked).toBe(32 * ((1 << 17) + 1));
  });
});

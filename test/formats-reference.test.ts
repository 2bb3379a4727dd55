// Every registry format's encoder and decoder kernels against its plain reference (test/reference/formats/):
// random tables (fast-check) at dims around every block boundary (rows padded to whole blocks), NaN,
// infinities, signed zeros, subnormals and values beyond f16, data at many scales, the raw encode and decode
// kernels' bounds, and the round-trip error the format promises.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, FORMAT_NAMES, dequantize, quantize, type Format, type Runtime } from "../src/index.js";
import { expectClose, expectSameBits, expectSameBytes } from "./helpers/close.js";
import { expectDecodeStaysInside } from "./helpers/decode-bounds.js";
import { newRuntime } from "./helpers/runtime.js";
import { randomValues, wideValues } from "./helpers/values.js";
import { REFERENCES } from "./reference/formats/index.js";
import { lookupRef, packRef } from "./reference/lookup.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

// around 1 and the SIMD widths, GloVe's 100, and around the format's block and its multiples
const SWEEP = [1, 2, 3, 15, 16, 17, 31, 32, 33, 100, 127, 128, 129, 257, 300];
const dimsOf = (E: number) => [...new Set([...SWEEP, E - 1, E, E + 1, 2 * E, 2 * E + 3, 3 * E + 1])].filter((d) => d > 0).sort((a, b) => a - b);
// blocks of 256 take fewer random tables per dim: each already spans many groups, and their references are slow
const runsOf = (E: number) => (E >= 256 ? 15 : 40);

// 127 with halves gives q8_0 exact ties (d = 1); 7.5 and 8.5 ties for the nibble formats, 15.5 and 16.5 for the
// five-bit ones; 31.5 for q6_k's codes; 6 and 12 mxfp4's levels; 1e-16 below q6_k's 1e-15 cut; 6e-39 a
// subnormal maximum; 65520 halfway past the largest f16
const SPECIALS = [
  NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 1e-45, 6e-39, 1e-16, 3.4e38, -3.4e38, 65504, 65520, 131008,
  1, -1, 127, 0.5, -2.5, 126.5, 8, 7.5, -8.5, 16, 15.5, -16.5, 31, 31.5, 12, 6,
].map(Math.fround);

describe.each(FORMAT_NAMES)("%s kernels against the plain reference", (format: Format) => {
  const E = FORMATS[format].blockElems;
  const bytesOf = (values: Float32Array, vocab: number, dim: number) => rt.quantize(values, { vocab, dim, format });

  it.each(dimsOf(E))("dim %i: bytes and values match, the padding never shows", (dim) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 600 }),
        fc.float({ min: Math.fround(1e-30), max: Math.fround(1e6), noNaN: true }),
        (vocab, pool, scale) => {
          const values = Float32Array.from({ length: vocab * dim }, (_, i) => Math.fround(pool[i % pool.length] * scale));
          const expected = packRef(format, values, vocab, dim);
          const bytes = bytesOf(values, vocab, dim);
          expectSameBytes(bytes, expected, expected.length / vocab, "bytes");
          const ids = [vocab - 1, 0, ...Array.from({ length: vocab }, (_, i) => i)];
          using table = rt.tableFromF32(values, { vocab, dim, format });
          // an infinite value can decode to NaN (inf - inf), whose sign JavaScript arithmetic does not keep
          expectSameBits(table.lookup(ids), lookupRef(format, bytes, dim, ids), "lookup", { anyNaN: true });
        },
      ),
      { numRuns: runsOf(E) },
    );
  });

  it("quantize() and dequantize() pad dim 100 to whole blocks as the reference does", () => {
    const [vocab, dim] = [7, 100];
    const values = wideValues(vocab * dim, 100);
    const packed = packRef(format, values, vocab, dim);
    expectSameBytes(quantize(values, { vocab, dim, format, runtime: rt }), packed, packed.length / vocab, "quantize()");
    const all = Array.from({ length: vocab }, (_, i) => i);
    expectSameBits(dequantize(packed, { vocab, dim, format, runtime: rt }), lookupRef(format, packed, dim, all), "dequantize()");
  });

  it("the decode kernel writes exactly n * dim values, the reference's, and nothing after them", () => {
    expectDecodeStaysInside(rt, format, [...new Set([1, 33, 65, 100, 255, 257, E - 1, E, E + 1].filter((d) => d > 0))]);
  });

  it("NaN, infinities, signed zeros, subnormals and huge values quantize as the reference does", () => {
    const dim = 256;
    const check = (values: Float32Array, label: string) => expectSameBytes(bytesOf(values, 1, dim), packRef(format, values, 1, dim), 256, label);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...SPECIALS), { minLength: dim, maxLength: dim }), (pool) => check(Float32Array.from(pool), "bytes")),
      { numRuns: 80 },
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
      const values = new Float32Array(dim).fill(0.25);
      head.forEach((v, i) => (values[i * 5] = v));
      check(values, `block ${head}`);
    }
    for (const v of SPECIALS) {
      // uniform blocks of each special value
      check(new Float32Array(dim).fill(v), `all ${v}`);
      // a flat block with one other value: NaN, inf, or a spike, first or later in a group
      for (const odd of [NaN, Infinity, 7]) {
        for (const at of [0, 5, 40]) {
          const mixed = new Float32Array(dim).fill(v);
          mixed[at] = odd;
          check(mixed, `all ${v}, ${odd} at ${at}`);
        }
      }
    }
  });

  it("data at several scales, and groups far below the block's largest (the k-quants' scale code rounds to 0)", () => {
    const dim = 256;
    for (const [seed, spread] of [[1, 1], [2, 1e-3], [3, 5e4], [4, 1e-36]] as const) {
      const values = randomValues(8 * dim, seed, spread);
      // row 1: one group of 32 1e4 times larger than the rest; row 2: a single spike; row 3: one positive group
      for (let i = 256; i < 288; i++) values[i] *= 1e4;
      values[512 + 77] = 1000 * spread;
      for (let i = 768; i < 1024; i++) values[i] = i < 800 ? Math.abs(values[i]) + spread : -Math.abs(values[i]);
      const packed = packRef(format, values, 8, dim);
      expectSameBytes(bytesOf(values, 8, dim), packed, packed.length / 8, `seed ${seed}`);
    }
  });

  it("rows of noise with outliers and tiny groups (seeded): bytes and values match", () => {
    const [vocab, dim] = [40, 512];
    const values = randomValues(vocab * dim, 97, 2);
    for (let r = 0; r < vocab; r++) {
      // a spike in some rows, whole groups of tiny values in others
      if (r % 3 === 0) values[r * dim + ((r * 37) % dim)] = 300 * (r % 2 ? 1 : -1);
      if (r % 4 === 1) for (let j = 0; j < 48; j++) values[r * dim + 64 + j] *= 1e-4;
    }
    const packed = packRef(format, values, vocab, dim);
    expectSameBytes(bytesOf(values, vocab, dim), packed, packed.length / vocab, "bytes");
    const all = Array.from({ length: vocab }, (_, i) => i);
    expectSameBits(rt.dequantize(packed, { vocab, dim, format }), lookupRef(format, packed, dim, all), "values");
  });

  it("groups whose q3_k refinement still changes a code in its fifth and last pass: bytes match", () => {
    // found by searching random groups with the plain q3_k reference; every format quantizes them
    const groups = [
      [-0.40192925930023193, -0.05419238284230232, -0.3395950496196747, -0.22785210609436035, -0.2865656614303589, -0.4785003364086151,
        0.45934435725212097, 0.3837205469608307, -0.32709044218063354, 0.018572358414530754, 0.39134547114372253, -0.4420263171195984,
        0.38792797923088074, 0.039420053362846375, -0.10077089071273804, -0.4338960647583008],
      [0.3593364357948303, -0.2730642855167389, -0.07479170709848404, -0.43174034357070923, -0.3550509810447693, -0.005131515674293041,
        -0.2996722161769867, 0.32183346152305603, 0.0720212459564209, 0.40126869082450867, 0.0009497711434960365, 0.15388059616088867,
        0.3427561819553375, 0.4535599648952484, 0.16027593612670898, -0.4644511342048645],
    ];
    const dim = 256;
    const values = Float32Array.from({ length: dim }, (_, i) => groups[(i >> 4) % 2][i % 16] * (1 + (i >> 5)));
    const packed = packRef(format, values, 1, dim);
    expectSameBytes(bytesOf(values, 1, dim), packed, packed.length, "bytes");
  });

  it("random bytes decode as the reference decodes them (every code, scale and sign; a NaN matches any NaN)", () => {
    const { blockBytes } = FORMATS[format];
    const blocks = Math.max(2, Math.ceil(512 / E));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: blocks * blockBytes, maxLength: blocks * blockBytes }), (packed) => {
        const got = rt.dequantize(packed, { vocab: 1, dim: blocks * E, format });
        expectSameBits(got, REFERENCES[format].dequantize(packed), "values", { anyNaN: true });
      }),
      { numRuns: 50 },
    );
  });

  it("the raw encode kernel writes exactly its blocks and leaves the source as it was", () => {
    const { blockBytes, encode } = FORMATS[format];
    const mem = rt.memory;
    for (const blocks of [1, 3]) {
      const n = Math.max(blocks * E, 256);
      const values = randomValues(n, blocks, 4);
      const size = (n / E) * blockBytes;
      const src = mem.alloc(n * 4);
      const dst = mem.alloc(size + 128);
      try {
        mem.f32().set(values, src >>> 2);
        mem.u8().fill(0xa5, dst, dst + size + 128);
        rt.kernels[encode](src, n, dst + 64);
        const bytes = mem.u8();
        expect(bytes.subarray(dst, dst + 64).every((b) => b === 0xa5), "bytes before").toBe(true);
        expect(bytes.subarray(dst + 64 + size, dst + 128 + size).every((b) => b === 0xa5), "bytes after").toBe(true);
        expectSameBytes(bytes.slice(dst + 64, dst + 64 + size), packRef(format, values, 1, n), size, "blocks");
        expectSameBits(mem.f32().slice(src >>> 2, (src >>> 2) + n), values, "source untouched");
      } finally {
        mem.dealloc(src);
        mem.dealloc(dst);
      }
    }
  });

  // test/nan-golden.test.ts holds both kinds of running maximum to ggml's own bytes
  it("a NaN mid-block and last: ggml's MAX restarts after it (values before it then exceed d) and ends NaN on it; q2_0 / pq2_0 skip it", () => {
    const dim = Math.max(E, 32);
    const values = wideValues(2 * dim, 9).map((v) => v * 1e-9);
    // block 0: d is the max after the NaN (under 1e-6), so x * id for the values before it runs from 6e5 to
    // beyond 2^31, where the int conversions overflow
    values.set([3, 5000, -7, 0.3, NaN, 1e-8], 0);
    values[2 * dim - 1] = NaN;
    const packed = packRef(format, values, 2, dim);
    expectSameBytes(bytesOf(values, 2, dim), packed, packed.length / 2, "bytes");
  });

  it("NaN and infinities in one row quantize as ggml would on x86 (reference), without touching other rows", () => {
    const dim = Math.max(E, 32);
    const values = new Float32Array(3 * dim);
    values.set(wideValues(dim, 5), 0);
    values.set(wideValues(dim, 6), 2 * dim);
    values.set([NaN, Infinity, -Infinity, 1, -1e-40, 0, -0], dim);
    using table = rt.tableFromF32(values, { vocab: 3, dim, format });
    const packed = packRef(format, values, 3, dim);
    expectSameBytes(table.bytes(), packed, packed.length / 3, "bytes");
    expectClose(table.lookup([0, 1, 2]), lookupRef(format, packed, dim, [0, 1, 2]), { nan: true }, `${format} specials`);
  });
});

// The round-trip error each format promises (its reference's maxError), on values of many magnitudes.
describe.each(FORMAT_NAMES.filter((f) => REFERENCES[f].maxError !== undefined))("%s round trip", (format: Format) => {
  it("quantize then lookup stays within the format's error bound, element by element", () => {
    const [vocab, dim] = [4, 512];
    const E = FORMATS[format].blockElems;
    const values = wideValues(vocab * dim, 77);
    using table = rt.tableFromF32(values, { vocab, dim, format });
    const bound = new Float64Array(vocab * dim);
    for (let b = 0; b < vocab * dim; b += E) bound.fill(REFERENCES[format].maxError!(values.subarray(b, b + E)), b, b + E);
    expectClose(table.lookup([0, 1, 2, 3]), values, { rtol: 1, scale: bound }, `${format} |lookup - source|`);
    // and the bound is not vacuous: it is below the block's largest magnitude
    for (let b = 0; b < vocab * dim; b += E) {
      const amax = values.subarray(b, b + E).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(bound[b]).toBeLessThan(amax);
    }
  });
});

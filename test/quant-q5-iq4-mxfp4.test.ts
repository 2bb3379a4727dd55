// What Q5_0, Q5_1, IQ4_NL and MXFP4 promise beyond the registry's test matrix (formats-golden,
// formats-reference, formats-dot, lookup, reference-golden run them like every format): what ggml's golden edge
// rows become in each, every code decoded beside the scale's special values, and the formats' own boundaries
// (the levels' midpoints, the powers of two where MXFP4's exponent steps).
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, type Runtime } from "../src/index.js";
import { expectSameBits, expectSameBytes } from "./helpers/close.js";
import { newRuntime } from "./helpers/runtime.js";
import { lookupRef } from "./reference/lookup.js";
import { KVALUES, reference as iq4_nl } from "./reference/formats/iq4_nl.js";
import { e8m0Half, reference as mxfp4, sharedExponent } from "./reference/formats/mxfp4.js";

const HERE = ["q5_0", "q5_1", "iq4_nl", "mxfp4"] as const;
type Here = (typeof HERE)[number];
const fixture = (name: string) => readFileSync(new URL(`./fixtures/ggml/gauss2048.${name}`, import.meta.url));
const f32Of = (buf: Buffer) => new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const D = 2048;

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
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

describe.each(HERE)("%s decoder against the plain reference", (format) => {
  it("decodes every code in every position: all byte values, the scale's special values", () => {
    // random blocks of bytes, the scale field overwritten with zeros, subnormals, inf and NaN
    const bytesPerBlock = FORMATS[format].blockBytes;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8 * bytesPerBlock, maxLength: 8 * bytesPerBlock }), fc.constantFrom(0, 1, 0x3ff, 0x7bff, 0x7c00, 0xfc00, 0x7e01, 0x8001), (data, half) => {
        if (format !== "mxfp4") for (let b = 0; b < 8; b += 3) data[b * bytesPerBlock] = half & 255, data[b * bytesPerBlock + 1] = half >> 8;
        else for (let b = 0; b < 8; b += 3) data[b * bytesPerBlock] = half & 255;
        using table = rt.table({ vocab: 2, dim: 128, format, data });
        expectSameBits(anyNaN(table.lookup([0, 1, 1])), anyNaN(lookupRef(format, data, 128, [0, 1, 1])), "lookup");
        using shorter = rt.table({ vocab: 2, dim: 100, format, data });
        expectSameBits(anyNaN(shorter.lookup([1, 0])), anyNaN(lookupRef(format, data, 100, [1, 0])), "lookup of dim 100");
      }),
      { numRuns: 40 },
    );
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

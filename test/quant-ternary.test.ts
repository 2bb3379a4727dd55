// Q2_0, TQ1_0 and TQ2_0 against ggml's own outputs (every row of the golden table, edge rows 0-7 included)
// and against the plain references on random tables, dims that are not a multiple of the block included.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, dequantize, quantize, type Runtime } from "../src/index.js";
import { expectClose, expectSameBits } from "./helpers/close.js";
import { expectDecodeStaysInside } from "./helpers/decode-bounds.js";
import { newRuntime } from "./helpers/runtime.js";
import { padRows } from "./helpers/values.js";
import { TERNARY_REFERENCE } from "./reference/quantize-ternary.js";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/ggml/gauss2048.${name}`, import.meta.url));
const VOCAB = 64;
const DIM = 2048;
const EDGE_ROWS = ["zeros", "all 0.5", "one outlier", "subnormals", "alternating", "negative", "x 1e4", "beyond f16"];

let rt: Runtime;
let gauss: Float32Array;
beforeAll(async () => {
  rt = await newRuntime();
  const bytes = fixture("f32");
  gauss = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
});

function randomValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return Float32Array.from({ length: n }, () => (next() - 0.5) * 2 ** Math.floor(next() * 20 - 10));
}

// the reference's decoded rows `ids`, padding dropped
function lookupRef(format: keyof typeof TERNARY_REFERENCE, packed: Uint8Array, vocab: number, dim: number, ids: ArrayLike<number>) {
  const { blockElems, dequantize } = TERNARY_REFERENCE[format];
  const padded = Math.ceil(dim / blockElems) * blockElems;
  const all = dequantize(packed, vocab * padded);
  const out = new Float32Array(ids.length * dim);
  for (let i = 0; i < ids.length; i++) out.set(all.subarray(ids[i] * padded, ids[i] * padded + dim), i * dim);
  return out;
}

describe.each(Object.keys(TERNARY_REFERENCE) as (keyof typeof TERNARY_REFERENCE)[])("%s", (format) => {
  const ref = TERNARY_REFERENCE[format];
  const info = FORMATS[format];
  const rowBytes = (DIM / info.blockElems) * info.blockBytes;

  it("the decode kernel writes exactly n * dim values and nothing after them", () => {
    expectDecodeStaysInside(rt, format, [1, 100, 255, 257]);
  });

  it("the formats table agrees with the reference's block size", () => {
    expect(info.blockElems).toBe(ref.blockElems);
  });

  it("quantize: every golden row byte for byte (wasm and reference)", () => {
    const golden = new Uint8Array(fixture(`${format}.bin`));
    using table = rt.tableFromF32(gauss, { vocab: VOCAB, dim: DIM, format });
    const wasm = table.bytes();
    const plain = ref.quantize(gauss);
    for (let r = 0; r < VOCAB; r++) {
      const label = `${format} row ${r}${r < EDGE_ROWS.length ? ` (${EDGE_ROWS[r]})` : ""}`;
      const want = golden.subarray(r * rowBytes, (r + 1) * rowBytes);
      expect(wasm.subarray(r * rowBytes, (r + 1) * rowBytes), `${label}: wasm`).toEqual(want);
      expect(plain.subarray(r * rowBytes, (r + 1) * rowBytes), `${label}: reference`).toEqual(want);
    }
  });

  it("lookup: ggml's dequantization of every golden row, bit for bit (wasm and reference)", () => {
    const golden = new Uint8Array(fixture(`${format}.bin`));
    const deqBytes = fixture(`${format}.deq.f32`);
    const deq = new Float32Array(deqBytes.buffer.slice(deqBytes.byteOffset, deqBytes.byteOffset + deqBytes.byteLength));
    using table = rt.table({ vocab: VOCAB, dim: DIM, format, data: golden });
    const ids = Array.from({ length: VOCAB }, (_, i) => i);
    const got = table.lookup(ids);
    for (let r = 0; r < VOCAB; r++) {
      const want = deq.subarray(r * DIM, (r + 1) * DIM);
      expectSameBits(got.subarray(r * DIM, (r + 1) * DIM), want, `${format} row ${r}: wasm`);
    }
    expectSameBits(ref.dequantize(golden, VOCAB * DIM), deq, `${format}: reference`);
  });

  it("quantize() and dequantize(): the golden bytes and values; dim 100 padded like the reference", () => {
    const golden = new Uint8Array(fixture(`${format}.bin`));
    expect(quantize(gauss, { vocab: VOCAB, dim: DIM, format, runtime: rt })).toEqual(golden);
    const deqBytes = fixture(`${format}.deq.f32`);
    const deq = new Float32Array(deqBytes.buffer.slice(deqBytes.byteOffset, deqBytes.byteOffset + deqBytes.byteLength));
    expectSameBits(dequantize(golden, { vocab: VOCAB, dim: DIM, format, runtime: rt }), deq, `${format} dequantize`);
    const values = randomValues(7 * 100, 100);
    const packed = ref.quantize(padRows(values, 7, 100, info.blockElems));
    expect(quantize(values, { vocab: 7, dim: 100, format, runtime: rt })).toEqual(packed);
    expectSameBits(dequantize(packed, { vocab: 7, dim: 100, format, runtime: rt }), lookupRef(format, packed, 7, 100, [0, 1, 2, 3, 4, 5, 6]), `${format} dim 100`);
  });

  it.each([1, 2, 3, 15, 16, 17, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 300, 513])(
    "dim %i: bytes and lookup match the reference; ids 0 and vocab-1",
    (dim) => {
      const vocab = 9;
      const values = randomValues(vocab * dim, dim * 13 + 5);
      const packed = ref.quantize(padRows(values, vocab, dim, info.blockElems));
      using fromF32 = rt.tableFromF32(values, { vocab, dim, format });
      using fromBytes = rt.table({ vocab, dim, format, data: packed });
      expect(fromF32.bytes()).toEqual(packed);
      const ids = [0, vocab - 1, 3, 0, vocab - 1];
      const want = lookupRef(format, packed, vocab, dim, ids);
      expectSameBits(fromF32.lookup(ids), want, `${format} dim ${dim} fromF32`);
      expectSameBits(fromBytes.lookup(Uint32Array.from(ids)), want, `${format} dim ${dim} bytes`);
    },
  );

  it.each([1, 65, 100, 255])("dim %i: the kernel writes exactly n * dim floats (the padded tail never lands)", (dim) => {
    const vocab = 3;
    using table = rt.tableFromF32(randomValues(vocab * dim, dim), { vocab, dim, format });
    const ids = [2, 0, 1];
    const mem = rt.memory;
    const idsPtr = mem.alloc(ids.length * 4);
    const outBytes = ids.length * dim * 4;
    const outPtr = mem.alloc(outBytes + 1024);
    try {
      mem.u32().set(ids, idsPtr >>> 2);
      mem.u8().fill(0xab, outPtr, outPtr + outBytes + 1024);
      rt.kernels[info.decode](table.ptr, table.rowBytes, idsPtr, ids.length, dim, outPtr);
      expect(mem.u8().subarray(outPtr + outBytes, outPtr + outBytes + 1024).every((b) => b === 0xab)).toBe(true);
      const got = mem.f32().slice(outPtr >>> 2, (outPtr >>> 2) + ids.length * dim);
      expectSameBits(got, table.lookup(ids), `${format} dim ${dim} raw kernel`);
    } finally {
      mem.dealloc(outPtr);
      mem.dealloc(idsPtr);
    }
  });

  it("random tables (fast-check): quantize and lookup match the reference bit for bit", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(1, 65, 100), fc.integer({ min: 1, max: 600 })),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
        fc.integer(),
        (dim, vocab, rawIds, seed) => {
          const values = randomValues(vocab * dim, seed);
          const ids = rawIds.map((x) => x % vocab);
          const packed = ref.quantize(padRows(values, vocab, dim, info.blockElems));
          using table = rt.tableFromF32(values, { vocab, dim, format });
          expect(table.bytes()).toEqual(packed);
          const out = new Float32Array(ids.length * dim);
          expect(table.lookup(ids, out)).toBe(out);
          expectSameBits(out, lookupRef(format, packed, vocab, dim, ids), `${format} dim ${dim} vocab ${vocab}`);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("quantize then lookup stays within half a step of d = max|x| (ternary rounding bound)", () => {
    const dim = 512;
    const vocab = 4;
    const values = randomValues(vocab * dim, 77);
    using table = rt.tableFromF32(values, { vocab, dim, format });
    const got = table.lookup([0, 1, 2, 3]);
    for (let r = 0; r < vocab; r++) {
      for (let b = 0; b < dim; b += info.blockElems) {
        const block = values.subarray(r * dim + b, r * dim + b + info.blockElems);
        const amax = block.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expectClose(got.subarray(r * dim + b, r * dim + b + block.length), block, { atol: amax * 0.5 * 1.001 + 1e-7 }, `${format} row ${r} block ${b}`);
      }
    }
  });

  it("a NaN mid-block resets ggml's running max: values before it then exceed d, codes leave their range", () => {
    const dim = info.blockElems;
    const values = randomValues(2 * dim, 9).map((v) => v * 1e-9);
    // block 0: d is the max after the NaN (under 1e-6), so x * id for the values before it runs from 6e5 to
    // beyond 2^31, where the int conversions overflow
    values.set([3, 5000, -7, 0.3, NaN, 1e-8], 0);
    // block 1: a NaN last makes d NaN itself
    values[2 * dim - 1] = NaN;
    using table = rt.tableFromF32(values, { vocab: 2, dim, format });
    expect(table.bytes()).toEqual(ref.quantize(values));
  });

  it("NaN and infinities quantize as ggml would on x86 (reference), without touching other rows", () => {
    const dim = info.blockElems;
    const values = new Float32Array(3 * dim);
    values.set(randomValues(dim, 5), 0);
    values.set(randomValues(dim, 6), 2 * dim);
    values.set([NaN, Infinity, -Infinity, 1, -1e-40, 0, -0], dim);
    using table = rt.tableFromF32(values, { vocab: 3, dim, format });
    expect(table.bytes()).toEqual(ref.quantize(values));
    const got = table.lookup([0, 1, 2]);
    expectClose(got, lookupRef(format, ref.quantize(values), 3, dim, [0, 1, 2]), { nan: true }, `${format} specials`);
  });
});

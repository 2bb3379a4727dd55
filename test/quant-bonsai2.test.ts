// PQ2_0 and PTQ1_0 (Ternary Bonsai 2) against the shared golden set (every row of gauss2048, edge rows 0-7
// included), the spec's worked examples, the fuzz and raw-byte fixtures made by the numpy reference, and the
// plain TS references on random tables (dims that are not a multiple of 128 included); the exact dot kernels
// against float64 over the reference's dequantization.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, dequantize, quantize, type Runtime } from "../src/index.js";
import { expectClose, expectSameBits } from "./helpers/close.js";
import { expectDecodeStaysInside } from "./helpers/decode-bounds.js";
import { goldenBytes, goldenF32 } from "./helpers/golden.js";
import { newRuntime } from "./helpers/runtime.js";
import { padRows, randomValues } from "./helpers/values.js";
import { reference as pq2Ref } from "./reference/formats/pq2_0.js";
import { reference as ptq1Ref } from "./reference/formats/ptq1_0.js";

const REFERENCES = { pq2_0: pq2Ref, ptq1_0: ptq1Ref } as const;
type Bonsai2Format = keyof typeof REFERENCES;
const VOCAB = 64;
const DIM = 2048;
const EDGE_ROWS = ["zeros", "all 0.5", "one outlier", "subnormals", "alternating", "negative", "x 1e4", "beyond f16"];

let rt: Runtime;
let gauss: Float32Array;
beforeAll(async () => {
  rt = await newRuntime();
  gauss = goldenF32("gauss2048.f32");
});

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Bits equal, except that a NaN matches any NaN (the payload of 0 * inf is the engine's choice). */
function expectSameBitsOrNaN(actual: Float32Array, expected: Float32Array, label: string): void {
  const a = actual.slice();
  const e = expected.slice();
  for (let i = 0; i < e.length; i++) if (Number.isNaN(a[i]) && Number.isNaN(e[i])) a[i] = e[i] = 0;
  expectSameBits(a, e, label);
}

// the reference's decoded rows `ids`, padding dropped
function lookupRef(format: Bonsai2Format, packed: Uint8Array, vocab: number, dim: number, ids: ArrayLike<number>): Float32Array {
  const padded = Math.ceil(dim / 128) * 128;
  const all = REFERENCES[format].dequantize(packed);
  expect(all.length).toBe(vocab * padded);
  const out = new Float32Array(ids.length * dim);
  for (let i = 0; i < ids.length; i++) out.set(all.subarray(ids[i] * padded, ids[i] * padded + dim), i * dim);
  return out;
}

describe.each(Object.keys(REFERENCES) as Bonsai2Format[])("%s", (format) => {
  const ref = REFERENCES[format];
  const info = FORMATS[format];
  const rowBytes = (DIM / 128) * info.blockBytes;

  it("the format table: id, 128 elements per block, block bytes", () => {
    expect([info.id, info.blockElems, info.blockBytes]).toEqual(format === "pq2_0" ? [142, 128, 34] : [143, 128, 28]);
  });

  it("the decode kernel writes exactly n * dim values and nothing after them", () => {
    expectDecodeStaysInside(rt, format, [1, 100, 127, 128, 129, 255, 257]);
  });

  it("the spec's worked example (x = 0.5 t, t_j = (7j mod 3) - 1) packs to its bytes", () => {
    const x = Float32Array.from({ length: 128 }, (_, j) => 0.5 * (((7 * j) % 3) - 1));
    const want =
      format === "pq2_0"
        ? "0038" + "2449922449922449922449922449922449922449922449922449922449922449"
        : "3194bb3194bb3194bb3194bb3194bb31" + "cf456ccf456ccf45" + "436c" + "0038";
    expect(hex(quantize(x, { vocab: 1, dim: 128, format, runtime: rt }))).toBe(want);
    expect(hex(ref.quantize(x))).toBe(want);
  });

  it("quantize: every golden row byte for byte (wasm and reference)", () => {
    const golden = goldenBytes(`gauss2048.${format}.bin`);
    using table = rt.tableFromF32(gauss, { vocab: VOCAB, dim: DIM, format });
    const wasm = table.bytes();
    const plain = ref.quantize(gauss);
    for (let r = 0; r < VOCAB; r++) {
      const label = `${format} row ${r}${r < EDGE_ROWS.length ? ` (${EDGE_ROWS[r]})` : ""}`;
      const want = golden.subarray(r * rowBytes, (r + 1) * rowBytes);
      expect(hex(wasm.subarray(r * rowBytes, (r + 1) * rowBytes)), `${label}: wasm`).toBe(hex(want));
      expect(hex(plain.subarray(r * rowBytes, (r + 1) * rowBytes)), `${label}: reference`).toBe(hex(want));
    }
    expect(quantize(gauss, { vocab: VOCAB, dim: DIM, format, runtime: rt })).toEqual(golden);
  });

  it("lookup: the golden dequantization of every row, bit for bit (wasm and reference)", () => {
    const golden = goldenBytes(`gauss2048.${format}.bin`);
    const deq = goldenF32(`gauss2048.${format}.deq.f32`);
    using table = rt.table({ vocab: VOCAB, dim: DIM, format, data: golden });
    const got = table.lookup(Array.from({ length: VOCAB }, (_, i) => i));
    for (let r = 0; r < VOCAB; r++) {
      const label = `${format} row ${r}${r < EDGE_ROWS.length ? ` (${EDGE_ROWS[r]})` : ""}`;
      expectSameBits(got.subarray(r * DIM, (r + 1) * DIM), deq.subarray(r * DIM, (r + 1) * DIM), `${label}: wasm`);
    }
    expectSameBits(ref.dequantize(golden), deq, `${format}: reference`);
    expectSameBits(dequantize(golden, { vocab: VOCAB, dim: DIM, format, runtime: rt }), deq, `${format}: dequantize()`);
    // the x86 edge case of §6: row 3 (all 1e-40) stores d = 0; PQ2_0 code 0 decodes to -0, PTQ1_0 digit 1 to +0
    expect(Object.is(got[3 * DIM], format === "pq2_0" ? -0 : 0)).toBe(true);
  });

  it("fuzz blocks (ties, NaN, infinities, subnormal maxima, f16 overflow, uint8 wraps): the numpy reference's bytes and values", () => {
    const x = goldenF32("fuzz.f32");
    const want = goldenBytes(`fuzz.${format}.bin`);
    const blocks = x.length / 128;
    using table = rt.tableFromF32(x, { vocab: blocks, dim: 128, format });
    const wasm = table.bytes();
    const plain = ref.quantize(x);
    for (let b = 0; b < blocks; b++) {
      const at = b * info.blockBytes;
      const w = hex(want.subarray(at, at + info.blockBytes));
      expect(hex(wasm.subarray(at, at + info.blockBytes)), `${format} fuzz block ${b}: wasm`).toBe(w);
      expect(hex(plain.subarray(at, at + info.blockBytes)), `${format} fuzz block ${b}: reference`).toBe(w);
    }
    const deq = goldenF32(`fuzz.${format}.deq.f32`);
    expectSameBitsOrNaN(table.lookup(Array.from({ length: blocks }, (_, i) => i)), deq, `${format} fuzz: wasm decode`);
    expectSameBitsOrNaN(ref.dequantize(want), deq, `${format} fuzz: reference decode`);
  });

  it("random raw blocks (code 3, trit bytes above 242, inf / NaN / subnormal / -0 scales) decode as the numpy reference", () => {
    const raw = goldenBytes(`raw.${format}.bin`);
    const deq = goldenF32(`raw.${format}.deq.f32`);
    const blocks = raw.length / info.blockBytes;
    using table = rt.table({ vocab: blocks, dim: 128, format, data: raw });
    expectSameBitsOrNaN(table.lookup(Array.from({ length: blocks }, (_, i) => i)), deq, `${format} raw: wasm`);
    expectSameBitsOrNaN(ref.dequantize(raw), deq, `${format} raw: reference`);
  });

  it.each([1, 2, 3, 15, 16, 17, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 300, 513])(
    "dim %i: bytes and lookup match the reference; ids 0 and vocab-1",
    (dim) => {
      const vocab = 9;
      const values = randomValues(vocab * dim, dim * 13 + 5, 3);
      const packed = ref.quantize(padRows(values, vocab, dim, 128));
      using fromF32 = rt.tableFromF32(values, { vocab, dim, format });
      using fromBytes = rt.table({ vocab, dim, format, data: packed });
      expect(hex(fromF32.bytes())).toBe(hex(packed));
      const ids = [0, vocab - 1, 3, 0, vocab - 1];
      const want = lookupRef(format, packed, vocab, dim, ids);
      expectSameBits(fromF32.lookup(ids), want, `${format} dim ${dim} fromF32`);
      expectSameBits(fromBytes.lookup(Uint32Array.from(ids)), want, `${format} dim ${dim} bytes`);
    },
  );

  it("random tables (fast-check): quantize and lookup match the reference bit for bit", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(1, 100, 128, 129), fc.integer({ min: 1, max: 600 })),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
        fc.integer(),
        (dim, vocab, rawIds, seed) => {
          const values = randomValues(vocab * dim, seed, 2 ** ((seed >>> 0) % 20 - 8));
          const ids = rawIds.map((x) => x % vocab);
          const packed = ref.quantize(padRows(values, vocab, dim, 128));
          using table = rt.tableFromF32(values, { vocab, dim, format });
          expect(hex(table.bytes())).toBe(hex(packed));
          expectSameBits(table.lookup(ids), lookupRef(format, packed, vocab, dim, ids), `${format} dim ${dim} vocab ${vocab}`);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("quantize then lookup stays within half a step of d = max|x| per block (the ternary rounding bound)", () => {
    const [vocab, dim] = [4, 512];
    const values = randomValues(vocab * dim, 77, 6);
    using table = rt.tableFromF32(values, { vocab, dim, format });
    const got = table.lookup([0, 1, 2, 3]);
    for (let r = 0; r < vocab; r++) {
      for (let b = 0; b < dim; b += 128) {
        const block = values.subarray(r * dim + b, r * dim + b + 128);
        const amax = block.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expectClose(got.subarray(r * dim + b, r * dim + b + 128), block, { atol: amax * 0.5 * 1.001 }, `${format} row ${r} block ${b}`);
      }
    }
  });

  it("dot_" + format + ": exact dot of packed rows (golden, fuzz-free random) within f32 rounding of float64", () => {
    const golden = goldenBytes(`gauss2048.${format}.bin`);
    const deq = ref.dequantize(golden);
    const x = goldenF32("gauss2048.hidden.f32").subarray(0, DIM);
    const mem = rt.memory;
    const rows = mem.alloc(golden.length);
    const xp = mem.alloc(DIM * 4);
    try {
      mem.u8().set(golden, rows);
      mem.f32().set(x, xp >>> 2);
      for (let r = 0; r < VOCAB; r++) {
        let sum = 0;
        let magnitude = 0;
        for (let j = 0; j < DIM; j++) {
          sum += deq[r * DIM + j] * x[j];
          magnitude += Math.abs(deq[r * DIM + j] * x[j]);
        }
        const got = rt.kernels[`dot_${format}`](rows + r * rowBytes, xp, DIM);
        if (!Number.isFinite(sum)) expect(got, `row ${r}`).toBe(sum);
        else expect(Math.abs(got - sum), `row ${r}: ${got} vs ${sum}`).toBeLessThanOrEqual(1e-6 * magnitude + 1e-38);
      }
    } finally {
      mem.dealloc(rows);
      mem.dealloc(xp);
    }
  });
});

describe("PQ2_0 and PTQ1_0 together", () => {
  it("decode the golden rows to the same values (the quantizers pick the same codes), row 3's zero sign apart", () => {
    const a = goldenF32("gauss2048.pq2_0.deq.f32");
    const b = goldenF32("gauss2048.ptq1_0.deq.f32");
    for (let r = 0; r < VOCAB; r++) {
      const ra = a.subarray(r * DIM, (r + 1) * DIM);
      const rb = b.subarray(r * DIM, (r + 1) * DIM);
      if (r === 3) expect(ra.every((v, i) => v === 0 && rb[i] === 0)).toBe(true); // -0 and +0
      else expectSameBits(ra, rb, `row ${r}`);
    }
  });
});

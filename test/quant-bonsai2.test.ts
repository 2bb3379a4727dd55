// What PQ2_0 and PTQ1_0 (Ternary Bonsai 2) promise beyond the registry's test matrix (formats-golden,
// formats-reference, formats-dot, lookup, reference-golden run them like every format): the spec's worked
// examples, row 3's signed zero, the fuzz and raw-byte fixtures made by the numpy reference, the exact dot within
// 1e-6 of float64 on the golden rows, and the two formats' agreement.
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, quantize, type Runtime } from "../src/index.js";
import { expectSameBits } from "./helpers/close.js";
import { goldenBytes, goldenF32 } from "./helpers/golden.js";
import { newRuntime } from "./helpers/runtime.js";
import { REFERENCES } from "./reference/formats/index.js";

const BONSAI2 = ["pq2_0", "ptq1_0"] as const;
const VOCAB = 64;
const DIM = 2048;

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe.each(BONSAI2)("%s", (format) => {
  const ref = REFERENCES[format];
  const info = FORMATS[format];
  const rowBytes = (DIM / 128) * info.blockBytes;

  it("the spec's worked example (x = 0.5 t, t_j = (7j mod 3) - 1) packs to its bytes", () => {
    const x = Float32Array.from({ length: 128 }, (_, j) => 0.5 * (((7 * j) % 3) - 1));
    const want =
      format === "pq2_0"
        ? "0038" + "2449922449922449922449922449922449922449922449922449922449922449"
        : "3194bb3194bb3194bb3194bb3194bb31" + "cf456ccf456ccf45" + "436c" + "0038";
    expect(hex(quantize(x, { vocab: 1, dim: 128, format, runtime: rt }))).toBe(want);
    expect(hex(ref.quantize(x))).toBe(want);
  });

  it("golden row 3 (all 1e-40) stores d = 0: PQ2_0's code 0 decodes to -0, PTQ1_0's digit 1 to +0 (the x86 case of §6)", () => {
    using table = rt.table({ vocab: VOCAB, dim: DIM, format, data: goldenBytes(`gauss2048.${format}.bin`) });
    const got = table.lookup([3]);
    expect(got.every((v) => Object.is(v, format === "pq2_0" ? -0 : 0))).toBe(true);
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
    expectSameBits(table.lookup(Array.from({ length: blocks }, (_, i) => i)), deq, `${format} fuzz: wasm decode`, { anyNaN: true });
    expectSameBits(ref.dequantize(want), deq, `${format} fuzz: reference decode`, { anyNaN: true });
  });

  it("random raw blocks (code 3, trit bytes above 242, inf / NaN / subnormal / -0 scales) decode as the numpy reference", () => {
    const raw = goldenBytes(`raw.${format}.bin`);
    const deq = goldenF32(`raw.${format}.deq.f32`);
    const blocks = raw.length / info.blockBytes;
    using table = rt.table({ vocab: blocks, dim: 128, format, data: raw });
    expectSameBits(table.lookup(Array.from({ length: blocks }, (_, i) => i)), deq, `${format} raw: wasm`, { anyNaN: true });
    expectSameBits(ref.dequantize(raw), deq, `${format} raw: reference`, { anyNaN: true });
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

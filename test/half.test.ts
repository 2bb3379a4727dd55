// f16 and bf16 conversion, exhaustive over all 65,536 half values in both directions, plus every
// rounding boundary and random f32 bit patterns, against test/reference/half.ts.
import { beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";
import { bf16ToF32Bits, f16ToF32Bits, f32FromBits, f32ToBf16Bits, f32ToF16Bits } from "./reference/half.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

const ALL_HALVES = Uint16Array.from({ length: 65536 }, (_, i) => i);

// decode through the public path: a one-row table of all halves, looked up
function decodeAll(format: "f16" | "bf16"): Uint32Array {
  using table = rt.table({ vocab: 1, dim: 65536, format, data: ALL_HALVES });
  return new Uint32Array(table.lookup([0]).buffer);
}

function encode(format: "f16" | "bf16", values: Float32Array): Uint16Array {
  using table = rt.tableFromF32(values, { vocab: 1, dim: values.length, format });
  const bytes = table.bytes();
  return new Uint16Array(bytes.buffer, bytes.byteOffset, values.length);
}

function firstMismatches(got: ArrayLike<number>, want: (i: number) => number, label: (i: number) => string) {
  const bad: string[] = [];
  for (let i = 0; i < got.length && bad.length < 5; i++) {
    if (got[i] !== want(i)) bad.push(`${label(i)}: got 0x${got[i].toString(16)}, expected 0x${want(i).toString(16)}`);
  }
  return bad;
}

describe.each([
  ["f16", f16ToF32Bits, f32ToF16Bits],
  ["bf16", bf16ToF32Bits, f32ToBf16Bits],
] as const)("%s", (format, toF32Bits, fromF32) => {
  it("decodes all 65,536 values exactly", () => {
    const got = decodeAll(format);
    expect(firstMismatches(got, (i) => toF32Bits(i), (i) => `half 0x${i.toString(16)}`)).toEqual([]);
  });

  it("encodes every decoded half back to itself (NaNs to a quiet NaN)", () => {
    const values = new Float32Array(new Uint32Array(Array.from(ALL_HALVES, (h) => toF32Bits(h))).buffer);
    const got = encode(format, values);
    expect(firstMismatches(got, (i) => fromF32(values[i]), (i) => `value ${values[i]}`)).toEqual([]);
    // and the reference agrees that finite halves and infinities are fixed points
    const fixed = Array.from(ALL_HALVES).filter((h) => !Number.isNaN(values[h]) && got[h] !== h);
    expect(fixed).toEqual([]);
  });

  it("rounds every midpoint between neighbours to even, and its f32 neighbours to the nearer", () => {
    const probes: number[] = [];
    for (let h = 0; h < 0x8000; h++) {
      const a = f32FromBits(toF32Bits(h));
      const b = f32FromBits(toF32Bits(h + 1));
      if (!Number.isFinite(a) || Number.isNaN(b)) continue;
      const bValue = Number.isFinite(b) ? b : format === "f16" ? 65536 : 2 ** 128;
      const mid = Math.fround((a + bValue) / 2);
      if (!Number.isFinite(mid)) continue;
      const midBits = new Uint32Array(new Float32Array([mid]).buffer)[0];
      for (const bits of [midBits - 1, midBits, midBits + 1]) {
        const v = f32FromBits(bits);
        probes.push(v, -v);
      }
    }
    const values = Float32Array.from(probes);
    const got = encode(format, values);
    expect(firstMismatches(got, (i) => fromF32(values[i]), (i) => `value ${values[i]}`)).toEqual([]);
  });

  it("encodes 2^20 random f32 bit patterns like the reference", () => {
    let s = 0x9e3779b9;
    const bits = new Uint32Array(1 << 20).map(() => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return s >>> 0;
    });
    const values = new Float32Array(bits.buffer);
    const got = encode(format, values);
    expect(firstMismatches(got, (i) => fromF32(values[i]), (i) => `bits 0x${bits[i].toString(16)}`)).toEqual([]);
  });
});

describe("edge values", () => {
  it("f16: beyond the range is infinity, below half the smallest subnormal is zero", () => {
    const got = encode("f16", Float32Array.from([65504, 65519.99, 65520, 131008, -1e9, 2 ** -25, 2 ** -25 * 1.0001, 2 ** -24]));
    expect(Array.from(got)).toEqual([0x7bff, 0x7bff, 0x7c00, 0x7c00, 0xfc00, 0x0000, 0x0001, 0x0001]);
  });
  it("bf16: the largest finite rounds up to infinity only past the midpoint", () => {
    const got = encode("bf16", Float32Array.from([f32FromBits(0x7f7f7fff), f32FromBits(0x7f7f8000), f32FromBits(0x7f7fffff)]));
    expect(Array.from(got)).toEqual([0x7f7f, 0x7f80, 0x7f80]);
  });
});

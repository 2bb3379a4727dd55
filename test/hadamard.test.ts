// hadamard() / rt.hadamard(): the Bonsai 2 rotation against the correctly rounded golden files (forward and
// inverse, explicit signs, B = 1024), against the plain float64 matrix product for every block size from 1 to
// 4096, closed-form cases, the round trip, both entry points and bad options.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { hadamard, type Runtime } from "../src/index.js";
import { expectSameBits } from "./helpers/close.js";
import { goldenF32 } from "./helpers/golden.js";
import { newRuntime } from "./helpers/runtime.js";
import { randomValues } from "./helpers/values.js";
import { hadamardRef, ulpOf } from "./reference/hadamard.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

/** Every value within `ulps` f32 ulps of `want`, or within `atol` (near zero); the worst in ulps. */
function expectUlps(got: Float32Array, want: ArrayLike<number>, ulps: number, atol: number, label: string): number {
  expect(got.length, label).toBe(want.length);
  let worst = 0;
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    const u = d / ulpOf(want[i]);
    worst = Math.max(worst, u);
    if (!(u <= ulps || d <= atol) && bad.length < 6) bad.push(`[${i}] got ${got[i]}, expected ${want[i]} (${u} ulps)`);
  }
  if (bad.length) expect.fail(`${label}:\n  ${bad.join("\n  ")}`);
  return worst;
}

describe("golden files (gauss2048, explicit signs of width 2048, B = 1024)", () => {
  it.each([
    ["forward H(s x)", false, "gauss2048.hadamard1024.f32"],
    ["inverse s H(x)", true, "gauss2048.hadamard1024.inv.f32"],
  ] as const)("%s: within 2 ulps (1e-6 near zero) of the correctly rounded values, and in fact equal to them", (_, inverse, file) => {
    const x = goldenF32("gauss2048.f32");
    const signs = goldenF32("hadamard_signs.f32");
    const want = goldenF32(file);
    const got = rt.hadamard(x.slice(), { signs, inverse });
    expectUlps(got, want, 2, 1e-6, file);
    // measured: the f64 butterflies and one rounding give the correctly rounded value everywhere
    // (up to the sign of zero: the signs' product makes -0 where the sum is 0)
    expectSameBits(got.map((v) => v + 0), want.map((v) => v + 0), file);
  });

  it("the free function with `{ runtime }` and an F32Buffer in wasm memory give the same bits", () => {
    const x = goldenF32("gauss2048.f32").subarray(8 * 2048, 16 * 2048);
    const signs = goldenF32("hadamard_signs.f32");
    const viaRt = rt.hadamard(x.slice(), { signs });
    expectSameBits(hadamard(x.slice(), { signs, runtime: rt }), viaRt, "hadamard()");
    using buf = rt.f32Buffer(x.length);
    buf.view().set(x);
    expect(rt.hadamard(buf, { signs })).toBe(buf);
    expectSameBits(buf.view(), viaRt, "F32Buffer");
  });
});

describe("against the float64 matrix product", () => {
  it.each([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096])("block %i, forward and inverse, signs and none", (block) => {
    // (the reference is a B x B matrix product: fewer rows for the largest blocks)
    const rows = block >= 1024 ? 1 : 3;
    const width = block >= 2048 ? block : 2 * block;
    const x = randomValues(rows * width, block + 1, 8);
    const signs = Array.from(randomValues(width, block + 2), (v) => (v < 0 ? -1 : 1));
    for (const inverse of [false, true]) {
      for (const s of [signs, undefined]) {
        const want = hadamardRef(x, width, block, s, inverse);
        const got = rt.hadamard(x.slice(), { block, signs: s, inverse });
        // one rounding of a (nearly) exact f64 sum: an ulp, or 1e-12 of the block's magnitude after cancellation
        expectUlps(got, want, 1, 1e-12 * Math.sqrt(block) * 4, `B ${block} ${inverse ? "inverse" : "forward"} ${s ? "signs" : "identity"}`);
      }
    }
  });

  it("property: random block sizes, widths, rows and scales", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer(), fc.boolean(), (lb, blocksPerRow, rows, seed, inverse) => {
        const block = 2 ** lb;
        const width = block * blocksPerRow;
        const scale = 2 ** ((seed >>> 0) % 60 - 30);
        const x = randomValues(rows * width, seed, scale);
        const signs = Array.from(randomValues(width, seed ^ 0x5bd1), (v) => (v < 0 ? -1 : 1));
        const got = rt.hadamard(x.slice(), { block, signs, inverse });
        expectUlps(got, hadamardRef(x, width, block, signs, inverse), 1, 1e-12 * scale * Math.sqrt(block), `B ${block} W ${width}`);
      }),
      { numRuns: 60 },
    );
  });
});

describe("closed forms", () => {
  it("H of a unit vector is the constant 1/sqrt(B); H of a constant c is c sqrt(B) at index 0, exactly", () => {
    for (const block of [16, 64, 1024]) {
      const e0 = new Float32Array(block);
      e0[0] = 1;
      expect(Array.from(rt.hadamard(e0, { block }))).toEqual(new Array(block).fill(1 / Math.sqrt(block)));
      const c = new Float32Array(block).fill(3);
      const want = new Array(block).fill(0);
      want[0] = 3 * Math.sqrt(block);
      expect(Array.from(rt.hadamard(c, { block })).map((v) => v + 0)).toEqual(want);
    }
  });

  it("inverse undoes forward (H H = I, s s = 1) to an ulp of the block's scale, over several chunks of rows", () => {
    const width = 2048;
    const rows = 300; // 2.4 MB: the rows go through wasm in chunks
    const x = randomValues(rows * width, 5, 2);
    const signs = Array.from(randomValues(width, 6), (v) => (v < 0 ? -1 : 1));
    const y = hadamard(hadamard(x.slice(), { signs, runtime: rt }), { signs, inverse: true, runtime: rt });
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i] - x[i]));
    expect(worst).toBeLessThanOrEqual(2 ** -23);
  });

  it("an empty array is returned as it is", () => {
    const x = new Float32Array(0);
    expect(rt.hadamard(x)).toBe(x);
  });
});

describe("bad options", () => {
  it("name the option and what was expected, and leak nothing", () => {
    const before = rt.bytesInUse;
    const x = new Float32Array(2048);
    expect(() => rt.hadamard(x, { block: 1000 })).toThrow("`block` is 1000; expected a power of two from 1 to 16777216");
    expect(() => rt.hadamard(x, { block: 0 })).toThrow("`block` is 0");
    expect(() => rt.hadamard(new Float32Array(1000))).toThrow("`x` has length 1000, expected 1024 (a whole number of blocks of 1024)");
    expect(() => rt.hadamard(x, { signs: [1, -1, 0, 1] as number[], block: 2 })).toThrow("`signs[2]` is 0; expected +1 or -1");
    expect(() => rt.hadamard(x, { signs: new Float32Array(1024).fill(NaN) })).toThrow("`signs[0]` is NaN; expected +1 or -1");
    expect(() => rt.hadamard(x, { signs: new Int8Array(1536).fill(1) })).toThrow("`signs.length` is 1536; expected a positive multiple of the block (1024)");
    expect(() => rt.hadamard(new Float32Array(3072), { signs: new Int8Array(2048).fill(1) })).toThrow("`x` has length 3072, expected 4096 (a whole number of rows of the signs' width 2048)");
    expect(() => rt.hadamard(new Float64Array(1024) as unknown as Float32Array)).toThrow(TypeError);
    expect(() => rt.hadamard(x, { inverse: 1 as unknown as boolean })).toThrow("`inverse` is 1; expected true or false");
    expect(rt.bytesInUse).toBe(before);
  });
});

// The direct dots (dot_<format>: one packed row . an f32 vector, for the formats the registry gives one) on
// their raw exports, against a float64 dot over the reference's dequantized row: every golden row, random rows
// of 1 to 16 blocks of 256, and inf / NaN in x. Exact mode's tolerance: 1e-5 of sum |products|.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, FORMAT_NAMES, type Format, type FormatInfo, type Runtime } from "../src/index.js";
import type { DotKernel } from "../src/core/kernels.js";
import { goldenBytes, goldenF32 } from "./helpers/golden.js";
import { newRuntime } from "./helpers/runtime.js";
import { randomValues } from "./helpers/values.js";
import { REFERENCES } from "./reference/formats/index.js";

const V = 64;
const D = 2048;
const f32Of = (name: string) => goldenF32(`gauss2048.${name}`);

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

/** The kernel on its raw export: one packed row (whole blocks) with x. */
function rawDot(kernel: DotKernel, row: Uint8Array, x: Float32Array): number {
  const mem = rt.memory;
  const rowPtr = mem.alloc(row.length);
  const xPtr = mem.alloc(x.length * 4);
  try {
    mem.u8().set(row, rowPtr);
    mem.f32().set(x, xPtr >>> 2);
    return rt.kernels[kernel](rowPtr, xPtr, x.length);
  } finally {
    mem.dealloc(rowPtr);
    mem.dealloc(xPtr);
  }
}

/** |got - float64 dot(w, x)| <= 1e-5 sum |w x| (+ the smallest normal, for zero rows); inf and NaN as float64 gives them. */
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

const WITH_DOT = FORMAT_NAMES.filter((f) => (FORMATS[f] as FormatInfo).dot !== undefined);

it("the registry names a direct dot exactly for the formats it dots straight from packed rows", () => {
  for (const f of FORMAT_NAMES) expect((FORMATS[f] as FormatInfo).dot !== undefined, f).toBe(FORMATS[f].directDot.below > 0);
  expect(WITH_DOT.length).toBeGreaterThan(0);
});

describe.each(WITH_DOT)("dot_%s", (format: Format) => {
  const info: FormatInfo = FORMATS[format];
  const kernel = info.dot!;
  const ref = REFERENCES[format];

  it("every golden row, the four golden hidden vectors: within 1e-5 of sum |products| of a float64 dot over ggml's values", () => {
    const rowBytes = (D / info.blockElems) * info.blockBytes;
    const gold = goldenBytes(`gauss2048.${format}.bin`);
    const goldDeq = f32Of(`${format}.deq.f32`);
    const hidden = f32Of("hidden.f32");
    for (let b = 0; b < 4; b++) {
      const x = hidden.subarray(b * D, (b + 1) * D);
      for (let r = 0; r < V; r++) {
        expectDot(rawDot(kernel, gold.subarray(r * rowBytes, (r + 1) * rowBytes), x), goldDeq.subarray(r * D, (r + 1) * D), x, `row ${r} vector ${b}`);
      }
    }
  });

  it("random rows of 1, 2, 3, 4 and 16 blocks of 256", () => {
    fc.assert(
      fc.property(fc.constantFrom(256, 512, 768, 1024, 4096), fc.integer({ min: 1, max: 1 << 30 }), fc.float({ min: Math.fround(1e-3), max: Math.fround(1e3), noNaN: true }), (dim, seed, spread) => {
        const row = ref.quantize(randomValues(dim, seed, spread));
        const x = randomValues(dim, seed + 1, 2);
        expectDot(rawDot(kernel, row, x), ref.dequantize(row), x, `dim ${dim}`);
      }),
      { numRuns: 30 },
    );
  });

  it("inf and -inf in x give the float64 dot's inf and NaN", () => {
    const row = ref.quantize(randomValues(512, 9, 2));
    const w = ref.dequantize(row);
    const x = randomValues(512, 10, 2);
    const check = (label: string) => {
      expectDot(rawDot(kernel, row, x), w, x, label);
    };
    x[300] = Infinity;
    check("inf in x");
    x[301] = -Infinity;
    check("inf and -inf in x");
    // one inf per block, meeting every code: the formats with a minimum (q4_1, q5_1) once summed d * code * x
    // and m * x apart, so code 0 gave d * 0 * inf = NaN where the value (0 * d + m) times inf is infinite
    x.fill(0.5);
    for (let b = 0; b < 512 / info.blockElems; b++) {
      x[b * info.blockElems + (b % info.blockElems)] = b % 2 ? -Infinity : Infinity;
      check(`one inf in block ${b}`);
      x[b * info.blockElems + (b % info.blockElems)] = 0.5;
    }
  });
});

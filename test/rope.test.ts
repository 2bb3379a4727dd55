// Rope against the float64 reference (test/reference/rope.ts): every pairing and scaling, partial rotary,
// positions up to 2^20, the cached table, properties (identity at 0, pair lengths), and errors.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ropeFrequencies, resolveRopeConfig, type RopeConfig, type Runtime } from "../src/index.js";
import { expectClose, expectSameBits } from "./helpers/close.js";
import { newRuntime } from "./helpers/runtime.js";
import { Random } from "./helpers/values.js";
import { refInvFreq, refRope, type RefConfig } from "./reference/rope.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

// Unit-normal values and positions from the tests' one generator, in one stream per seed.
function rng(seed: number) {
  const r = new Random(seed);
  return {
    normal: (n: number) => Float32Array.from({ length: n }, () => r.normal()),
    ints: (n: number, max: number) => Array.from({ length: n }, () => Math.floor(r.open() * max)),
  };
}

const SCALINGS: Record<string, RopeConfig["scaling"]> = {
  none: { type: "none" },
  linear: { type: "linear", factor: 4 },
  dynamic: { type: "dynamic", factor: 2, originalContext: 4096 },
  dynamicFixed: { type: "dynamic", factor: 4, originalContext: 2048, seqLen: 30000 },
  yarn: { type: "yarn", factor: 4, originalContext: 32768 },
  yarnBetas: { type: "yarn", factor: 16, originalContext: 4096, betaFast: 16, betaSlow: 2, attnFactor: 0.8 },
  yarnUntruncated: { type: "yarn", factor: 32, originalContext: 4096, truncate: false },
  llama3: { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 8192 },
  freqs: { type: "freqs", divisors: Float32Array.from({ length: 32 }, (_, i) => 1 + (i % 5) * 0.75) },
};

function run(cfg: RopeConfig, x: Float32Array, positions: number[], heads: number): Float32Array {
  const rope = rt.rope(cfg);
  try {
    return rope.apply(x.slice(), positions, heads);
  } finally {
    rope.dispose();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.each(["norm", "neox"] as const)("pairing %s", (pairing) => {
  describe.each(Object.keys(SCALINGS))("scaling %s", (name) => {
    const scaling = SCALINGS[name];
    const cfg: RopeConfig = { headDim: 64, base: name === "llama3" ? 500000 : 10000, pairing, scaling };

    it("matches float64 within 1e-5 for positions below 65536", () => {
      const r = rng(7 + name.length);
      const tokens = 37;
      const heads = 3;
      const x = r.normal(tokens * heads * 64);
      const positions = r.ints(tokens, 65536);
      positions[0] = 0;
      positions[1] = 65535;
      expectClose(run(cfg, x, positions, heads), refRope(x, positions, heads, cfg as RefConfig), { atol: 1e-5 }, `${pairing}/${name}`);
    });

    it("matches float64 within 1e-4 for positions up to 2^20", () => {
      const r = rng(99 + name.length);
      const tokens = 29;
      const x = r.normal(tokens * 2 * 64);
      const positions = r.ints(tokens, 2 ** 20 + 1);
      positions[0] = 2 ** 20;
      positions[1] = 2 ** 20 - 1;
      expectClose(run(cfg, x, positions, 2), refRope(x, positions, 2, cfg as RefConfig), { atol: 1e-4 }, `${pairing}/${name}`);
    });

    it("partial rotary: rotated dims match, the rest keep their bits", () => {
      const partial: RopeConfig = { ...cfg, headDim: 80, rotaryDim: 64 };
      const r = rng(5);
      const tokens = 9;
      const x = r.normal(tokens * 2 * 80);
      // pass-through lanes get arbitrary bit patterns, NaN payloads included
      const bits = new Uint32Array(x.buffer);
      for (let i = 0; i < x.length; i++) if (i % 80 >= 64) bits[i] = (Math.imul(i, 2654435761) ^ 0x7fc00001) >>> 0;
      const positions = r.ints(tokens, 100000);
      const y = run(partial, x, positions, 2);
      const ref = refRope(x, positions, 2, partial as RefConfig);
      const rot = (a: ArrayLike<number>) => Array.from(a).filter((_, i) => i % 80 < 64);
      expectClose(rot(y), rot(ref), { atol: 1e-5 }, "rotated dims");
      // compared as u32 so NaN payloads cannot be canonicalised on the way
      const pass = (a: Float32Array) => {
        const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
        return new Float32Array(Uint32Array.from(Array.from(u).filter((_, i) => i % 80 >= 64)).buffer);
      };
      expectSameBits(pass(y), pass(x), "pass-through dims");
    });
  });

  // head sizes and rotary dims around the SIMD widths (4 lanes; NEOX works on halves of R)
  it.each([
    [2, 2], [4, 4], [6, 6], [8, 8], [10, 10], [12, 8], [16, 16], [18, 18], [34, 34], [64, 32], [64, 24], [80, 32],
    [96, 96], [128, 128], [256, 256], [12, 2], [20, 14],
  ])("headDim %i rotaryDim %i", (headDim, rotaryDim) => {
    const r = rng(headDim * 31 + rotaryDim);
    const cfg: RopeConfig = { headDim, rotaryDim, base: 10000, pairing };
    for (const [tokens, heads] of [[1, 1], [3, 2], [17, 3]]) {
      const x = r.normal(tokens * heads * headDim);
      const positions = r.ints(tokens, 70000);
      const y = run(cfg, x, positions, heads);
      const ref = refRope(x, positions, heads, cfg as RefConfig);
      expectClose(y, ref, { atol: 1e-5 }, `${pairing} ${headDim}/${rotaryDim} ${tokens}x${heads}`);
    }
  });

  it("rotates many tokens (several slices of the scratch) like one at a time", () => {
    const cfg: RopeConfig = { headDim: 128, base: 10000, pairing };
    const r = rng(3);
    const tokens = 150; // 150 x 8 x 128 x 4 bytes: more than one 256 KiB slice
    const x = r.normal(tokens * 8 * 128);
    const positions = r.ints(tokens, 5000);
    const y = run(cfg, x, positions, 8);
    expectClose(y, refRope(x, positions, 8, cfg as RefConfig), { atol: 1e-5 }, "150 tokens");
    const rope = rt.rope(cfg);
    for (let t = 0; t < tokens; t += 37) {
      const one = rope.apply(x.slice(t * 1024, (t + 1) * 1024), [positions[t]], 8);
      expectSameBits(one, y.subarray(t * 1024, (t + 1) * 1024), `token ${t}`);
    }
    rope.dispose();
  });

  it("is the identity at position 0 (no magnitude scaling)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).map((h) => h * 2),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(...Object.keys(SCALINGS).filter((s) => !s.startsWith("yarn") && s !== "freqs")),
        fc.infiniteStream(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })),
        (headDim, heads, name, values) => {
          const x = Float32Array.from(values.take(headDim * heads * 2));
          const y = run({ headDim, pairing, scaling: SCALINGS[name] }, x, [0, 0], heads);
          for (let i = 0; i < x.length; i++) if (y[i] !== x[i]) return false;
          return true;
        },
      ),
      { numRuns: 60 },
    );
  });

  it("preserves each pair's length (times the YaRN magnitude)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32 }).map((h) => h * 2),
        fc.nat({ max: 2 ** 20 }),
        fc.constantFrom(...Object.keys(SCALINGS)),
        fc.integer(),
        (headDim, position, name, seed) => {
          const scaling = name === "freqs" ? { type: "freqs" as const, divisors: new Float32Array(headDim / 2).fill(3) } : SCALINGS[name];
          const rope = rt.rope({ headDim, pairing, scaling });
          const x = rng(seed).normal(headDim);
          const y = rope.apply(x.slice(), [position], 1);
          const m = rope.magnitude;
          rope.dispose();
          const half = headDim / 2;
          for (let i = 0; i < half; i++) {
            const [a, b] = pairing === "norm" ? [2 * i, 2 * i + 1] : [i, i + half];
            const before = Math.hypot(x[a], x[b]) * m;
            const after = Math.hypot(y[a], y[b]);
            if (Math.abs(after - before) > 1e-6 + 1e-6 * before) return false;
          }
          return true;
        },
      ),
      { numRuns: 80 },
    );
  });

  it("matches the reference on random configs and positions", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.nat({ max: 65535 }), { minLength: 1, maxLength: 12 }),
        fc.constantFrom(...Object.keys(SCALINGS).filter((s) => s !== "freqs")),
        fc.double({ min: 100, max: 1e6, noNaN: true }),
        fc.integer(),
        (halfHead, halfRot, heads, positions, name, base, seed) => {
          const headDim = 2 * Math.max(halfHead, halfRot);
          const rotaryDim = 2 * Math.min(halfHead, halfRot);
          const cfg: RopeConfig = { headDim, rotaryDim, base, pairing, scaling: SCALINGS[name] };
          const x = rng(seed).normal(positions.length * heads * headDim);
          const y = run(cfg, x, positions, heads);
          expect(maxAbsDiff(y, refRope(x, positions, heads, cfg as RefConfig))).toBeLessThan(1e-5);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("uses a cached table for positions in range and falls back outside it", () => {
    const cfg: RopeConfig = { headDim: 64, base: 10000, pairing, scaling: { type: "yarn", factor: 4, originalContext: 4096 } };
    const r = rng(11);
    const x = r.normal(20 * 2 * 64);
    const positions = r.ints(20, 1000);
    const rope = rt.rope(cfg);
    const plain = rope.apply(x.slice(), positions, 2);
    expect(rope.cache(1000)).toBe(rope);
    expect(rope.cachedPositions).toBe(1000);
    expectSameBits(rope.apply(x.slice(), positions, 2), plain, "cached = computed");
    const far = [...positions.slice(0, 19), 5000];
    expectClose(rope.apply(x.slice(), far, 2), refRope(x, far, 2, cfg as RefConfig), { atol: 1e-5 }, "past the cache");
    rope.cache(0);
    expect(rope.cachedPositions).toBe(0);
    rope.dispose();
  });
});

describe("dynamic NTK", () => {
  it("frequencies follow the largest position of each call, cache or not", () => {
    const cfg: RopeConfig = { headDim: 32, base: 10000, pairing: "neox", scaling: { type: "dynamic", factor: 2, originalContext: 512 } };
    const rope = rt.rope(cfg).cache(256);
    const r = rng(2);
    for (const positions of [[0, 10, 255], [3, 511], [7, 2000], [1, 2, 3], [4096]]) {
      const x = r.normal(positions.length * 32);
      expectClose(rope.apply(x.slice(), positions, 1), refRope(x, positions, 1, cfg as RefConfig), { atol: 1e-5 }, `${positions}`);
    }
    expect(rope.frequencies(512)).toEqual(rope.frequencies(1));
    expect(rope.frequencies(2000)[5]).toBeGreaterThan(0);
    expect(rope.frequencies(2000)[5]).toBeLessThan(rope.frequencies(512)[5]);
    rope.dispose();
  });
});

describe("frequencies", () => {
  it.each(Object.keys(SCALINGS))("%s equals the float64 reference", (name) => {
    const cfg: RopeConfig = { headDim: 64, base: 500000, pairing: "neox", scaling: SCALINGS[name] };
    for (const seqLen of [1, 4096, 100000]) {
      expectClose(ropeFrequencies(resolveRopeConfig(cfg), seqLen), refInvFreq(cfg as RefConfig, seqLen), { rtol: 1e-14 }, name);
    }
  });
});

describe("large positions", () => {
  it("keeps full accuracy at 2^20 and degrades gracefully to 2^32 - 1", () => {
    const cfg: RopeConfig = { headDim: 128, base: 10000, pairing: "neox" };
    const r = rng(17);
    const errors: Record<string, number> = {};
    for (const [label, max] of [["<65536", 65536], ["<=2^20", 2 ** 20 + 1], ["<2^32", 2 ** 32]] as const) {
      const positions = r.ints(64, max);
      const x = r.normal(64 * 4 * 128);
      const y = run(cfg, x, positions, 4);
      errors[label] = maxAbsDiff(y, refRope(x, positions, 4, cfg as RefConfig));
    }
    expect(errors["<65536"]).toBeLessThan(2e-6);
    expect(errors["<=2^20"]).toBeLessThan(2e-6);
    expect(errors["<2^32"]).toBeLessThan(1e-4);
  });

  it("takes positions as Int32Array, Uint32Array or numbers alike", () => {
    const rope = rt.rope({ headDim: 8, pairing: "norm" });
    const x = rng(4).normal(3 * 8);
    const a = rope.apply(x.slice(), [5, 2 ** 31 - 1, 2 ** 32 - 1], 1);
    const b = rope.apply(x.slice(), Uint32Array.of(5, 2 ** 31 - 1, 2 ** 32 - 1), 1);
    expectSameBits(b, a, "Uint32Array");
    const c = rope.apply(x.slice(0, 16), Int32Array.of(5, 2 ** 31 - 1), 1);
    expectSameBits(c, a.subarray(0, 16), "Int32Array");
    // x may be a view into a larger buffer: only its own values change
    const big = new Float32Array(40).fill(7);
    big.set(x, 8);
    rope.apply(big.subarray(8, 32), [5, 2 ** 31 - 1, 2 ** 32 - 1], 1);
    expectSameBits(big.subarray(8, 32), a, "subarray");
    expect([...big.subarray(0, 8), ...big.subarray(32)]).toEqual(new Array(16).fill(7));
    rope.dispose();
  });
});

describe("errors", () => {
  const ok: RopeConfig = { headDim: 8, pairing: "neox" };
  it.each([
    [{ ...ok, rotaryDim: 7 }, /`rotaryDim` is 7/],
    [{ ...ok, rotaryDim: 10 }, /`rotaryDim` is 10/],
    [{ ...ok, headDim: 0 }, /`headDim` must be a positive integer/],
    [{ ...ok, base: -1 }, /`base` is -1/],
    [{ ...ok, pairing: "gptj" }, /Unknown `pairing` "gptj"\. Expected one of: norm, neox/],
    [{ ...ok, scaling: { type: "linear", factor: 0 } }, /`scaling\.factor` is 0/],
    [{ ...ok, scaling: { type: "yarn", factor: -2, originalContext: 4096 } }, /`scaling\.factor` is -2/],
    [{ ...ok, scaling: { type: "yarn", factor: 2 } }, /`scaling\.originalContext` must be a positive integer/],
    [{ ...ok, scaling: { type: "dynamic", factor: 2, originalContext: 10, seqLen: 1.5 } }, /`scaling\.seqLen`/],
    [{ ...ok, scaling: { type: "llama3", factor: 8, lowFreqFactor: 4, highFreqFactor: 1, originalContext: 8192 } }, /`scaling\.highFreqFactor`/],
    [{ ...ok, scaling: { type: "freqs", divisors: new Float32Array(3) } }, /`scaling\.divisors` has length 3, expected 4/],
    [{ ...ok, scaling: { type: "freqs", divisors: [1, 1, 0, 1] } }, /`scaling\.divisors\[2\]` is 0/],
    [{ ...ok, scaling: { type: "ntk" } }, /Unknown `scaling\.type` "ntk"/],
    [{ ...ok, scaling: { type: "yarn", factor: 2, originalContext: 64, truncate: "no" } }, /`scaling\.truncate` is "no"/],
    [null, /`config` must be an object/],
  ])("config %# throws naming the field", (cfg, message) => {
    expect(() => rt.rope(cfg as RopeConfig)).toThrow(message);
  });

  it("apply checks x, positions and heads", () => {
    const rope = rt.rope(ok);
    const x = new Float32Array(16);
    expect(() => rope.apply(x, [0, -1], 1)).toThrow(/`positions\[1\]` is -1/);
    expect(() => rope.apply(x, [0, 1.5], 1)).toThrow(/`positions\[1\]` is 1\.5/);
    expect(() => rope.apply(x, Int32Array.of(3, -4), 1)).toThrow(RangeError);
    expect(() => rope.apply(x, [0, NaN], 1)).toThrow(/`positions\[1\]`/);
    expect(() => rope.apply(x, [0, 1, 2], 1)).toThrow(/`x` has length 16, expected 24/);
    expect(() => rope.apply(x, [0, 1], 2)).toThrow(/`x` has length 16, expected 32/);
    expect(() => rope.apply(x, [0, 1], 0)).toThrow(/`heads` must be a positive integer/);
    expect(() => rope.apply(new Float64Array(16) as unknown as Float32Array, [0, 1], 1)).toThrow(/`x` must be a Float32Array/);
    expect(() => rope.apply(x, "01" as unknown as number[], 1)).toThrow(/`positions` must be/);
    expect(() => rope.cache(-1)).toThrow(/`maxPosition` is -1/);
    expect(rope.apply(new Float32Array(0), [], 1).length).toBe(0);
    rope.dispose();
    expect(() => rope.apply(x, [0, 1], 1)).toThrow(/disposed/);
  });

  it("gives its memory back", () => {
    const before = rt.bytesInUse;
    const rope = rt.rope({ headDim: 128, pairing: "norm" }).cache(4096);
    rope.apply(new Float32Array(4 * 128), [1, 2, 3, 4], 1);
    expect(rt.bytesInUse).toBeGreaterThan(before);
    rope.dispose();
    expect(rt.bytesInUse).toBe(before);
  });
});

// Mode "ggml" with integer dots (the formats whose registry entry has intDot): the activation records written
// in wasm against the plain x86 quantizers (bit for bit), and the logits against the float64 model of the same
// quantized arithmetic (test/reference/ggml-dot.ts) within 1e-6 of the sum of |terms|; then ggml's golden logits,
// top-k and nearest through the same kernels, and the default modes.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMAT_NAMES, FORMATS, type Format, type Runtime } from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";
import { Random, randomValues } from "./helpers/values.js";
import { ggmlDotRef, quantizeActivations } from "./reference/ggml-dot.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

const INT_FORMATS = FORMAT_NAMES.filter((f) => FORMATS[f].intDot);
const KINDS = { q8_0: 32, q8_1: 32, q8_k: 256 } as const;

/** Logits within `tol` of the sum of |terms| of the model (NaN only where the model has NaN). */
function expectModel(got: Float32Array, logits: Float64Array, magnitude: Float64Array, tol: number, label: string): void {
  let count = 0;
  const bad: string[] = [];
  for (let i = 0; i < logits.length; i++) {
    const e = logits[i];
    const ok = Number.isNaN(e) ? Number.isNaN(got[i]) : got[i] === e || Math.abs(got[i] - e) <= tol * magnitude[i];
    if (!ok) {
      count++;
      if (bad.length < 6) bad.push(`[${i}] got ${got[i]}, model ${e} (sum |terms| ${magnitude[i]})`);
    }
  }
  if (count > 0) expect.fail(`${label}: ${count} of ${logits.length} logits off:\n  ${bad.join("\n  ")}`);
}

// every integer-dot format: its records come from the kind its registry entry names (vecDot)
const KIND_FORMATS = INT_FORMATS.map((format) => {
  const vecDot = FORMATS[format].vecDot as keyof typeof KINDS;
  return [format, vecDot, KINDS[vecDot]] as const;
});

describe.each(KIND_FORMATS)("%s: activation records (%s)", (format, vecDot, block) => {
  const id = FORMATS[format].id;

  /** The record of each vector, read back: codes (both layouts), d, d / 256, sums. */
  function records(hidden: Float32Array, dim: number) {
    const k = rt.kernels;
    const mem = rt.memory;
    const n = hidden.length / dim;
    const bytes = k.activation_bytes(id, dim);
    const x = mem.alloc(hidden.length * 4);
    const act = mem.alloc(n * bytes);
    try {
      mem.f32().set(hidden, x >>> 2);
      k.quantize_activations(id, x, n, dim, act);
      const p = Math.ceil(dim / block) * block;
      const nb = p / block;
      const nb4 = (nb + 3) & ~3;
      return Array.from({ length: n }, (_, v) => {
        const at = act + v * bytes;
        const buf = mem.u8().slice(at, at + bytes).buffer;
        const codes16 = new Int16Array(buf, 0, p);
        const inOrder = new Int8Array(p);
        for (let r = 0; r < p / 16; r++) for (let i = 0; i < 8; i++) [inOrder[16 * r + 2 * i], inOrder[16 * r + 2 * i + 1]] = [codes16[16 * r + i], codes16[16 * r + 8 + i]];
        return {
          codes16: inOrder,
          codes8: new Int8Array(buf, 2 * p, p),
          d: new Float32Array(buf, 3 * p, nb),
          d256: new Float32Array(buf, 3 * p + 4 * nb4, nb),
          sums: vecDot === "q8_k" ? new Int16Array(buf, 3 * p + 8 * nb4, nb * 16) : new Int32Array(buf, 3 * p + 8 * nb4, nb * 4),
          // Q8_1: s per block, after the lane sums
          s: vecDot === "q8_1" ? new Float32Array(buf, 3 * p + 24 * nb4, nb) : undefined,
        };
      });
    } finally {
      mem.dealloc(x);
      mem.dealloc(act);
    }
  }

  function expectRecords(hidden: Float32Array, dim: number, label: string): void {
    const got = records(hidden, dim);
    got.forEach((r, v) => {
      const ref = quantizeActivations(vecDot, hidden.subarray(v * dim, (v + 1) * dim), dim);
      const at = `${label} vector ${v}`;
      expect(Array.from(r.codes8), `${at}: codes`).toEqual(Array.from(ref.codes));
      expect(Array.from(r.codes16), `${at}: i16 codes`).toEqual(Array.from(ref.codes));
      expect(Array.from(r.d), `${at}: d`).toEqual(Array.from(ref.d));
      expect(Array.from(r.d256), `${at}: d / 256`).toEqual(Array.from(ref.d, (d) => Math.fround(d / 256)));
      // Q8_0: four lane sums per block, lane i over values 4i..4i+3 and 16 + 4i..16 + 4i + 3
      const lane = (b: number, i: number) => [0, 1, 2, 3, 16, 17, 18, 19].reduce((a, j) => a + ref.codes[32 * b + 4 * i + j], 0);
      const sums = vecDot === "q8_k" ? Array.from(ref.sums16) : Array.from({ length: ref.d.length * 4 }, (_, k) => lane(k >> 2, k & 3));
      expect(Array.from(r.sums), `${at}: sums`).toEqual(sums);
      if (vecDot === "q8_1") expect(Array.from(r.s!), `${at}: s`).toEqual(Array.from(ref.s!));
    });
  }

  it.each([1, 2, 15, 16, 17, 31, 32, 33, 100, 255, 256, 257, 1000, 2048])("dim %i, 3 vectors: bit for bit the plain quantizer", (dim) => {
    expectRecords(randomValues(3 * dim, dim * 7 + 1, 6), dim, `dim ${dim}`);
  });

  it("ties, zeros, one large value, subnormals, huge values, signs of equal magnitude, infinities", () => {
    const dim = 512;
    const rows: number[][] = [];
    // x * 127 / amax lands on k + 0.5 exactly: amax 127, values k + 0.5 (ties go to even, not away)
    rows.push(Array.from({ length: dim }, (_, j) => (j % 32 === 0 ? 127 : ((j % 9) - 4) + 0.5)));
    rows.push(new Array(dim).fill(0));
    rows.push(Array.from({ length: dim }, (_, j) => (j === 77 ? 1000 : (j % 5) * 1e-3)));
    rows.push(new Array(dim).fill(1e-40));
    rows.push(Array.from({ length: dim }, (_, j) => (j % 2 ? 3e38 : -1e30)));
    // the largest |x| appears with both signs: Q8_K takes the first one's sign
    rows.push(Array.from({ length: dim }, (_, j) => (j % 256 === 3 ? -2 : j % 256 === 200 ? 2 : Math.sin(j))));
    rows.push(Array.from({ length: dim }, (_, j) => (j % 256 === 3 ? 2 : j % 256 === 200 ? -2 : Math.sin(j))));
    // an Inf (the block's codes: -128 there, from cvtps2dq's INT_MIN, 0 elsewhere), two in one block (Q8_1's i32 sum
    // of the codes wraps to 0), -Inf beside +Inf
    rows.push(Array.from({ length: dim }, (_, j) => (j === 5 ? Infinity : j === 40 || j === 41 ? -Infinity : j === 300 ? Infinity : j === 301 ? -Infinity : Math.cos(j))));
    const hidden = Float32Array.from(rows.flat());
    expectRecords(hidden, dim, "special rows");
  });
});

describe.each(INT_FORMATS)('%s mode "ggml": integer dots', (format: Format) => {
  const info = FORMATS[format];

  function check(vocab: number, dim: number, n: number, seed: number, tol = 1e-6): void {
    using table = rt.tableFromF32(randomValues(vocab * dim, seed, 2), { vocab, dim, format });
    const hidden = randomValues(n * dim, seed + 1, 4);
    const got = table.project(hidden, { mode: "ggml" });
    const { logits, magnitude } = ggmlDotRef(format, info.vecDot, table.bytes(), vocab, table.rowBytes, info.blockElems, dim, hidden);
    expectModel(got, logits, magnitude, tol, `${format} ${vocab} x ${dim}, ${n} vectors`);
  }

  it.each([1, 31, 32, 33, 100, 256, 257, 1000])("dim %i, batches 1..9: the float64 model within 1e-6 of sum |terms|", (dim) => {
    for (const n of [1, 2, 3, 4, 5, 8, 9]) check(13, dim, n, dim * 17 + n);
  });

  it("long rows, several slices and passes", () => {
    check(50, 4096, 3, 5);
    check(70001, 32, 2, 6);
    check(23, 2048, 37, 7);
  });

  it("an infinite activation: that vector's logits are not finite (Q8_K: NaN, as the model), in every batch size; the batch's other vectors are untouched", () => {
    const [vocab, dim] = [9, 512];
    using table = rt.tableFromF32(randomValues(vocab * dim, 31, 2), { vocab, dim, format });
    const hidden = randomValues(5 * dim, 32, 4);
    const bad = hidden.slice();
    bad[2 * dim + 300] = Infinity;
    const clean = table.project(hidden, { mode: "ggml" });
    const got = table.project(bad, { mode: "ggml" });
    const alone = table.project(bad.subarray(2 * dim, 3 * dim), { mode: "ggml" });
    // Q8_K: max = inf makes d = 1 / (-127 / inf) = -inf and every code 0, so each term is 0 * inf (the model's NaN)
    const { logits } = ggmlDotRef(format, info.vecDot, table.bytes(), vocab, table.rowBytes, info.blockElems, dim, bad.subarray(2 * dim, 3 * dim));
    for (let r = 0; r < vocab; r++) {
      for (const g of [got[2 * vocab + r], alone[r]]) {
        expect(Number.isFinite(g), `row ${r}: ${g}`).toBe(false);
        if (info.vecDot === "q8_k") expect(g, `row ${r}`).toBeNaN();
      }
      if (info.vecDot === "q8_k") expect(logits[r]).toBeNaN();
    }
    for (const v of [0, 1, 3, 4]) expect(Array.from(got.subarray(v * vocab, (v + 1) * vocab)), `vector ${v}`).toEqual(Array.from(clean.subarray(v * vocab, (v + 1) * vocab)));
  });

  it("top-k and argmax take the same logits", () => {
    const [vocab, dim, n] = [517, 256, 3];
    using table = rt.tableFromF32(randomValues(vocab * dim, 11, 2), { vocab, dim, format });
    const hidden = randomValues(n * dim, 12, 4);
    const logits = table.project(hidden, { mode: "ggml" });
    const { ids, scores } = table.topk(hidden, 5, { mode: "ggml" });
    const best = table.argmax(hidden, { mode: "ggml" });
    for (let b = 0; b < n; b++) {
      const row = Array.from(logits.subarray(b * vocab, (b + 1) * vocab));
      const order = row.map((s, i) => [s, i]).sort((p, q) => q[0] - p[0] || p[1] - q[1]);
      expect(Array.from(ids.subarray(5 * b, 5 * b + 5))).toEqual(order.slice(0, 5).map((p) => p[1]));
      expect(Array.from(scores.subarray(5 * b, 5 * b + 5))).toEqual(order.slice(0, 5).map((p) => p[0]));
      expect(best[b]).toBe(order[0][1]);
    }
  });

  it('nearest by "dot" in mode "ggml" ranks by the same logits', () => {
    const [vocab, dim] = [300, 128];
    using table = rt.tableFromF32(randomValues(vocab * dim, 21, 2), { vocab, dim, format });
    const v = randomValues(dim, 22, 4);
    const logits = table.project(v, { mode: "ggml" });
    const { ids, scores } = table.nearest(v, 4, { metric: "dot", mode: "ggml" });
    const order = Array.from(logits).map((s, i) => [s, i]).sort((p, q) => q[0] - p[0] || p[1] - q[1]);
    expect(Array.from(ids)).toEqual(order.slice(0, 4).map((p) => p[1]));
    expect(Array.from(scores)).toEqual(order.slice(0, 4).map((p) => p[0]));
  });
});

// Tables of arbitrary bytes, as a hostile or odd file holds them: every code byte (Q8_0's -128 too, which ggml's
// quantizer never writes but its reader accepts) with finite scales of every magnitude. The integer dots must
// give the model's logits for every byte, in every batch size, and rows in the pairs and fours the kernels step
// by as well as alone (vocab 13 and 2: odd and even counts), and each vector's logits the same bits in a batch as
// alone.
describe.each(["q8_0", "q4_0"] as const)('%s mode "ggml": arbitrary code bytes', (format) => {
  const info = FORMATS[format];

  /** vocab rows of random bytes; each block's f16 scale finite (exponent below 31), of either sign. */
  function randomTable(vocab: number, dim: number, seed: number): Uint8Array {
    const r = new Random(seed);
    const rowBytes = Math.ceil(dim / info.blockElems) * info.blockBytes;
    const data = Uint8Array.from({ length: vocab * rowBytes }, () => r.u32() & 255);
    for (let at = 0; at < data.length; at += info.blockBytes) {
      const half = (r.u32() & 0x8000) | (Math.floor(r.unit() * 31) << 10) | (r.u32() & 0x3ff);
      data[at] = half & 255;
      data[at + 1] = half >> 8;
    }
    return data;
  }

  it.each([32, 100, 4096])("dim %i, vocab 13 and 2, batches 1..9: the float64 model within 1e-6 of sum |terms|", (dim) => {
    for (const vocab of [13, 2]) {
      const data = randomTable(vocab, dim, dim + vocab);
      // the -128 code really occurs (Q8_0), at the start and the end of a block
      if (format === "q8_0") {
        data[2] = 0x80;
        data[info.blockBytes - 1] = 0x80;
      }
      using table = rt.table({ vocab, dim, format, data });
      for (const n of [1, 2, 3, 4, 5, 8, 9]) {
        const hidden = randomValues(n * dim, dim * 31 + n, 4);
        const got = table.project(hidden, { mode: "ggml" });
        const { logits, magnitude } = ggmlDotRef(format, info.vecDot, data, vocab, table.rowBytes, info.blockElems, dim, hidden);
        expectModel(got, logits, magnitude, 1e-6, `${format} random bytes ${vocab} x ${dim}, ${n} vectors`);
        // every batch path adds a row's blocks in the same order: each vector's logits as when projected alone
        for (let v = 0; v < n; v++) {
          const alone = table.project(hidden.subarray(v * dim, (v + 1) * dim), { mode: "ggml" });
          expect(Array.from(got.subarray(v * vocab, (v + 1) * vocab)), `${vocab} x ${dim}, vector ${v} of ${n}`).toEqual(Array.from(alone));
        }
      }
    }
  });
});

// ggml's logits come from its CPU kernels, whose f32 roundings depend on the kernel (fixtures README: "can change
// in the last bits with the instruction set and compiler"). Its AVX2 q6_K kernel sums unsigned codes (0..63) per
// lane and subtracts the 32 * bsums term in other lanes, so its lanes cancel: on golden row 2 (one 1000 among tiny
// values) it lands 1.2e-6 of sum |products| from the exact value. The tolerance: 2e-6 of sum |products|.
const GOLDEN_TOL = 2e-6;

describe.each(INT_FORMATS)("%s: ggml's golden logits", (format: Format) => {
  it(`reproduced within ${GOLDEN_TOL} of sum |products| (ggml's float roundings differ)`, () => {
    const dir = new URL("./fixtures/ggml/", import.meta.url);
    const f32 = (name: string) => {
      const b = readFileSync(new URL(name, dir));
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    const [vocab, dim] = [64, 2048];
    const data = readFileSync(new URL(`gauss2048.${format}.bin`, dir));
    using table = rt.table({ vocab, dim, format, data });
    const hidden = f32("gauss2048.hidden.f32");
    const golden = f32(`gauss2048.${format}.logits.f32`);
    const got = table.project(hidden, { mode: "ggml" });
    const info = FORMATS[format];
    const { logits, magnitude } = ggmlDotRef(format, info.vecDot, new Uint8Array(data), vocab, table.rowBytes, info.blockElems, dim, hidden);
    let worst = 0;
    for (let i = 0; i < golden.length; i++) {
      if (!Number.isFinite(golden[i])) {
        expect(got[i], `logit ${i}`).toBe(golden[i]);
        continue;
      }
      // the model agrees with ggml too (it is ggml's arithmetic in float64)
      expect(Math.abs(logits[i] - golden[i]), `model, logit ${i}`).toBeLessThanOrEqual(GOLDEN_TOL * magnitude[i] + 1e-30);
      worst = Math.max(worst, Math.abs(got[i] - golden[i]) / (magnitude[i] + 1e-30));
    }
    expect(worst).toBeLessThanOrEqual(GOLDEN_TOL);
  });
});

// loadEmbeddingModel on GGUFs built like Ternary Bonsai 2 files (test/helpers/bonsai2-gguf.ts): the rotation is
// invisible — lookup gives the real rows, the head takes real hidden states — for the untied version 1 (PTQ1_0
// latent token table, PQ2_0 folded head) and the tied version 2; the raw latent rows stay reachable; every
// check of the `prism.hadamard.*` metadata refuses a bad file by the key's name.
import { beforeAll, describe, expect, it } from "vitest";
import { loadEmbeddingModel, loadStaticModel, readGGUF, RotatedTable, type EmbeddingModel, type Format, type Runtime } from "../src/index.js";
import { expectClose, expectSameBits } from "./helpers/close.js";
import { bonsai2Gguf, type Bonsai2Options } from "./helpers/bonsai2-gguf.js";
import { newRuntime } from "./helpers/runtime.js";
import { randomValues } from "./helpers/values.js";
import { reference as ptq1Ref } from "./reference/formats/ptq1_0.js";
import { fwhtRef } from "./reference/hadamard.js";
import { exactRef, fastBound, fastSpec } from "./reference/fast.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

const N = 3; // hidden vectors
const norm = (v: ArrayLike<number>, at = 0, n = v.length) => {
  let s = 0;
  for (let j = at; j < at + n; j++) s += v[j] * v[j];
  return Math.sqrt(s);
};

/** float64 logits of real rows (V x D) against real hidden vectors, and |row| |h| per logit. */
function logitsRef(rows: ArrayLike<number>, vocab: number, dim: number, hidden: Float32Array) {
  const logits = new Float64Array(N * vocab);
  const scale = new Float64Array(N * vocab);
  for (let v = 0; v < N; v++) {
    const hn = norm(hidden, v * dim, dim);
    for (let r = 0; r < vocab; r++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += rows[r * dim + j] * hidden[v * dim + j];
      logits[v * vocab + r] = s;
      scale[v * vocab + r] = norm(rows, r * dim, dim) * hn;
    }
  }
  return { logits, scale };
}

/** Fast-mode logits of real hidden vectors against the latent table: within fastBound of float64 over H(s h). */
function checkFast(format: Format, data: Uint8Array, vocab: number, dim: number, hidden: Float32Array, signs: Float32Array | undefined, got: Float32Array): void {
  const spec = fastSpec(format);
  const latent = Float32Array.from(fwhtRef(hidden, dim, 1024, signs, false));
  for (let v = 0; v < N; v++) {
    const h = latent.subarray(v * dim, (v + 1) * dim);
    const exact = exactRef(spec, data, vocab, dim, h);
    const { bound, magnitude } = fastBound(spec, data, vocab, dim, h);
    const allowed = bound.map((b, r) => b + 1e-6 * magnitude[r]);
    expectClose(got.subarray(v * vocab, (v + 1) * vocab), exact, { rtol: 1, scale: allowed }, `${format} fast: vector ${v} (within the bound)`);
  }
}

function expectLogits(got: Float32Array, want: Float64Array, tol: Float64Array | number, label: string): void {
  expectClose(got, want, typeof tol === "number" ? { atol: tol } : { rtol: 1, scale: tol }, label);
}

describe("untied version 1: PTQ1_0 latent token table, PQ2_0 folded head (explicit signs, widths 2048 and 3072)", () => {
  const file = bonsai2Gguf();
  const { vocab, dim } = file;
  const hidden = randomValues(N * dim, 21, 4);
  let model: EmbeddingModel;
  beforeAll(async () => {
    model = await loadEmbeddingModel(rt, file.bytes);
    return () => model.dispose();
  });

  it("reads the rotation, wraps both tables and keeps the qwen35 metadata", () => {
    expect(model.architecture).toBe("qwen35");
    expect(model.tied).toBe(false);
    expect(model.tokens).toBeInstanceOf(RotatedTable);
    expect(model.head).toBeInstanceOf(RotatedTable);
    expect([model.tokens.format, model.head.format, model.tokens.dim, model.head.vocab]).toEqual(["ptq1_0", "pq2_0", dim, vocab]);
    expect(model.rotation).toMatchObject({ version: 1, block: 1024, signMode: "explicit", tiedOutput: false, gdnVGrouped: true, inverseWeightNames: ["token_embd.weight"] });
    expect([...model.rotation!.signs.keys()]).toEqual([2048, 3072]);
    expect(Array.from(model.rotation!.signs.get(2048)!)).toEqual(Array.from(file.signs!));
  });

  it("lookup gives the real rows s * H(z), exactly (the latent rows are ternary, their transforms exact in f32)", () => {
    const ids = [0, vocab - 1, 7, 7, 42];
    const got = model.tokens.lookup(ids);
    const want = new Float32Array(ids.length * dim);
    ids.forEach((id, i) => want.set(file.tokens.subarray(id * dim, (id + 1) * dim), i * dim));
    expectSameBits(got.map((v) => v + 0), want.map((v) => v + 0), "lookup");
    // into wasm memory, no copy
    using buf = rt.f32Buffer(ids.length * dim);
    expectSameBits(model.tokens.lookup(ids, buf), got, "lookup into an F32Buffer");
    // embed: the same rows, scaled
    const scaled = model.tokens.embed(ids, { scale: 2 });
    expectSameBits(scaled, got.map((v) => 2 * v), "embed with scale 2");
  });

  it("the raw latent rows stay reachable: `.latent` decodes to the stored PTQ1_0 values", () => {
    const latent = (model.tokens as RotatedTable).latent;
    expectSameBits(latent.lookup([3, 4]), ptq1Ref.dequantize(file.tokenBytes).subarray(3 * dim, 5 * dim), "latent rows");
    expect(Buffer.from(model.tokens.bytes()).equals(Buffer.from(file.tokenBytes))).toBe(true);
  });

  it("exact head logits equal the float64 unrotated math over the quantized head (un-folded rows . h)", () => {
    const unfolded = fwhtRef(file.headLatent, dim, 1024, file.signs, true);
    const { logits, scale } = logitsRef(unfolded, vocab, dim, hidden);
    expectLogits(model.head.project(hidden, { mode: "exact" }), logits, scale.map((s) => 1e-5 * s), "exact vs un-folded float64");
    // and the real head w . h, to the error the quantization allows: |(deq - fold) . H(s h)| <= |deq - fold| |h|
    const truth = logitsRef(file.head, vocab, dim, hidden).logits;
    const bound = new Float64Array(N * vocab);
    for (let r = 0; r < vocab; r++) {
      let e = 0;
      for (let j = 0; j < dim; j++) e += (file.headLatent[r * dim + j] - file.headFolded[r * dim + j]) ** 2;
      for (let v = 0; v < N; v++) bound[v * vocab + r] = Math.sqrt(e) * norm(hidden, v * dim, dim) * (1 + 1e-5);
    }
    expectLogits(model.head.project(hidden, { mode: "exact" }), truth, bound, "exact vs the real head");
  });

  it("fast head logits (the default mode) stay within fast mode's bound of the float64 latent math z . H(s h)", () => {
    const fast = model.head.project(hidden);
    expect(Array.from(fast)).toEqual(Array.from(model.head.project(hidden, { mode: "fast" })));
    checkFast("pq2_0", file.headBytes, vocab, dim, hidden, file.signs, fast);
  });

  it("topk and argmax rank real hidden states as the exact logits do", () => {
    const logits = model.head.project(hidden, { mode: "exact" });
    const top = model.head.topk(hidden, 5, { mode: "exact" });
    for (let v = 0; v < N; v++) {
      const order = Array.from({ length: vocab }, (_, r) => r).sort((a, b) => logits[v * vocab + b] - logits[v * vocab + a]);
      expect(Array.from(top.ids.subarray(v * 5, (v + 1) * 5))).toEqual(order.slice(0, 5));
    }
    expect(Array.from(model.head.argmax(hidden, { mode: "exact" }))).toEqual(Array.from({ length: N }, (_, v) => top.ids[v * 5]));
  });

  it("nearest and analogy on the token table answer as over the real rows", () => {
    const q = Float32Array.from(file.tokens.subarray(9 * dim, 10 * dim)).map((v, j) => v + 0.01 * Math.sin(j));
    for (const metric of ["cosine", "dot", "l2"] as const) {
      const got = model.tokens.nearest(q, 3, { metric });
      const score = (r: number) => {
        let dot = 0, rr = 0, d2 = 0;
        for (let j = 0; j < dim; j++) {
          const e = file.tokens[r * dim + j];
          dot += e * q[j];
          rr += e * e;
          d2 += (e - q[j]) ** 2;
        }
        return metric === "dot" ? dot : metric === "cosine" ? dot / Math.sqrt(rr) : -d2;
      };
      const order = Array.from({ length: vocab }, (_, r) => r).sort((a, b) => score(b) - score(a));
      expect(Array.from(got.ids), metric).toEqual(order.slice(0, 3));
    }
    const a = model.tokens.analogy(1, 2, 3, 2);
    expect(a.ids).toEqual((model.tokens as RotatedTable).latent.analogy(1, 2, 3, 2).ids);
  });

  it("pool (sum, weighted mean, normalized) gives the pooled real rows; max is refused by name", () => {
    const ids = [3, 4, 5, 9, 9, 1];
    const offsets = [0, 2, 2, 5];
    const weights = [0.5, 2, 1, -1, 3, 0.25];
    const bagRef = (b: number, w: boolean, mean: boolean) => {
      const end = b + 1 < offsets.length ? offsets[b + 1] : ids.length;
      const v = new Float64Array(dim);
      for (let i = offsets[b]; i < end; i++) for (let j = 0; j < dim; j++) v[j] += (w ? weights[i] : 1) * file.tokens[ids[i] * dim + j];
      if (mean && end > offsets[b]) for (let j = 0; j < dim; j++) v[j] /= end - offsets[b];
      return v;
    };
    for (const [mode, w] of [["sum", false], ["mean", true]] as const) {
      const got = model.tokens.pool(ids, offsets, { mode, weights: w ? weights : undefined });
      for (let b = 0; b < offsets.length; b++) {
        const want = bagRef(b, w, mode === "mean");
        for (let j = 0; j < dim; j++) expect(Math.abs(got[b * dim + j] - want[j]), `${mode} bag ${b} [${j}]`).toBeLessThanOrEqual(1e-6);
      }
    }
    const unit = model.tokens.pool([7], [0], { normalize: true });
    expect(norm(unit)).toBeCloseTo(1, 5);
    using buf = rt.f32Buffer(dim);
    expectSameBits(model.tokens.poolInto([7], [0], buf, { normalize: true }), unit, "poolInto");
    expect(() => model.tokens.pool(ids, offsets, { mode: "max" })).toThrow('`mode` is "max"; expected "sum" or "mean" on a table stored in a rotated basis');
  });

  it("loadStaticModel on the file: sentences of tokens pooled over the real rows", async () => {
    const sm = await loadStaticModel(rt, file.bytes);
    try {
      const v = sm.encode(["t3 t4", "t9"]);
      const e = (r: number, j: number) => file.tokens[r * dim + j];
      for (let j = 0; j < dim; j += 97) {
        expect(Math.abs(v[j] - (e(3, j) + e(4, j)) / 2)).toBeLessThanOrEqual(1e-6);
        expect(Math.abs(v[dim + j] - e(9, j))).toBeLessThanOrEqual(1e-6);
      }
    } finally {
      sm.dispose();
    }
  });

  it("stats against the real rows: zero error (the stored rows are exact)", () => {
    const s = model.tokens.stats(Float32Array.from(file.tokens));
    expect(s.maxAbsError).toBe(0);
    expect(s.meanCosine).toBeCloseTo(1, 12);
  });

  it("NaN in a hidden state is refused at its real position", () => {
    const bad = hidden.slice();
    bad[dim + 17] = NaN;
    expect(() => model.head.project(bad)).toThrow(`\`hidden[${dim + 17}]\` is NaN (vector 1, element 17)`);
    expect(() => model.tokens.nearest(bad.subarray(dim, 2 * dim), 1)).toThrow("`vector[17]` is NaN");
  });
});

describe("tied version 2: one PTQ1_0 latent table serves lookup and head", () => {
  it("head === tokens; lookup is s * H(z) and logits are z . H(s * h) = e . h", async () => {
    const file = bonsai2Gguf({ tied: true });
    const { vocab, dim } = file;
    const m = await loadEmbeddingModel(rt, file.bytes);
    try {
      expect([m.tied, m.head === m.tokens, m.rotation?.version, m.rotation?.tiedOutput]).toEqual([true, true, 2, true]);
      expectSameBits(m.tokens.lookup([5, 6]).map((v) => v + 0), Float32Array.from(file.tokens.subarray(5 * dim, 7 * dim)).map((v) => v + 0), "lookup");
      const hidden = randomValues(N * dim, 31, 4);
      const { logits, scale } = logitsRef(file.tokens, vocab, dim, hidden);
      expectLogits(m.head.project(hidden, { mode: "exact" }), logits, scale.map((s) => 1e-5 * s), "tied exact logits");
      checkFast("ptq1_0", file.tokenBytes, vocab, dim, hidden, file.signs, m.head.project(hidden));
    } finally {
      m.dispose();
    }
  });
});

describe("sign mode identity", () => {
  it("no signs: lookup is H(z)", async () => {
    const file = bonsai2Gguf({ signMode: "identity" });
    const m = await loadEmbeddingModel(rt, file.bytes);
    try {
      expect(m.rotation?.signs.size).toBe(0);
      expectSameBits(m.tokens.lookup([1]).map((v) => v + 0), Float32Array.from(file.tokens.subarray(file.dim, 2 * file.dim)).map((v) => v + 0), "lookup");
    } finally {
      m.dispose();
    }
  });
});

describe("no `prism.hadamard.version`: not rotated (the fork reads none of the other keys)", () => {
  it("loads the stored rows as they are", async () => {
    const file = bonsai2Gguf({ metadata: { "prism.hadamard.version": undefined } });
    const m = await loadEmbeddingModel(rt, file.bytes);
    try {
      expect(m.rotation).toBeUndefined();
      expect(m.tokens).not.toBeInstanceOf(RotatedTable);
      expectSameBits(m.tokens.lookup([2]), file.tokensLatent.subarray(2 * file.dim, 3 * file.dim), "stored rows");
    } finally {
      m.dispose();
    }
  });
});

const P = "prism.hadamard.";
const bad: [string, Bonsai2Options, RegExp][] = [
  ["version 3", { metadata: { [P + "version"]: 3 } }, /`prism\.hadamard\.version` is 3 \(u32\); expected a u32: 1 or 2/],
  ["version stored as i32", { types: { [P + "version"]: "i32" } }, /`prism\.hadamard\.version` is 1 \(i32\); expected a u32/],
  ["a block that is not a power of two", { metadata: { [P + "block_size"]: 1000 } }, /`prism\.hadamard\.block_size` is 1000 \(u32\); expected a u32: a power of two/],
  ["a block that does not divide the width", { metadata: { [P + "block_size"]: 4096, [P + "sign_widths"]: Int32Array.from([4096, 8192]), [P + "sign_values"]: new Int32Array(12288).fill(1) } }, /`prism\.hadamard\.block_size` is 4096 \(u32\); expected a divisor of the width of blk\.0\.ffn_down\.weight \(3072\)/],
  ["an unknown transform", { metadata: { [P + "transform"]: "dct" } }, /`prism\.hadamard\.transform` is "dct" \(string\); expected a string: "normalized-sylvester-walsh-hadamard"/],
  ["an unknown axis", { metadata: { [P + "axis"]: "output-first-dimension" } }, /`prism\.hadamard\.axis` is "output-first-dimension" \(string\); expected a string: "input-last-dimension"/],
  ["an unknown sign mode", { metadata: { [P + "sign_mode"]: "random" } }, /`prism\.hadamard\.sign_mode` is "random" \(string\); expected a string: "identity" or "explicit"/],
  ["explicit signs without widths", { metadata: { [P + "sign_widths"]: undefined } }, /`prism\.hadamard\.sign_widths` is missing; expected a non-empty array of i32/],
  ["a width that is not whole blocks", { metadata: { [P + "sign_widths"]: Int32Array.from([2048, 3000]), [P + "sign_values"]: new Int32Array(5048).fill(1) } }, /`prism\.hadamard\.sign_widths\[1\]` is 3000; expected a positive multiple of `prism\.hadamard\.block_size` \(1024\)/],
  ["a width given twice", { metadata: { [P + "sign_widths"]: Int32Array.from([2048, 2048]), [P + "sign_values"]: new Int32Array(4096).fill(1) } }, /`prism\.hadamard\.sign_widths\[1\]` is 2048; expected a width not listed before/],
  ["sign values of the wrong count", { metadata: { [P + "sign_values"]: new Int32Array(5000).fill(1) } }, /`prism\.hadamard\.sign_values` is Int32Array\(5000\) \(array<i32>\); expected 5120 values/],
  ["a sign value of 0", { metadata: { [P + "sign_values"]: Int32Array.from({ length: 5120 }, (_, i) => (i === 77 ? 0 : 1)) } }, /`prism\.hadamard\.sign_values\[77\]` is 0; expected \+1 or -1/],
  ["sign values stored as f32", { metadata: { [P + "sign_values"]: new Float32Array(5120).fill(1) } }, /`prism\.hadamard\.sign_values` is Float32Array\(5120\) \(array<f32>\); expected an array of i32/],
  ["signs for identity mode", { metadata: { [P + "sign_mode"]: "identity" } }, /`prism\.hadamard\.sign_widths` is Int32Array\(2\) \(array<i32>\); expected no sign vectors when/],
  ["no sign vector for a rotated tensor's width", { metadata: { [P + "sign_widths"]: Int32Array.from([3072]), [P + "sign_values"]: new Int32Array(3072).fill(1) } }, /`prism\.hadamard\.sign_widths` is Int32Array\(1\) \(array<i32>\); expected a sign vector of width 2048 \(for output\.weight\)/],
  ["no weight names", { metadata: { [P + "weight_names"]: undefined } }, /`prism\.hadamard\.weight_names` is missing; expected a non-empty array of tensor names/],
  ["an empty weight list", { metadata: { [P + "weight_names"]: [] } }, /`prism\.hadamard\.weight_names` is Array\(0\) \(array<string>\); expected a non-empty array/],
  ["a weight the fork cannot route", { metadata: { [P + "weight_names"]: ["output.weight", "blk.0.attn_norm.weight"] } }, /`prism\.hadamard\.weight_names\[1\]` is "blk\.0\.attn_norm\.weight"; expected output\.weight or blk\.N\./],
  ["a latent lookup other than token_embd", { metadata: { [P + "inverse_weight_names"]: ["output.weight"] } }, /`prism\.hadamard\.inverse_weight_names\[0\]` is "output\.weight"; expected "token_embd\.weight"/],
  ["gdn_v_grouped stored as u32", { metadata: { [P + "gdn_v_grouped"]: 1 } }, /`prism\.hadamard\.gdn_v_grouped` is 1 \(u32\); expected a bool/],
  ["tied_output in version 1", { metadata: { [P + "tied_output"]: true } }, /`prism\.hadamard\.version` is 1 \(u32\); expected 2 when `prism\.hadamard\.tied_output` is true/],
  ["version 2 without tied_output", { tied: true, metadata: { [P + "tied_output"]: undefined } }, /`prism\.hadamard\.tied_output` is missing; expected true in version 2/],
  ["version 2 with an output.weight tensor", { metadata: { [P + "version"]: 2, [P + "tied_output"]: true, [P + "weight_names"]: ["blk.0.ffn_up.weight"] } }, /`prism\.hadamard\.tied_output` is true \(bool\); expected false: the file has an output\.weight tensor/],
  ["version 2 naming output.weight", { tied: true, metadata: { [P + "weight_names"]: ["output.weight"] } }, /`prism\.hadamard\.weight_names` is Array\(1\) \(array<string>\); expected no output\.weight in version 2/],
  ["version 2 without a latent token table", { tied: true, metadata: { [P + "inverse_weight_names"]: undefined } }, /`prism\.hadamard\.inverse_weight_names` is missing; expected to hold "token_embd\.weight" in version 2/],
  ["version 1 with a latent token table and no output.weight", { noOutput: true }, /`prism\.hadamard\.version` is 1 \(u32\); expected 2 with `prism\.hadamard\.tied_output`: version 1 needs an output\.weight/],
  ["tied_output without a version", { tied: true, metadata: { [P + "version"]: undefined } }, /`prism\.hadamard\.version` is missing; expected 2 when `prism\.hadamard\.tied_output` is true/],
  ["an unknown key", { metadata: { [P + "rotation_seed"]: 7 } }, /Unknown rotation metadata key `prism\.hadamard\.rotation_seed`\. Known: prism\.hadamard\.version, /],
];

describe.each(bad)("a Bonsai 2 file with %s", (_, options, message) => {
  it("is refused with the key's name, nothing left allocated", async () => {
    const before = rt.bytesInUse;
    await expect(loadEmbeddingModel(rt, bonsai2Gguf(options).bytes)).rejects.toThrow(message);
    expect(rt.bytesInUse).toBe(before);
  });
});

// the builder's defaults load: every case above is refused for its own reason
it("the unaltered file loads (so each refusal above comes from its one change)", async () => {
  for (const options of [{}, { tied: true }] as Bonsai2Options[]) {
    const m = await loadEmbeddingModel(rt, bonsai2Gguf(options).bytes);
    m.dispose();
  }
  const g = await readGGUF(bonsai2Gguf().bytes);
  expect([g.types[P + "version"], g.types[P + "sign_widths"], g.types[P + "sign_values"], g.types[P + "weight_names"]]).toEqual(["u32", "array<i32>", "array<i32>", "array<string>"]);
});

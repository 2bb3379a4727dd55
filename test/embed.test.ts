// table.embed(): token rows (scaled) + learned position rows + token-type rows + sinusoidal positions,
// every table format, against a float64 sum of the decoded rows (lookup is the decoder, tested on its own).
import { beforeAll, describe, expect, it } from "vitest";
import { FORMAT_NAMES, embeddingScale, type EmbeddingTable, type Format, type Runtime } from "../src/index.js";
import { expectClose } from "./helpers/close.js";
import { newRuntime } from "./helpers/runtime.js";
import { randomValues } from "./helpers/values.js";
import { refSinusoid } from "./reference/rope.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

const values = (n: number, seed: number) => randomValues(n, seed, 2);

const rowsOf = (t: EmbeddingTable) => t.lookup(Array.from({ length: t.vocab }, (_, i) => i));

describe.each(FORMAT_NAMES)("format %s", (format: Format) => {
  const DIM = 256;
  it("token + position + token type, scaled token rows, several slices", () => {
    const tok = rt.tableFromF32(values(50 * DIM, 1), { vocab: 50, dim: DIM, format });
    const pos = rt.tableFromF32(values(400 * DIM, 2), { vocab: 400, dim: DIM, format });
    const typ = rt.tableFromF32(values(2 * DIM, 3), { vocab: 2, dim: DIM, format });
    const [T, P, Y] = [rowsOf(tok), rowsOf(pos), rowsOf(typ)];
    const n = 300; // 300 rows x 1 KiB: more than one 256 KiB slice
    const ids = Array.from({ length: n }, (_, i) => (i * 7) % 50);
    const positions = Array.from({ length: n }, (_, i) => 399 - i);
    const types = Array.from({ length: n }, (_, i) => i % 2);
    for (const scale of [1, 12, 0.5]) {
      const y = tok.embed(ids, { positions, positionTable: pos, tokenTypes: types, typeTable: typ, scale });
      const ref = new Float64Array(n * DIM);
      for (let i = 0; i < n; i++) for (let j = 0; j < DIM; j++) {
        ref[i * DIM + j] = T[ids[i] * DIM + j] * scale + P[positions[i] * DIM + j] + Y[types[i] * DIM + j];
      }
      expectClose(y, ref, { atol: 1e-6, rtol: 1e-6 }, `${format} scale ${scale}`);
    }
    // defaults: positions 0..n-1, token types 0
    const y = tok.embed(ids.slice(0, 5), { positionTable: pos, typeTable: typ });
    const ref = new Float64Array(5 * DIM);
    for (let i = 0; i < 5; i++) for (let j = 0; j < DIM; j++) ref[i * DIM + j] = T[ids[i] * DIM + j] + P[i * DIM + j] + Y[j];
    expectClose(y, ref, { atol: 1e-6 }, `${format} defaults`);
    for (const t of [tok, pos, typ]) t.dispose();
  });
});

describe("scale", () => {
  it("Gemma's sqrt(hidden), as f32 or rounded like HF (bf16: 45.25 for 2048, 55.5 for 3072)", () => {
    expect(embeddingScale("sqrt", 2048, "bf16")).toBe(45.25);
    expect(embeddingScale("sqrt", 3072, "bf16")).toBe(55.5);
    expect(embeddingScale("sqrt", 2048)).toBe(Math.fround(Math.sqrt(2048)));
    expect(embeddingScale("sqrt", 2048, "f16")).toBe(45.25); // f16 has 11 bits: 45.25 is 101101.01
    expect(embeddingScale("sqrt", 3584, "f16")).toBe(59.875); // sqrt(3584) = 59.866...
    expect(embeddingScale(12, 64, "bf16")).toBe(12);
    expect(embeddingScale(1 + 2 ** -8, 64, "bf16")).toBe(1); // a tie: to even
    expect(embeddingScale(1 + 3 * 2 ** -8, 64, "bf16")).toBe(1 + 2 ** -6);
  });

  it("scales the token rows only", () => {
    const tok = rt.tableFromF32(values(4 * 8, 5), { vocab: 4, dim: 8, format: "f32" });
    const T = rowsOf(tok);
    const y = tok.embed([3, 1], { scale: "sqrt", roundScale: "bf16" });
    const s = 2.828125; // sqrt(8) = 2.8284... rounded to bf16 (8 significant bits)
    expectClose(y, Array.from({ length: 16 }, (_, k) => T[[3, 1][k >> 3] * 8 + (k & 7)] * s), { rtol: 1e-7 }, "sqrt(8) bf16");
    tok.dispose();
  });
});

describe("sinusoidal positions", () => {
  it.each(["interleaved", "halves"] as const)("%s layout, positions up to 2^20, odd and even frequency counts", (layout) => {
    for (const dim of [2, 6, 8, 10, 64, 130]) {
      const tok = rt.tableFromF32(values(3 * dim, dim), { vocab: 3, dim, format: "f32" });
      const T = rowsOf(tok);
      const ids = [0, 1, 2, 1, 0];
      const positions = [0, 1, 511, 65535, 2 ** 20];
      const y = tok.embed(ids, { positions, sinusoidal: { layout }, scale: 2 });
      const ref: number[] = [];
      ids.forEach((id, i) => {
        const pe = refSinusoid(positions[i], dim, layout);
        for (let j = 0; j < dim; j++) ref.push(T[id * dim + j] * 2 + pe[j]);
      });
      expectClose(y, ref, { atol: 1e-6 }, `${layout} dim ${dim}`);
      tok.dispose();
    }
  });

  it("defaults to interleaved with base 10000 and positions 0..n-1; adds to a position table too", () => {
    const tok = rt.tableFromF32(values(2 * 4, 9), { vocab: 2, dim: 4, format: "f32" });
    const pos = rt.tableFromF32(values(3 * 4, 10), { vocab: 3, dim: 4, format: "f32" });
    const [T, P] = [rowsOf(tok), rowsOf(pos)];
    const y = tok.embed([1, 0, 1], { sinusoidal: true, positionTable: pos });
    // pos 1: [sin 1, cos 1, sin 0.01, cos 0.01]
    const pe = (p: number) => [Math.sin(p), Math.cos(p), Math.sin(p / 100), Math.cos(p / 100)];
    const ref = [1, 0, 1].flatMap((id, i) => pe(i).map((v, j) => T[id * 4 + j] + P[i * 4 + j] + v));
    expectClose(y, ref, { atol: 1e-6 }, "default sinusoid");
    tok.dispose();
    pos.dispose();
  });
});

describe("errors", () => {
  it("say which option is wrong", () => {
    const tok = rt.tableFromF32(values(4 * 8, 1), { vocab: 4, dim: 8, format: "f32" });
    const pos = rt.tableFromF32(values(3 * 8, 2), { vocab: 3, dim: 8, format: "f32" });
    const wide = rt.tableFromF32(values(3 * 16, 2), { vocab: 3, dim: 16, format: "f32" });
    const odd = rt.tableFromF32(values(3 * 5, 2), { vocab: 3, dim: 5, format: "f32" });
    expect(() => tok.embed([0, 1], { positions: [0, 3], positionTable: pos })).toThrow(/`positions\[1\]` is 3: not an integer in \[0, 2\]/);
    expect(() => tok.embed([0, 1, 2, 3], { positionTable: pos })).toThrow(/`positions\[3\]`/);
    expect(() => tok.embed([0, 1], { positions: [0], positionTable: pos })).toThrow(/`positions` has length 1, expected 2/);
    expect(() => tok.embed([0, 1], { typeTable: pos, tokenTypes: [0, -1] })).toThrow(/`tokenTypes\[1\]` is -1/);
    expect(() => tok.embed([0, 1], { positionTable: wide })).toThrow(/`positionTable\.dim` is 16/);
    expect(() => tok.embed([0, 4])).toThrow(/`ids\[1\]` is 4/);
    expect(() => tok.embed([0], { scale: NaN })).toThrow(/`scale` is NaN/);
    expect(() => tok.embed([0], { scale: 2, roundScale: "fp8" as "bf16" })).toThrow(/Unknown `roundScale` "fp8"/);
    expect(() => tok.embed([0], { out: new Float32Array(7) })).toThrow(/`out` has length 7, expected 8/);
    expect(() => odd.embed([0], { sinusoidal: true })).toThrow(/`dim` is 5/);
    expect(() => tok.embed([0], { sinusoidal: { layout: "diagonal" as "halves" } })).toThrow(/Unknown `sinusoidal\.layout`/);
    expect(() => tok.embed([0], { positionTable: {} as EmbeddingTable })).toThrow(/`positionTable` must be an EmbeddingTable, got Object/);
    const out = new Float32Array(8);
    expect(tok.embed([2], { out })).toBe(out);
    expect(tok.embed([]).length).toBe(0);
    for (const t of [tok, pos, wide, odd]) t.dispose();
  });
});

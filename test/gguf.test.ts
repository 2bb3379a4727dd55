// readGGUF / writeGGUF: golden files written by ggml, llama.cpp's vocabulary files, round trips checked by
// @huggingface/gguf as an independent parser, and hand-built hostile files that must fail with the offset.
import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gguf as hfGguf } from "@huggingface/gguf";
import { beforeAll, describe, expect, it } from "vitest";
import { countingSource } from "../src/io/source.js";
import { FORMATS, FORMAT_NAMES, bytesSource, loadEmbeddingModel, readGGUF, writeGGUF, type Runtime } from "../src/index.js";
import { expectSameBits } from "./helpers/close.js";
import { NOT_IN_GGML } from "./helpers/golden.js";
import { newRuntime } from "./helpers/runtime.js";
import { header } from "./helpers/gguf-bytes.js";

const fixtures = new URL("./fixtures/", import.meta.url);
const golden = (name: string) => new URL(`ggml/${name}`, fixtures);
// every registry format ggml has comes with the GGUF ggml wrote (formats-golden.test.ts fails one without it)
const GOLDEN_FORMATS = FORMAT_NAMES.filter((f) => !NOT_IN_GGML.includes(f));
const VOCAB = readdirSync(new URL("vocab/", fixtures)).filter((f) => f.endsWith(".gguf"));
const tmp = mkdtempSync(join(tmpdir(), "bitembed-gguf-"));

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

function f32(url: URL): Float32Array {
  const b = readFileSync(url);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

// what @huggingface/gguf reports, reduced to plain JSON-able values for comparison
async function hfParse(path: string) {
  const h = await hfGguf(path, { allowLocalFile: true });
  const plain = (v: unknown): unknown =>
    typeof v === "bigint" ? Number(v) : Array.isArray(v) ? v.map(plain) : v;
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h.metadata)) if (k !== "version" && k !== "tensor_count" && k !== "kv_count") metadata[k] = plain(v);
  return {
    version: Number(h.metadata.version),
    metadata,
    tensors: h.tensorInfos.map((t) => ({ name: t.name, dims: t.shape.map(Number), type: t.dtype, offset: Number(t.offset) })),
    dataOffset: Number(h.tensorDataOffset),
  };
}

function ours(g: Awaited<ReturnType<typeof readGGUF>>) {
  // @huggingface/gguf decodes with a default TextDecoder, which drops a leading byte-order mark (llama-spm has
  // the token "\ufeff"); we keep it, so strip it here for the comparison only
  const plain = (v: unknown): unknown =>
    typeof v === "string" ? v.replace(/^\ufeff/, "") : ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number | bigint>, (x) => Number(x)) : Array.isArray(v) ? v.map(plain) : typeof v === "bigint" ? Number(v) : v;
  return {
    version: g.version,
    metadata: Object.fromEntries(Object.entries(g.metadata).map(([k, v]) => [k, plain(v)])),
    tensors: g.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type, offset: t.offset - g.dataOffset })),
    dataOffset: g.dataOffset,
  };
}

describe.each(GOLDEN_FORMATS)("golden %s GGUF (written by ggml)", (fmt) => {
  const path = golden(`gauss2048.${fmt}.gguf`).pathname;
  it("reads the header ggml wrote, as @huggingface/gguf does", async () => {
    const g = await readGGUF(path);
    expect(g.version).toBe(3);
    expect(g.metadata["general.architecture"]).toBe("llama");
    expect(g.metadata["llama.embedding_length"]).toBe(2048);
    expect(g.metadata["llama.rope.freq_base"]).toBe(500000);
    expect(g.types["llama.rope.freq_base"]).toBe("f32");
    const tok = g.tensor("token_embd.weight");
    expect(tok.dims).toEqual([2048, 64]);
    expect(tok.typeName).toBe(fmt);
    expect(g.tensor("position_embd.weight").dims).toEqual([2048, 16]);
    expect(ours(g)).toEqual(await hfParse(path));
  });
  it("holds exactly ggml's packed table", async () => {
    const g = await readGGUF(path);
    const bin = readFileSync(golden(`gauss2048.${fmt}.bin`));
    expect(Buffer.from(await g.readTensor("token_embd.weight")).equals(bin)).toBe(true);
  });
  it("loadEmbeddingModel reads it: token table, tied head, positions", async () => {
    const m = await loadEmbeddingModel(rt, path);
    expect([m.tokens.vocab, m.tokens.dim, m.tokens.format, m.tied]).toEqual([64, 2048, fmt, true]);
    expect([m.positions?.vocab, m.positions?.dim, m.positions?.format]).toEqual([16, 2048, "f32"]);
    expectSameBits(m.tokens.lookup(Array.from({ length: 64 }, (_, i) => i)), f32(golden(`gauss2048.${fmt}.deq.f32`)), `${fmt} token_embd`);
    m.dispose();
  });
  it("loads token_embd equal to ggml's dequantized values", async () => {
    const g = await readGGUF(path);
    const table = await g.loadTable(rt, "token_embd.weight");
    expect([table.vocab, table.dim, table.format]).toEqual([64, 2048, fmt]);
    const ids = Array.from({ length: 64 }, (_, i) => i);
    expectSameBits(table.lookup(ids), f32(golden(`gauss2048.${fmt}.deq.f32`)), `${fmt} token_embd`);
    table.dispose();
  });
});

it("has llama.cpp's vocabulary files to read", () => {
  expect(VOCAB.length).toBeGreaterThan(0);
});

describe.each(VOCAB)("llama.cpp vocabulary %s", (name) => {
  const path = new URL(`vocab/${name}`, fixtures).pathname;
  it("reads every key as @huggingface/gguf does", async () => {
    const g = await readGGUF(path);
    expect(ours(g)).toEqual(await hfParse(path));
    const tokens = g.metadata["tokenizer.ggml.tokens"] as string[];
    expect(tokens.length).toBeGreaterThan(1000);
    expect(g.types["tokenizer.ggml.tokens"]).toBe("array<string>");
    expect(g.types["tokenizer.ggml.token_type"]).toBe("array<i32>");
    expect(g.metadata["tokenizer.ggml.token_type"]).toBeInstanceOf(Int32Array);
  });
  it("writes back byte for byte from what it read", async () => {
    const g = await readGGUF(path);
    const bytes = writeGGUF({ metadata: g.metadata, types: g.types });
    expect(Buffer.from(bytes).equals(readFileSync(path).subarray(0, bytes.byteLength))).toBe(true);
  });
});

describe("writeGGUF", () => {
  it.each(FORMAT_NAMES)("round-trips a %s table through bitembed and @huggingface/gguf", async (fmt) => {
    const vocab = 37;
    const dim = 2 * FORMATS[fmt].blockElems;
    const values = new Float32Array(vocab * dim).map((_, i) => Math.sin(i * 0.37) * 3);
    const table = rt.tableFromF32(values, { vocab, dim, format: fmt });
    const pos = rt.tableFromF32(values.subarray(0, 5 * dim), { vocab: 5, dim, format: "f32" });
    const bytes = writeGGUF({
      metadata: { "general.architecture": "llama", "llama.embedding_length": dim, "llama.rope.freq_base": 10000.5 },
      tensors: [
        { name: "token_embd.weight", table },
        { name: "position_embd.weight", table: pos },
      ],
      alignment: 64,
    });
    const g = await readGGUF(bytes);
    expect(g.alignment).toBe(64);
    expect(g.tensor("token_embd.weight").dims).toEqual([dim, vocab]);
    expect(g.tensor("token_embd.weight").offset % 64).toBe(0);
    const back = await g.loadTable(rt, "token_embd.weight");
    expect(Buffer.from(back.bytes()).equals(Buffer.from(table.bytes()))).toBe(true);
    const path = join(tmp, `rt.${fmt}.gguf`);
    writeFileSync(path, bytes);
    const h = await hfParse(path);
    expect(ours(g)).toEqual(h);
    expect(h.metadata["llama.rope.freq_base"]).toBe(Math.fround(10000.5));
    expect(h.tensors[0]).toEqual({ name: "token_embd.weight", dims: [dim, vocab], type: FORMATS[fmt].id, offset: 0 });
    [table, pos, back].forEach((t) => t.dispose());
  });

  it("keeps every metadata type, nested arrays included", async () => {
    const metadata = {
      u8: 200, i8: -100, u16: 60000, i16: -30000, u32: 4e9, i32: -2e9, f32: 1.5, bool: true, string: "héllo ✓",
      u64: 2n ** 60n, i64: -(2n ** 60n), f64: Math.PI, small64: 12,
      arrU8: new Uint8Array([1, 2, 3]), arrF64: new Float64Array([0.1, 0.2]), arrI64: new BigInt64Array([-1n, 5n]),
      arrStr: ["a", "", "ü"], arrBool: [true, false, true],
      nested: [["x", "y"], [], ["z"]], nested2: [[new Int32Array([1, 2])], [new Int32Array([3])]],
      empty: [] as string[],
      emptyNested: [] as string[][],
    };
    const types = {
      u8: "u8", i8: "i8", u16: "u16", i16: "i16", u32: "u32", i32: "i32", f32: "f32", bool: "bool", string: "string",
      u64: "u64", i64: "i64", f64: "f64", small64: "u64", arrU8: "array<u8>", arrF64: "array<f64>", arrI64: "array<i64>",
      arrStr: "array<string>", arrBool: "array<bool>", nested: "array<array<string>>", nested2: "array<array<array<i32>>>",
      empty: "array<string>", emptyNested: "array<array<u8>>",
    };
    const bytes = writeGGUF({ metadata, types });
    const g = await readGGUF(bytes);
    expect(g.types).toEqual(types);
    expect(g.metadata).toEqual(metadata);
    // and written again, the same bytes
    expect(writeGGUF({ metadata: g.metadata, types: g.types })).toEqual(bytes);
    const path = join(tmp, "types.gguf");
    writeFileSync(path, bytes);
    const h = await hfParse(path);
    expect(h.metadata.nested).toEqual([["x", "y"], [], ["z"]]);
    expect(h.metadata.u64).toBe(2 ** 60);
    expect(h.metadata.string).toBe("héllo ✓");
  });

  it.each(FORMAT_NAMES.filter((f) => FORMATS[f].blockElems > 1))("pads a %s dim that is not a whole number of blocks and records the true dim", async (fmt) => {
    const dim = FORMATS[fmt].blockElems + 3;
    const values = new Float32Array(4 * dim).map((_, i) => i / 7);
    const table = rt.tableFromF32(values, { vocab: 4, dim, format: fmt });
    const g = await readGGUF(writeGGUF({ tensors: [{ name: "token_embd.weight", table }] }));
    expect(g.tensor("token_embd.weight").dims[0]).toBe(2 * FORMATS[fmt].blockElems);
    const back = await g.loadTable(rt, "token_embd.weight");
    expect(back.dim).toBe(dim);
    expect(back.lookup([0, 1, 2, 3])).toEqual(table.lookup([0, 1, 2, 3]));
    table.dispose();
    back.dispose();
  });

  it("refuses data of the wrong length and bad names", () => {
    expect(() => writeGGUF({ tensors: [{ name: "t", format: "f32", dims: [4, 2], data: new Uint8Array(31) }] })).toThrow(/32/);
    expect(() => writeGGUF({ tensors: [{ name: "t", format: "q3", dims: [4], data: new Uint8Array(16) }] })).toThrow(/Unknown `format`/);
    expect(() => writeGGUF({ metadata: { k: {} as never } })).toThrow(/`k`/);
  });
});

describe("reads only what it is asked for", () => {
  it("reads the header, then one tensor's bytes", async () => {
    const big = new Uint8Array(4 << 20);
    const bytes = writeGGUF({
      tensors: [
        { name: "blk.0.attn_q.weight", format: "f32", dims: [1024, 1024], data: big },
        { name: "token_embd.weight", format: "f16", dims: [64, 10], data: new Uint8Array(1280) },
      ],
    });
    const source = countingSource(bytesSource(bytes));
    const g = await readGGUF(source);
    const headerRead = source.bytesRead;
    expect(headerRead).toBeLessThanOrEqual(1 << 16);
    const t = await g.loadTable(rt, "token_embd.weight");
    expect(source.bytesRead - headerRead).toBe(1280);
    t.dispose();
  });
});

// ---- hostile files: each must fail with a clear message before allocating anything large ----

const cases: [string, () => Uint8Array, RegExp][] = [
  ["a bad magic", () => new Uint8Array([0x47, 0x47, 0x55, 0x47, 3, 0, 0, 0]), /at byte 0: the magic is "GGUG"/],
  ["a big-endian file", () => new Uint8Array([0x47, 0x47, 0x55, 0x46, 0, 0, 0, 3, ...new Uint8Array(16)]), /big-endian/],
  ["version 1", () => header(0, 0, 1).bytes(), /version 1; bitembed reads versions 2 and 3/],
  ["10^12 tensors", () => header(1e12, 0).bytes(), /at byte 8: the tensor count is 1000000000000/],
  ["2^63 key/values", () => header(0, 2n ** 63n).bytes(), /at byte 16: the metadata count is 9223372036854775808, larger than any file/],
  ["a key of length 2^60", () => header(0, 1).u64(2n ** 60n).raw(new Uint8Array(20)).bytes(), /at byte 24: the length of metadata key #0 is 1152921504606846976, larger than any file/],
  ["a key longer than the file", () => header(0, 1).u64(1000).raw(new Uint8Array(13)).bytes(), /at byte 24: metadata key #0 claims 1000 bytes but only 13 remain/],
  ["more key/values than bytes", () => header(0, 5).raw(new Uint8Array(40)).bytes(), /at byte 16: the metadata count is 5, but 5 x 13 bytes exceed the 40 bytes left/],
  ["a string value of length 2^50", () => header(0, 1).str("k").u32(8).u64(2n ** 50n).bytes(), /at byte 37: the value of "k" claims 1125899906842624 bytes/],
  ["an array of 10^12 u32", () => header(0, 1).str("k").u32(9).u32(4).u64(1e12).raw(new Uint8Array(40)).bytes(), /at byte 41: the length of array "k" is 1000000000000/],
  ["an array of 10^9 strings", () => header(0, 1).str("k").u32(9).u32(8).u64(1e9).bytes(), /the length of array "k" is 1000000000/],
  ["arrays nested 100 deep", () => {
    const b = header(0, 1).str("k").u32(9);
    for (let i = 0; i < 100; i++) b.u32(9).u64(1);
    return b.bytes();
  }, /nests arrays deeper than 8/],
  ["an unknown value type", () => header(0, 1).str("k").u32(13).u32(0).bytes(), /at byte 33: metadata "k" has value type 13/],
  ["a duplicate key", () => header(0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2).bytes(), /at byte 41: metadata key "k" appears twice/],
  ["a non-power-of-two alignment", () => header(0, 1).str("general.alignment").u32(4).u32(48).bytes(), /alignment.* is 48; expected a power of two/],
  ["5 dims", () => header(1, 0).str("t").u32(5).raw(new Uint8Array(60)).bytes(), /tensor "t" has 5 dims/],
  ["dims whose product overflows", () => header(1, 0).str("t").u32(3).u64(2 ** 30).u64(2 ** 30).u64(2 ** 30).u32(0).u64(0).bytes(), /dims of tensor "t" multiply past 2\^53/],
  ["a dim of 2^63", () => header(1, 0).str("t").u32(1).u64(2n ** 63n).u32(0).u64(0).bytes(), /dim 0 of tensor "t" is 9223372036854775808/],
  ["an unknown tensor type", () => header(1, 0).str("t").u32(1).u64(4).u32(99).u64(0).bytes(), /tensor "t" has type id 99, which ggml does not define/],
  ["a PQ2_0 dim that is not whole 128-blocks", () => header(1, 0).str("t").u32(1).u64(64).u32(142).u64(0).bytes(), /dims\[0\] = 64, not a multiple of the pq2_0 block \(128\)/],
  ["a dim that is not whole blocks", () => header(1, 0).str("t").u32(2).u64(33).u64(2).u32(8).u64(0).bytes(), /dims\[0\] = 33, not a multiple of the q8_0 block \(32\)/],
  ["a misaligned offset", () => header(1, 0).str("t").u32(1).u64(4).u32(0).u64(3).bytes(), /offset 3, not a multiple of the alignment 32/],
  ["a tensor past the end", () => header(1, 0).str("t").u32(1).u64(1000).u32(0).u64(0).padTo(32).raw(new Uint8Array(100)).bytes(), /tensor "t" \(4000 bytes at offset 64\) runs past the end of the file \(164 bytes\)/],
  ["an offset past the end", () => header(1, 0).str("t").u32(1).u64(4).u32(0).u64(2n ** 40n).padTo(32).bytes(), /runs past the end/],
  ["overlapping tensors", () => header(2, 0).str("a").u32(1).u64(16).u32(0).u64(0).str("b").u32(1).u64(8).u32(0).u64(32).padTo(32).raw(new Uint8Array(64)).bytes(), /tensors "a" and "b" overlap/],
  ["a duplicate tensor", () => header(2, 0).str("a").u32(1).u64(8).u32(0).u64(0).str("a").u32(1).u64(8).u32(0).u64(32).padTo(32).raw(new Uint8Array(64)).bytes(), /tensor "a" appears twice/],
];

describe.each(cases)("a GGUF with %s", (_, make, message) => {
  it("fails with a message naming the place", async () => {
    let largest = 0;
    const bytes = make();
    const err = await readGGUF(bytes, { onLargestAllocation: (n) => (largest = n) }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err, "should fail").toBeInstanceOf(Error);
    expect(err!.message).toMatch(message);
    expect(largest).toBeLessThanOrEqual(bytes.byteLength);
  });
});

it("names the type of a tensor bitembed cannot hold when asked to load it", async () => {
  const g = await readGGUF(header(1, 0).str("blk.0.q").u32(2).u64(256).u64(1).u32(16).u64(0).padTo(32).raw(new Uint8Array(66)).bytes());
  expect(g.tensors[0]).toMatchObject({ typeName: "iq2_xxs", format: undefined, byteLength: 66 });
  await expect(g.loadTable(rt, "blk.0.q")).rejects.toThrow(/Tensor "blk.0.q" has ggml type 16, which bitembed does not read/);
  const nv = await readGGUF(header(1, 0).str("t").u32(2).u64(64).u64(1).u32(40).u64(0).padTo(32).raw(new Uint8Array(36)).bytes());
  await expect(nv.loadTable(rt, "t")).rejects.toThrow(/type 40: a group-32 1-bit table from PrismML/);
});

describe("truncated files", () => {
  it("fail at every cut of a real header, naming an offset", async () => {
    const full = readFileSync(golden("gauss2048.q8_0.gguf").pathname);
    const g = await readGGUF(full);
    const headerEnd = g.dataOffset;
    for (let cut = 0; cut < full.byteLength; cut += cut < headerEnd ? 1 : 4099) {
      await expect(readGGUF(full.subarray(0, cut)), `cut at ${cut}`).rejects.toThrow(/Malformed GGUF file bytes at byte \d+/);
    }
  });
});

// safetensors read as strictly as the reference reader (huggingface/safetensors, `read_metadata` and
// `Metadata::validate`; issue 13, finding 8): a header that starts with `{` and is valid UTF-8, nesting within
// serde_json's 128 levels, `__metadata__` a map of strings, and tensors that tile the data section exactly
// (sorted by offsets: the first at 0, each where the last ended, the last at the file's end). Each refusal
// names the byte; tables loaded before stay bit-identical.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadEmbeddingModel, readSafetensors, writeSafetensors, type EmbeddingTable, type Runtime } from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";

const fixture = new Uint8Array(readFileSync(new URL("./fixtures/safetensors/energetic-en-512.safetensors", import.meta.url)));

/** A safetensors file with this header text (or object) and `data` data bytes; the length field as given. */
function file(header: unknown, dataBytes = 0, lengthDelta = 0): Uint8Array {
  const json = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength + lengthDelta), true);
  out.set(json, 8);
  return out;
}
const f32 = (begin: number, n: number) => ({ dtype: "F32", shape: [n], data_offsets: [begin, begin + 4 * n] });
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

let rt: Runtime;
let before: EmbeddingTable;
let beforeBytes: Uint8Array;
beforeAll(async () => {
  rt = await newRuntime();
  before = await (await readSafetensors(fixture)).loadTable(rt, "model.embed_tokens.weight");
  beforeBytes = before.bytes();
});

async function refused(bytes: Uint8Array, message: RegExp): Promise<void> {
  await expect(readSafetensors(bytes)).rejects.toThrow(message);
  expect(Buffer.from(before.bytes()).equals(Buffer.from(beforeBytes)), "the table loaded before").toBe(true);
}

describe("the header length must be exact", () => {
  const n = Number(new DataView(fixture.buffer, fixture.byteOffset).getBigUint64(0, true));
  it.each([-1, 1, -8, 8])("a real file with its header length off by %i is refused (once: shifted floats)", async (delta) => {
    const bytes = fixture.slice();
    new DataView(bytes.buffer).setBigUint64(0, BigInt(n + delta), true);
    await refused(bytes, /^Malformed safetensors file bytes at byte \d+: (the tensors cover \d+ data bytes but \d+ follow the header|the header is not JSON|the header is not valid UTF-8)/);
  });
});

describe("the tensors tile the data section", () => {
  it.each([
    ["a hole before the first tensor", { a: f32(4, 2) }, 12, /at byte \d+: data bytes 0 to 4 belong to no tensor \(a hole before "a"\)/],
    ["a hole between two tensors", { a: f32(0, 2), b: f32(12, 1) }, 16, /data bytes 8 to 12 belong to no tensor \(a hole before "b"\)/],
    ["bytes after the last tensor", { a: f32(0, 2) }, 9, /the tensors cover 8 data bytes but 9 follow the header \(bytes after the last tensor/],
    ["overlapping tensors", { a: f32(0, 2), b: f32(4, 2) }, 12, /tensors "a" and "b" overlap/],
    ["no tensors but data", {}, 4, /the tensors cover 0 data bytes but 4 follow the header/],
  ])("%s is refused", async (_, header, data, message) => {
    await refused(file(header, data), message);
  });

  it("tensors in any order in the header, zero-size ones anywhere, are accepted (as the reference accepts them)", async () => {
    const s = await readSafetensors(file({ b: f32(8, 1), z: { dtype: "F32", shape: [0, 3], data_offsets: [12, 12] }, a: f32(0, 2), e: { dtype: "U8", shape: [0], data_offsets: [0, 0] } }, 12));
    expect(s.tensors.map((t) => [t.name, t.byteLength])).toEqual([["b", 4], ["z", 0], ["a", 8], ["e", 0]]);
    expect((await readSafetensors(file({}))).tensors).toEqual([]);
  });

  it("writeSafetensors output reads back", async () => {
    const bytes = writeSafetensors([
      { name: "x", dtype: "F16", shape: [3], data: new Uint16Array(3) },
      { name: "y", dtype: "F32", shape: [2, 2], data: new Float32Array(4) },
    ], { format: "pt" });
    const s = await readSafetensors(bytes);
    expect(s.metadata.format).toBe("pt");
    expect(s.tensors.map((t) => t.name)).toEqual(["x", "y"]);
  });
});

describe("the header text", () => {
  it.each([
    ["an invalid UTF-8 byte in a tensor name", new Uint8Array([...new TextEncoder().encode('{"a'), 0xff, ...new TextEncoder().encode('":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}')]), /at byte 11: the header is not valid UTF-8/],
    ["an overlong encoding of `/`", new Uint8Array([...new TextEncoder().encode('{"__metadata__":{"k":"'), 0xc0, 0xaf, ...new TextEncoder().encode('"}}')]), /at byte 30: the header is not valid UTF-8/],
    ["an encoded surrogate", new Uint8Array([...new TextEncoder().encode('{"__metadata__":{"k":"'), 0xed, 0xa0, 0x80, ...new TextEncoder().encode('"}}')]), /at byte 30: the header is not valid UTF-8/],
    ["a byte-order mark", new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("{}")]), /at byte 8: the header does not start with `\{`/],
    ["a leading space", " {}", /at byte 8: the header does not start with `\{`/],
    ["a `__metadata__` value nested 5,000 deep (once: a stack overflow)", `{"__metadata__":{"k":${nested(5000)}}}`, /at byte 155: the header nests deeper than 128 levels/],
    ["a tensor's extra field nested 200 deep", `{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"x":${nested(200)}}}`, /the header nests deeper than 128 levels/],
    ["a `__metadata__` value that is a number", { __metadata__: { k: 1 } }, /`__metadata__` value "k" is 1, not a string/],
    ["a `__metadata__` that is an array", { __metadata__: ["a"] }, /`__metadata__` is not an object/],
  ])("%s is refused", async (_, header, message) => {
    await refused(file(header), message);
  });

  it("a tensor name with terminal escapes is quoted escaped and cut short in the error", async () => {
    const name = "\u001b]0;owned\u0007" + "x".repeat(10_000);
    const err = await readSafetensors(file({ [name]: { dtype: "Q9", shape: [0], data_offsets: [0, 0] } })).then(
      () => expect.fail("the file should be refused"),
      (e: Error) => e,
    );
    expect(err.message).toContain('tensor "\\u001b]0;owned\\u0007xxx');
    expect(err.message).toContain("(10010 characters)");
    expect(err.message.length).toBeLessThan(400);
  });
});

describe("config.json", () => {
  it("a torch_dtype nested 5,000 deep is refused when read from a file", async () => {
    const config = new TextEncoder().encode(`{"model_type":"gemma","torch_dtype":${nested(5000)}}`);
    await expect(readSafetensors(fixture, { config })).rejects.toThrow(/Malformed config\.json file bytes at byte 163: it nests deeper than 128 levels/);
  });

  it("a non-string torch_dtype in a parsed config is ignored (once: String() overflowed the stack)", async () => {
    let deep: unknown = [];
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const m = await loadEmbeddingModel(rt, fixture, { config: { model_type: "gemma", torch_dtype: deep } });
    expect(m.embeddingScale).toBe(Math.fround(Math.sqrt(256)));
    m.dispose();
  });

  it("invalid UTF-8 in config.json is refused, naming the byte", async () => {
    await expect(readSafetensors(fixture, { config: new Uint8Array([0x7b, 0x22, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) })).rejects.toThrow(/config\.json file bytes at byte 2: not valid UTF-8/);
  });
});

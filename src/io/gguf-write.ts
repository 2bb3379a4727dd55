// writeGGUF: an embedding-only GGUF v3 file (token table, optional head, position and other tables,
// metadata) that llama.cpp's tools and @huggingface/gguf read. Layout as in gguf.ts.
// A table whose dim is not a multiple of its format's block is stored with rows padded to whole blocks
// (GGUF allows nothing else); the key `bitembed.unpadded_dim.<tensor>` records the true dim, and
// readGGUF's loadTable gives the table back with it.
import { errors } from "../core/errors.js";
import { formatInfo, rowBytes } from "../formats/registry.js";
import type { EmbeddingTable } from "../tables/table.js";
import { UNPADDED_DIM_KEY } from "./gguf.js";
import { VALUE_TYPE_BY_NAME, type MetadataValue } from "./gguf-values.js";

export interface GGUFTensorInput {
  name: string;
  /** A table (its packed bytes are written as they are in memory)... */
  table?: EmbeddingTable;
  /** ...or a format, ggml-order dims (dims[0] fastest) and the packed bytes. */
  format?: string;
  dims?: readonly number[];
  data?: ArrayBuffer | ArrayBufferView;
}

export interface WriteGGUFOptions {
  metadata?: Record<string, MetadataValue>;
  /** Stored types by key ("u32", "f32", "string", "array<string>"...); inferred when absent. */
  types?: Record<string, string>;
  tensors?: readonly GGUFTensorInput[];
  /** Data alignment, a power of two (default 32, or `general.alignment` when the metadata has it). */
  alignment?: number;
}

class ByteWriter {
  buf = new Uint8Array(1024);
  view = new DataView(this.buf.buffer);
  pos = 0;
  private static enc = new TextEncoder();
  reserve(n: number): number {
    if (this.pos + n > this.buf.byteLength) {
      const next = new Uint8Array(Math.max(this.buf.byteLength * 2, this.pos + n));
      next.set(this.buf);
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  // reserve() may replace `view`: take the offset first
  u32(x: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, x, true);
  }
  u64(x: number | bigint): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt(x), true);
  }
  string(s: string): void {
    const b = ByteWriter.enc.encode(s);
    this.u64(b.byteLength);
    const at = this.reserve(b.byteLength);
    this.buf.set(b, at);
  }
  bytes(b: Uint8Array): void {
    const at = this.reserve(b.byteLength);
    this.buf.set(b, at);
  }
}

/** The largest data alignment written: padding costs up to this much per tensor (2^30 once wrote 2 GiB). */
export const MAX_ALIGNMENT = 1 << 16;

// Own keys only, into an object with no prototype: keys named like Object members ("constructor",
// "__proto__", "toString") are plain keys, never inherited functions or a prototype to set.
function ownEntries<T>(o: Record<string, T> | undefined): Record<string, T> {
  const out: Record<string, T> = Object.create(null);
  if (o) for (const k of Object.keys(o)) out[k] = o[k];
  return out;
}

export function writeGGUF(options: WriteGGUFOptions): Uint8Array {
  const metadata = ownEntries<MetadataValue>(options?.metadata);
  const types = ownEntries<string>(options?.types);
  const tensors = (options?.tensors ?? []).map(prepareTensor);

  let alignment = options?.alignment ?? (metadata["general.alignment"] as number | undefined) ?? 32;
  if (!(Number.isInteger(alignment) && alignment > 0 && (alignment & (alignment - 1)) === 0 && alignment <= MAX_ALIGNMENT)) {
    throw errors.option("alignment", alignment, `a power of two up to ${MAX_ALIGNMENT}`);
  }
  if (alignment !== 32 || "general.alignment" in metadata) {
    metadata["general.alignment"] = alignment;
    types["general.alignment"] = "u32";
  }
  for (const t of tensors) {
    if (t.unpaddedDim !== undefined) {
      metadata[UNPADDED_DIM_KEY + t.name] = t.unpaddedDim;
      types[UNPADDED_DIM_KEY + t.name] = "u32";
    }
  }

  const w = new ByteWriter();
  w.bytes(new Uint8Array([0x47, 0x47, 0x55, 0x46]));
  w.u32(3);
  w.u64(tensors.length);
  const keys = Object.keys(metadata);
  w.u64(keys.length);
  for (const key of keys) {
    const type = types[key] ?? inferType(key, metadata[key]);
    w.string(key);
    writeValue(w, key, parseType(key, type), metadata[key]);
  }
  let rel = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.id);
    w.u64(rel);
    offsets.push(rel);
    rel = Math.ceil((rel + t.bytes.byteLength) / alignment) * alignment;
  }
  // no tensors, no data section: no padding either (as gguf-py writes vocabulary-only files)
  const dataOffset = tensors.length ? Math.ceil(w.pos / alignment) * alignment : w.pos;
  const lastEnd = tensors.length ? offsets[offsets.length - 1] + tensors[tensors.length - 1].bytes.byteLength : 0;
  const out = new Uint8Array(dataOffset + lastEnd);
  out.set(w.buf.subarray(0, w.pos));
  tensors.forEach((t, i) => out.set(t.bytes, dataOffset + offsets[i]));
  return out;
}

interface PreparedTensor {
  name: string;
  dims: number[];
  id: number;
  bytes: Uint8Array;
  unpaddedDim?: number;
}

function prepareTensor(t: GGUFTensorInput, i: number): PreparedTensor {
  if (!t || typeof t.name !== "string") throw errors.option(`tensors[${i}].name`, t?.name, "a string");
  if (t.table !== undefined) {
    const table = t.table;
    const info = table.info;
    const padded = Math.ceil(table.dim / info.blockElems) * info.blockElems;
    return {
      name: t.name,
      dims: [padded, table.vocab],
      id: info.id,
      bytes: table.bytes(),
      unpaddedDim: padded === table.dim ? undefined : table.dim,
    };
  }
  const info = formatInfo(t.format);
  const dims = [...(t.dims ?? [])];
  if (dims.length < 1 || dims.length > 4 || dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw errors.option(`tensors[${i}].dims`, t.dims, "1 to 4 non-negative integers, fastest axis first");
  }
  if (dims[0] % info.blockElems !== 0) {
    throw errors.option(`tensors[${i}].dims[0]`, dims[0], `a multiple of the ${info.name} block (${info.blockElems})`);
  }
  const data = t.data;
  if (!(data instanceof ArrayBuffer || ArrayBuffer.isView(data))) throw errors.dataKind(`tensors[${i}].data`, data);
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const rows = dims.slice(1).reduce((a, b) => a * b, 1);
  const expected = rowBytes(info, dims[0]) * rows;
  if (bytes.byteLength !== expected) {
    throw errors.dataLength(`tensors[${i}].data`, bytes.byteLength, expected, `${info.name} tensor of dims [${dims.join(", ")}]`);
  }
  return { name: t.name, dims, id: info.id, bytes };
}

type ParsedType = { name: string; elem?: ParsedType };

function parseType(key: string, type: string): ParsedType {
  const m = /^array<(.*)>$/.exec(type);
  if (m) return { name: "array", elem: parseType(key, m[1]) };
  if (!(type in VALUE_TYPE_BY_NAME) || type === "array") {
    throw errors.metadataValue(key, type, "a GGUF type: u8 i8 u16 i16 u32 i32 u64 i64 f32 f64 bool string array<...>");
  }
  return { name: type };
}

function inferType(key: string, v: MetadataValue): string {
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "bigint") return v < 0n ? "i64" : "u64";
  if (typeof v === "number") {
    if (!Number.isInteger(v)) return "f32";
    if (v >= 0 && v <= 0xffffffff) return "u32";
    if (v < 0 && v >= -0x80000000) return "i32";
    return v < 0 ? "i64" : "u64";
  }
  const typed: [unknown, string][] = [
    [Uint8Array, "u8"], [Int8Array, "i8"], [Uint16Array, "u16"], [Int16Array, "i16"], [Uint32Array, "u32"],
    [Int32Array, "i32"], [Float32Array, "f32"], [Float64Array, "f64"], [BigUint64Array, "u64"], [BigInt64Array, "i64"],
  ];
  for (const [ctor, name] of typed) if (v instanceof (ctor as typeof Uint8Array)) return `array<${name}>`;
  if (Array.isArray(v)) {
    if (v.length === 0) return "array<string>";
    const first = v[0] as MetadataValue;
    if (typeof first === "number") return (v as number[]).every(Number.isInteger) ? "array<i32>" : "array<f32>";
    return `array<${inferType(key, first)}>`;
  }
  throw errors.metadataValue(key, v, "a string, number, bigint, boolean, typed array or array");
}

function writeValue(w: ByteWriter, key: string, t: ParsedType, v: MetadataValue): void {
  const vt = VALUE_TYPE_BY_NAME[t.name];
  w.u32(vt.id);
  writeBody(w, key, t, v);
}

function writeBody(w: ByteWriter, key: string, t: ParsedType, v: MetadataValue): void {
  if (t.name === "string") {
    if (typeof v !== "string") throw errors.metadataValue(key, v, "a string");
    w.string(v);
    return;
  }
  if (t.name === "array") {
    if (!(Array.isArray(v) || ArrayBuffer.isView(v))) throw errors.metadataValue(key, v, "an array");
    const elem = t.elem!;
    const items = v as ArrayLike<MetadataValue>;
    w.u32(VALUE_TYPE_BY_NAME[elem.name].id);
    w.u64(items.length);
    for (let i = 0; i < items.length; i++) {
      // an array inside an array has no type id of its own: the outer array gave it
      writeBody(w, `${key}[${i}]`, elem, items[i]);
    }
    return;
  }
  const vt = VALUE_TYPE_BY_NAME[t.name];
  if (!(typeof v === "number" || typeof v === "bigint" || typeof v === "boolean")) throw errors.metadataValue(key, v, `a ${t.name}`);
  const at = w.reserve(vt.size); // may replace w.view
  vt.set(w.view, at, v);
}

// GGUF (versions 2 and 3) read lazily: the header (metadata and tensor infos) up front, each tensor's
// bytes only when asked for, in chunks, straight into a table's linear memory. Hostile files (lying
// counts, offsets past the end, overlapping tensors, overflowing dims, unknown types) fail with the byte
// offset or the tensor named, before any allocation larger than the file.
// see: ggml docs/gguf.md (layout), ggml.c gguf_init_from_file_impl (the checks ggml itself makes).
//
//   "GGUF" u32 version, u64 n_tensors, u64 n_kv
//   n_kv x    { string key, u32 type, value }          string = u64 length + UTF-8 bytes
//   n_tensors x { string name, u32 n_dims, u64 dims[n_dims], u32 type, u64 offset }
//   padding to `general.alignment` (default 32), then the data section; tensor offsets are relative to it
import { describe, errors, quote } from "../core/errors.js";
import { formatFromGgmlId, type Format } from "../formats/registry.js";
import type { Runtime } from "../core/runtime.js";
import type { EmbeddingTable } from "../tables/table.js";
import { ggmlType } from "./ggml-types.js";
import { drive, HeaderReader, type Need } from "./reader.js";
import { openSource, type ByteSource, type SourceInput } from "./source.js";
import { loadTableFromSource } from "./load.js";
import { VALUE_TYPES, type MetadataValue } from "./gguf-values.js";

export type { MetadataValue } from "./gguf-values.js";

export interface GGUFTensorInfo {
  name: string;
  /** ggml order: dims[0] is the fastest axis (a table's dim), dims[1] its rows (vocab). */
  dims: number[];
  /** The bitembed format, or undefined when bitembed cannot hold this type (see `typeName`). */
  format: Format | undefined;
  /** ggml type id and name (e.g. 12 "q4_K"). */
  type: number;
  typeName: string;
  /** Absolute byte offset in the file (dataOffset + the offset stored in the file). */
  offset: number;
  byteLength: number;
}

export interface GGUFFile {
  version: number;
  /** Values by key: numbers (u64/i64 beyond 2^53 as bigint), strings, booleans; numeric arrays as typed arrays. */
  metadata: Record<string, MetadataValue>;
  /** The stored type of each key ("u32", "string", "array<f32>", "array<array<string>>"...), for rewriting. */
  types: Record<string, string>;
  tensors: GGUFTensorInfo[];
  alignment: number;
  /** Where the data section starts; tensor offsets above are already absolute. */
  dataOffset: number;
  source: ByteSource;
  /** The info of one tensor; throws naming the tensors there are. */
  tensor(name: string): GGUFTensorInfo;
  /** A tensor's bytes, read now (a fresh copy). */
  readTensor(name: string): Promise<Uint8Array>;
  /** A 2-D tensor as an EmbeddingTable, its bytes copied from the source into linear memory in chunks. */
  loadTable(rt: Runtime, name: string): Promise<EmbeddingTable>;
}

export interface ReadGGUFOptions {
  /** Called with the size of the largest buffer the header reader allocated (the fuzz test watches it). */
  onLargestAllocation?: (bytes: number) => void;
  /** Called with the estimated JS heap the decoded header holds (bounded by 3 x the file's size + 1 MiB). */
  onHeapEstimate?: (bytes: number) => void;
}

const MAX_DIMS = 4;
const MAX_DEPTH = 8;
/** The key writeGGUF uses to record a table's dim when the stored rows are padded to whole blocks. */
export const UNPADDED_DIM_KEY = "bitembed.unpadded_dim.";

export async function readGGUF(input: SourceInput, options: ReadGGUFOptions = {}): Promise<GGUFFile> {
  const source = await openSource(input);
  const r = new HeaderReader(source, "GGUF");
  try {
    return await drive(r, parse(r));
  } finally {
    options.onLargestAllocation?.(r.largestAllocation);
    options.onHeapEstimate?.(r.heapCost);
  }
}

// Estimated JS heap of what each parsed item keeps beyond its strings (see HeaderReader.charge): a metadata
// entry in two dictionaries (values and types) and its type name; a tensor info as parsed and as returned, its
// dims, and its entries in the name set and map.
const KEY_COST = 160;
const TENSOR_COST = 400;
const ARRAY_COST = 64; // a JS array's header (its slots are charged per element)
const SLOT_COST = 12; // one element slot, with the slack of a growing array
const TYPED_ARRAY_COST = 256; // a typed array with its own ArrayBuffer
const VIEW_COST = 128; // a typed array over a shared buffer (see Slab)
const SCALAR_COST = 32; // a heap number or bigint

function* parse(r: HeaderReader): Generator<Need, GGUFFile, void> {
  const source = r.source;
  yield* r.want(4, "the magic");
  const magic = r.bytesNow(4);
  if (magic[0] !== 0x47 || magic[1] !== 0x47 || magic[2] !== 0x55 || magic[3] !== 0x46) {
    r.fail(`the magic is ${quote(String.fromCharCode(...magic))}, expected "GGUF"`, 0);
  }
  yield* r.want(4, "the version");
  const version = r.u32Now();
  if ((version & 0xffff) === 0 && version !== 0) {
    throw errors.unsupportedFile("GGUF", source.name, "it is big-endian (version field " + version + "); bitembed reads little-endian GGUF only");
  }
  if (version !== 2 && version !== 3) {
    throw errors.unsupportedFile("GGUF", source.name, `version ${version}; bitembed reads versions 2 and 3`);
  }
  let at = r.pos;
  yield* r.want(16, "the tensor and metadata counts");
  const nTensors = r.sizeChecked("the tensor count");
  // smallest tensor info: empty name (8) + n_dims (4) + type (4) + offset (8)
  r.checkCount(nTensors, 24, "the tensor count", at);
  at = r.pos;
  const nKv = r.sizeChecked("the metadata count");
  // smallest key/value: empty key (8) + type (4) + a one-byte value
  r.checkCount(nKv, 13, "the metadata count", at);

  const metadata: Record<string, MetadataValue> = Object.create(null);
  const types: Record<string, string> = Object.create(null);
  const slab = new Slab(r);
  for (let i = 0; i < nKv; i++) {
    const keyAt = r.pos;
    const key = yield* r.ggufString(() => `metadata key #${i}`);
    r.charge(KEY_COST, () => `metadata key ${quote(key)}`, keyAt);
    if (Object.prototype.hasOwnProperty.call(types, key)) r.fail(`metadata key ${quote(key)} appears twice`, keyAt);
    const typeAt = r.pos;
    yield* r.want(4, () => `the type of ${quote(key)}`);
    const type = r.u32Now();
    const { value, typeName } = yield* readValue(r, slab, type, key, typeAt, 0);
    metadata[key] = value;
    types[key] = typeName;
  }

  let alignment = 32;
  if ("general.alignment" in metadata) {
    const a = metadata["general.alignment"];
    if (!(typeof a === "number" && Number.isInteger(a) && a > 0 && (a & (a - 1)) === 0 && a <= 1 << 30)) {
      r.fail(`\`general.alignment\` is ${describe(a)}; expected a power of two`);
    }
    alignment = a as number;
  }

  const infos: { name: string; dims: number[]; type: number; rel: number; at: number }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const infoAt = r.pos;
    const name = yield* r.ggufString(() => `the name of tensor #${i}`);
    const label = () => `tensor ${quote(name)}`;
    r.charge(TENSOR_COST, label, infoAt);
    if (names.has(name)) r.fail(`${label()} appears twice`, infoAt);
    names.add(name);
    const nDimsAt = r.pos;
    yield* r.want(4, () => `n_dims of ${label()}`);
    const nDims = r.u32Now();
    if (nDims > MAX_DIMS) r.fail(`${label()} has ${nDims} dims; at most ${MAX_DIMS}`, nDimsAt);
    yield* r.want(nDims * 8 + 12, () => `the dims, type and offset of ${label()}`);
    const dims: number[] = [];
    let elems = 1;
    for (let d = 0; d < nDims; d++) {
      const dimAt = r.pos;
      const v = r.u64Now();
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) r.fail(`dim ${d} of ${label()} is ${v}`, dimAt);
      const n = Number(v);
      elems *= n;
      if (elems > Number.MAX_SAFE_INTEGER) r.fail(`the dims of ${label()} multiply past 2^53 elements`, dimAt);
      dims.push(n);
    }
    const typeAt = r.pos;
    const type = r.u32Now();
    const t = ggmlType(type);
    if (t === undefined) {
      r.fail(`${label()} has type id ${type}, which ggml does not define`, typeAt);
    }
    if ((dims[0] ?? 1) % t.blockElems !== 0) {
      r.fail(`${label()} has dims[0] = ${dims[0]}, not a multiple of the ${t.name} block (${t.blockElems})`, nDimsAt);
    }
    const offAt = r.pos;
    const rel = r.sizeChecked(() => `the offset of ${label()}`);
    if (rel % alignment !== 0) r.fail(`${label()} has offset ${rel}, not a multiple of the alignment ${alignment}`, offAt);
    infos.push({ name, dims, type, rel, at: infoAt });
  }

  const dataOffset = Math.ceil(r.pos / alignment) * alignment;
  const tensors: GGUFTensorInfo[] = infos.map(({ name, dims, type, rel, at }) => {
    const t = ggmlType(type)!;
    const elems = dims.reduce((a, b) => a * b, 1);
    const byteLength = (elems / t.blockElems) * t.blockBytes;
    const offset = dataOffset + rel;
    if (offset + byteLength > source.size) {
      r.fail(
        `tensor ${quote(name)} (${byteLength} bytes at offset ${offset}) runs past the end of the file (${source.size} bytes)`,
        at,
      );
    }
    return { name, dims, format: t.format, type, typeName: t.name, offset, byteLength };
  });
  // tensors must not overlap: sort by offset and compare neighbours
  const sorted = [...tensors].filter((t) => t.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].offset < prev.offset + prev.byteLength) {
      r.fail(`tensors ${quote(prev.name)} and ${quote(sorted[i].name)} overlap`, sorted[i].offset);
    }
  }
  return makeFile(version, metadata, types, tensors, alignment, dataOffset, source);
}

function* readValue(
  r: HeaderReader,
  slab: Slab,
  type: number,
  key: string,
  typeAt: number,
  depth: number,
): Generator<Need, { value: MetadataValue; typeName: string }, void> {
  const vt = VALUE_TYPES[type];
  if (vt === undefined) r.fail(`metadata ${quote(key)} has value type ${type}; valid types are 0 to 12`, typeAt);
  if (vt.name === "string") return { value: yield* r.ggufString(`the value of ${quote(key)}`), typeName: "string" };
  if (vt.name !== "array") {
    yield* r.want(vt.size, () => `the value of ${quote(key)}`);
    const b = r.bytesNow(vt.size);
    r.charge(SCALAR_COST, () => `the value of ${quote(key)}`);
    return { value: vt.get(new DataView(b.buffer, b.byteOffset, b.byteLength), 0), typeName: vt.name };
  }
  if (depth >= MAX_DEPTH) r.fail(`metadata ${quote(key)} nests arrays deeper than ${MAX_DEPTH}`, typeAt);
  const elemAt = r.pos;
  yield* r.want(12, () => `the element type and length of ${quote(key)}`);
  const elemType = r.u32Now();
  const et = VALUE_TYPES[elemType];
  if (et === undefined) r.fail(`array ${quote(key)} has element type ${elemType}; valid types are 0 to 12`, elemAt);
  const countAt = r.pos;
  const count = r.sizeChecked(() => `the length of array ${quote(key)}`);
  if (count * et.size > r.remaining) r.checkCount(count, et.size, `the length of array ${quote(key)}`, countAt);
  if (et.name === "string" || et.name === "array" || et.name === "bool") {
    r.charge(ARRAY_COST + SLOT_COST * count, () => `array ${quote(key)} of ${count} values`, countAt);
  }
  if (et.name === "string") {
    return { value: yield* r.ggufStrings(count, (i) => `${quote(key)}[${i}]`), typeName: "array<string>" };
  }
  if (et.name === "array") {
    const out: MetadataValue[] = [];
    // an empty outer array says nothing of its elements' type: any will do, u8 is written back
    let inner = "array<u8>";
    for (let i = 0; i < count; i++) {
      const v = yield* readValue(r, slab, 9, key, r.pos, depth + 1);
      out.push(v.value);
      inner = v.typeName;
    }
    return { value: out, typeName: `array<${inner}>` };
  }
  if (et.name === "bool") {
    yield* r.want(count, () => `array ${quote(key)}`);
    return { value: Array.from(r.bytesNow(count), (x) => x !== 0), typeName: "array<bool>" };
  }
  // numbers: one copy of the bytes, viewed as the matching typed array; arrays inside arrays share buffers
  const bytes = count * et.size;
  yield* r.want(bytes, () => `array ${quote(key)}`);
  const src = r.bytesNow(bytes);
  let value: MetadataValue;
  if (depth > 0 && bytes <= Slab.MAX_ITEM) {
    r.charge(VIEW_COST + bytes, () => `array ${quote(key)}`, countAt);
    const { buffer, offset } = slab.copy(src);
    value = new et.array!(buffer, offset, count) as MetadataValue;
  } else {
    r.charge(TYPED_ARRAY_COST + bytes, () => `array ${quote(key)}`, countAt);
    r.noteAllocation(bytes);
    value = new et.array!(src.slice().buffer as ArrayBuffer, 0, count) as MetadataValue;
  }
  return { value, typeName: `array<${et.name}>` };
}

// Numeric arrays inside arrays (array<array<u8>>...) are copied into shared 64 KiB buffers, 8-byte aligned,
// rather than each into an ArrayBuffer of its own (~200 bytes of overhead for an array of a few bytes).
class Slab {
  static readonly CHUNK = 1 << 16;
  static readonly MAX_ITEM = 1 << 12;
  private buffer = new ArrayBuffer(0);
  private used = 0;

  constructor(private readonly r: HeaderReader) {}

  copy(src: Uint8Array): { buffer: ArrayBuffer; offset: number } {
    const offset = Math.ceil(this.used / 8) * 8;
    if (offset + src.byteLength > this.buffer.byteLength) {
      this.buffer = new ArrayBuffer(Slab.CHUNK);
      this.r.noteAllocation(Slab.CHUNK);
      this.used = 0;
      return this.copy(src);
    }
    new Uint8Array(this.buffer, offset, src.byteLength).set(src);
    this.used = offset + src.byteLength;
    return { buffer: this.buffer, offset };
  }
}

function makeFile(
  version: number,
  metadata: Record<string, MetadataValue>,
  types: Record<string, string>,
  tensors: GGUFTensorInfo[],
  alignment: number,
  dataOffset: number,
  source: ByteSource,
): GGUFFile {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const tensor = (name: string): GGUFTensorInfo => {
    const t = byName.get(name);
    if (t === undefined) throw errors.noTensor(name, tensors.map((x) => x.name));
    return t;
  };
  return {
    version,
    metadata,
    types,
    tensors,
    alignment,
    dataOffset,
    source,
    tensor,
    async readTensor(name) {
      const t = tensor(name);
      return (await source.read(t.offset, t.byteLength)).slice();
    },
    async loadTable(rt, name) {
      const t = tensor(name);
      // formatFromGgmlId throws for a type bitembed cannot hold, naming it and what bitembed reads
      const format = (t.format ?? formatFromGgmlId(t.type, name).name) as Format;
      const rows = t.dims.slice(1).reduce((a, b) => a * b, 1);
      if (t.dims.length < 1 || t.dims.slice(2).some((d) => d !== 1) || rows === 0 || t.dims[0] === 0) {
        throw errors.tensorShape(name, t.dims, "[dim, rows] with both at least 1");
      }
      const unpadded = metadata[UNPADDED_DIM_KEY + name];
      let dim = t.dims[0];
      if (typeof unpadded === "number" && unpadded > 0 && unpadded <= dim && Math.ceil(unpadded / blockOf(t)) * blockOf(t) === dim) {
        dim = unpadded;
      }
      return loadTableFromSource(rt, source, t.offset, { vocab: rows, dim, format }, name);
    },
  };
}

function blockOf(t: GGUFTensorInfo): number {
  return ggmlType(t.type)!.blockElems;
}

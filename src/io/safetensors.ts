// safetensors read lazily: the JSON header up front, each tensor's bytes when asked for, straight into a
// table's linear memory. Offsets, sizes and dtypes are checked against the file before anything is read.
// see: https://github.com/huggingface/safetensors (format section).
//
//   u64 N | N bytes of JSON { name: { dtype, shape, data_offsets: [begin, end) }, "__metadata__": {...} } | data
import { describe, errors, quote } from "../core/errors.js";
import { invalidUtf8At, MAX_JSON_DEPTH, scanJSON } from "./json.js";
import { FORMATS, FORMAT_NAMES, formatBySafetensorsDtype, type Format } from "../formats/registry.js";
import type { Runtime } from "../core/runtime.js";
import type { EmbeddingTable } from "../tables/table.js";
import { loadTableFromSource } from "./load.js";
import { HeaderReader } from "./reader.js";
import { openSource, type ByteSource, type SourceInput } from "./source.js";

/** Bytes per element of every safetensors dtype; the registry says which ones bitembed holds (`safetensors`). */
const DTYPES: Readonly<Record<string, { bytes: number }>> = {
  F32: { bytes: 4 }, F16: { bytes: 2 }, BF16: { bytes: 2 },
  F64: { bytes: 8 }, I64: { bytes: 8 }, U64: { bytes: 8 }, I32: { bytes: 4 }, U32: { bytes: 4 }, I16: { bytes: 2 },
  U16: { bytes: 2 }, I8: { bytes: 1 }, U8: { bytes: 1 }, BOOL: { bytes: 1 }, F8_E4M3: { bytes: 1 }, F8_E5M2: { bytes: 1 },
  F8_E8M0: { bytes: 1 },
};

const MAX_HEADER = 100_000_000; // as the reference reader
// a BOM is an error (the header must start with `{`), not something to drop
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const MAX_CONFIG = 10_000_000;

export interface SafetensorsTensorInfo {
  name: string;
  dtype: string;
  /** Row-major, as in the file: an embedding is [vocab, dim]. */
  shape: number[];
  format: Format | undefined;
  /** Absolute byte offset in the file. */
  offset: number;
  byteLength: number;
}

export interface SafetensorsFile {
  /** The `__metadata__` string map. */
  metadata: Record<string, string>;
  tensors: SafetensorsTensorInfo[];
  dataOffset: number;
  /** The parsed config.json, when one was given. */
  config?: Record<string, unknown>;
  source: ByteSource;
  tensor(name: string): SafetensorsTensorInfo;
  readTensor(name: string): Promise<Uint8Array>;
  /** A [rows, dim] tensor as an EmbeddingTable, copied into linear memory in chunks. */
  loadTable(rt: Runtime, name: string): Promise<EmbeddingTable>;
}

export interface ReadSafetensorsOptions {
  /** The model's config.json: parsed, or where to read it (bytes, path, URL, Blob). */
  config?: Record<string, unknown> | SourceInput;
}

export async function readSafetensors(input: SourceInput, options: ReadSafetensorsOptions = {}): Promise<SafetensorsFile> {
  const source = await openSource(input);
  const r = new HeaderReader(source, "safetensors");
  const n = await r.size("the header length");
  if (n > MAX_HEADER) r.fail(`the header length is ${n}; at most ${MAX_HEADER} bytes are allowed`, 0);
  if (n > r.remaining) r.fail(`the header length is ${n} but only ${r.remaining} bytes follow`, 0);
  const raw = await r.bytes(n, "the JSON header");
  if (raw[0] !== 0x7b) r.fail("the header does not start with `{`", 8);
  const bad = invalidUtf8At(raw);
  if (bad >= 0) r.fail("the header is not valid UTF-8", 8 + bad);
  const text = utf8.decode(raw);
  const { tooDeepAt, heap } = scanJSON(text);
  if (tooDeepAt >= 0) r.fail(`the header nests deeper than ${MAX_JSON_DEPTH} levels`, 8 + tooDeepAt);
  r.charge(heap, "the JSON header", 8);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    r.fail(`the header is not JSON (${(e as Error).message})`, 8);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) r.fail("the header is not a JSON object", 8);
  const dataOffset = 8 + n;
  const dataSize = source.size - dataOffset;
  const metadata: Record<string, string> = Object.create(null);
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      // a map of strings to strings, as the reference reader requires
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) r.fail("`__metadata__` is not an object", 8);
      for (const [k, v] of Object.entries(entry as object)) {
        if (typeof v !== "string") r.fail(`\`__metadata__\` value ${quote(k)} is ${describe(v)}, not a string`, 8);
        metadata[k] = v;
      }
      continue;
    }
    const bad = (detail: string): never => r.fail(`tensor ${quote(name)} ${detail}`, 8);
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null) bad("is not an object");
    const dt = typeof e.dtype === "string" && Object.prototype.hasOwnProperty.call(DTYPES, e.dtype) ? DTYPES[e.dtype] : undefined;
    if (dt === undefined) bad(`has dtype ${describe(e.dtype)}; known: ${Object.keys(DTYPES).join(", ")}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) bad("has a shape that is not a list of non-negative integers");
    let elems = 1;
    for (const d of shape as number[]) {
      elems *= d;
      if (elems > Number.MAX_SAFE_INTEGER) bad(`has a shape [${(shape as number[]).join(", ")}] whose product overflows`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((x) => Number.isSafeInteger(x) && x >= 0) || offs[0] > offs[1]) {
      bad("has `data_offsets` that are not [begin, end] with 0 <= begin <= end");
    }
    const [begin, end] = offs as [number, number];
    if (end - begin !== elems * dt!.bytes) {
      bad(`has ${end - begin} bytes in \`data_offsets\` but its shape and ${e.dtype} need ${elems * dt!.bytes}`);
    }
    if (end > dataSize) bad(`ends at data byte ${end}, past the end of the file (${dataSize} data bytes)`);
    tensors.push({
      name,
      dtype: e.dtype as string,
      shape: shape as number[],
      format: formatBySafetensorsDtype(e.dtype as string)?.name as Format | undefined,
      offset: dataOffset + begin,
      byteLength: end - begin,
    });
  }
  // As the reference reader: sorted by offsets, the tensors tile the data section exactly, from its first byte
  // to the file's last (no hole, no overlap, nothing after).
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset || a.byteLength - b.byteLength);
  let covered = 0;
  for (let i = 0; i < sorted.length; i++) {
    const t = sorted[i];
    const begin = t.offset - dataOffset;
    if (begin < covered) r.fail(`tensors ${quote(sorted[i - 1].name)} and ${quote(t.name)} overlap`, t.offset);
    if (begin > covered) {
      r.fail(`data bytes ${covered} to ${begin} belong to no tensor (a hole before ${quote(t.name)}); the tensors must be contiguous from 0`, dataOffset + covered);
    }
    covered = begin + t.byteLength;
  }
  if (covered !== dataSize) {
    r.fail(
      `the tensors cover ${covered} data bytes but ${dataSize} follow the header (${dataSize > covered ? "bytes after the last tensor" : "the file is short"}; is the header length right?)`,
      dataOffset + covered,
    );
  }
  const config = options.config === undefined ? undefined : await readConfig(options.config);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const tensor = (name: string): SafetensorsTensorInfo => {
    const t = byName.get(name);
    if (t === undefined) throw errors.noTensor(name, tensors.map((x) => x.name));
    return t;
  };
  return {
    metadata,
    tensors,
    dataOffset,
    config,
    source,
    tensor,
    async readTensor(name) {
      const t = tensor(name);
      return (await source.read(t.offset, t.byteLength)).slice();
    },
    async loadTable(rt, name) {
      const t = tensor(name);
      if (t.format === undefined) throw errors.tensorFormat(name, t.dtype, FORMAT_NAMES.flatMap((f) => (FORMATS[f] as { safetensors?: string }).safetensors ?? []));
      if (t.shape.length < 1 || t.shape.length > 2 || t.shape.some((d) => d === 0)) {
        throw errors.tensorShape(name, t.shape, "[rows, dim] with both at least 1");
      }
      const [rows, dim] = t.shape.length === 1 ? [1, t.shape[0]] : t.shape;
      return loadTableFromSource(rt, source, t.offset, { vocab: rows, dim, format: t.format }, name);
    },
  };
}

async function readConfig(config: Record<string, unknown> | SourceInput): Promise<Record<string, unknown>> {
  const isSource =
    typeof config === "string" || config instanceof URL || config instanceof ArrayBuffer || ArrayBuffer.isView(config) ||
    (typeof Blob !== "undefined" && config instanceof Blob) || typeof (config as { read?: unknown }).read === "function";
  if (!isSource) return config as Record<string, unknown>;
  const source = await openSource(config as SourceInput);
  if (source.size > MAX_CONFIG) throw errors.badFile("config.json", source.name, 0, `it holds ${source.size} bytes; at most ${MAX_CONFIG}`);
  const raw = await source.read(0, source.size);
  const bad = invalidUtf8At(raw);
  if (bad >= 0) throw errors.badFile("config.json", source.name, bad, "not valid UTF-8");
  const text = utf8.decode(raw);
  const { tooDeepAt } = scanJSON(text);
  if (tooDeepAt >= 0) throw errors.badFile("config.json", source.name, tooDeepAt, `it nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed;
  } catch (e) {
    throw errors.badFile("config.json", source.name, 0, `not a JSON object (${(e as Error).message})`);
  }
}

/** A safetensors file from f32/f16/bf16 (and f64, i64, i32) tensors (row-major bytes), for tests, fixtures and conversions. */
export function writeSafetensors(
  tensors: readonly { name: string; dtype: "F32" | "F16" | "BF16" | "F64" | "I64" | "I32"; shape: readonly number[]; data: ArrayBufferView }[],
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let at = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.data.byteLength] };
    at += t.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8; // the data buffer starts 8-byte aligned
  const out = new Uint8Array(8 + padded + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.fill(0x20, 8, 8 + padded);
  out.set(json, 8);
  json = new Uint8Array(0);
  let pos = 8 + padded;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

// THE table of storage formats. Every size, id and kernel name anywhere in bitembed is read from here:
// dispatch, validation, file readers and writers, docs and the test matrix all loop over FORMATS.
// Keys: `id` is the ggml/GGUF type id, a block holds `blockElems` elements in `blockBytes` bytes,
// `decode` names the wasm export that turns rows of ids into f32 rows, `encode` the one that
// turns f32 values (whole blocks) into the format.
// see: ggml.c type_traits; FORMATS.md in the design notes.

export interface FormatInfo {
  readonly name: string;
  readonly id: number;
  readonly blockElems: number;
  readonly blockBytes: number;
  readonly decode: string;
  readonly encode: string;
  readonly description: string;
}

export const FORMATS = Object.freeze({
  f32: { name: "f32", id: 0, blockElems: 1, blockBytes: 4, decode: "decode_f32", encode: "encode_f32", description: "IEEE binary32" },
  f16: { name: "f16", id: 1, blockElems: 1, blockBytes: 2, decode: "decode_f16", encode: "encode_f16", description: "IEEE binary16" },
  bf16: { name: "bf16", id: 30, blockElems: 1, blockBytes: 2, decode: "decode_bf16", encode: "encode_bf16", description: "bfloat16" },
  q8_0: { name: "q8_0", id: 8, blockElems: 32, blockBytes: 34, decode: "decode_q8_0", encode: "encode_q8_0", description: "8-bit codes, f16 scale per 32" },
  q4_0: { name: "q4_0", id: 2, blockElems: 32, blockBytes: 18, decode: "decode_q4_0", encode: "encode_q4_0", description: "4-bit codes, f16 scale per 32" },
  q4_1: { name: "q4_1", id: 3, blockElems: 32, blockBytes: 20, decode: "decode_q4_1", encode: "encode_q4_1", description: "4-bit codes, f16 scale and minimum per 32" },
  q1_0: { name: "q1_0", id: 41, blockElems: 128, blockBytes: 18, decode: "decode_q1_0", encode: "encode_q1_0", description: "1-bit signs, f16 scale per 128 (PrismML Bonsai)" },
  q2_0: { name: "q2_0", id: 42, blockElems: 64, blockBytes: 18, decode: "decode_q2_0", encode: "encode_q2_0", description: "2-bit codes {-1, 0, 1, 2} x f16 scale per 64 (ternary Bonsai)" },
  tq1_0: { name: "tq1_0", id: 34, blockElems: 256, blockBytes: 54, decode: "decode_tq1_0", encode: "encode_tq1_0", description: "ternary, base-3 packed (1.69 bits) x f16 scale per 256" },
  tq2_0: { name: "tq2_0", id: 35, blockElems: 256, blockBytes: 66, decode: "decode_tq2_0", encode: "encode_tq2_0", description: "ternary, 2-bit codes x f16 scale per 256" },
  q6_k: { name: "q6_k", id: 14, blockElems: 256, blockBytes: 210, decode: "decode_q6_k", encode: "encode_q6_k", description: "6-bit codes, int8 scale per 16, f16 scale per 256 (llama.cpp Q6_K)" },
} as const satisfies Record<string, FormatInfo>);

export type Format = keyof typeof FORMATS;
export const FORMAT_NAMES = Object.freeze(Object.keys(FORMATS) as Format[]);

import { errors } from "../core/errors.js";

export function formatInfo(format: unknown): FormatInfo {
  if (typeof format === "string" && Object.prototype.hasOwnProperty.call(FORMATS, format)) {
    return FORMATS[format as Format];
  }
  throw errors.unknownFormat(format, FORMAT_NAMES);
}

export function formatById(id: number): FormatInfo | undefined {
  return FORMAT_NAMES.map((n) => FORMATS[n] as FormatInfo).find((f) => f.id === id);
}

/**
 * The format of a ggml/GGUF type id, for file readers. Throws a RangeError that says what the file holds
 * when bitembed cannot read it: PrismML's old fork ids (40: group-32 1-bit, which upstream ggml assigns
 * to NVFP4; 142: PQ2_0) ask for a re-conversion to upstream Q1_0 (41) / Q2_0 (42); other ids are named.
 */
export function formatFromGgmlId(id: number, tensorName?: string): FormatInfo {
  const info = formatById(id);
  if (info !== undefined) return info;
  if (id === 40) throw errors.ggmlPrismQ1(tensorName);
  if (id === 142) throw errors.ggmlPrismPQ2(tensorName);
  const supported = FORMAT_NAMES.map((n) => `${n} (${FORMATS[n].id})`);
  throw errors.ggmlUnsupportedType(id, tensorName, supported);
}

/** Blocks per row: a dim that is not a multiple of the block size is padded to whole blocks. */
export function blocksPerRow(info: FormatInfo, dim: number): number {
  return Math.ceil(dim / info.blockElems);
}

export function rowBytes(info: FormatInfo, dim: number): number {
  return blocksPerRow(info, dim) * info.blockBytes;
}

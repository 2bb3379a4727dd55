// Names and block sizes of every ggml tensor type a GGUF file may hold, so that a reader can size, place
// and check tensors bitembed cannot hold itself (a model's Q2_K, Q3_K or IQ layers) without reading them.
// The formats bitembed holds are looked up in FORMATS first (src/formats/registry.ts, the one table of formats).
// see: ggml.h `enum ggml_type` and ggml.c `type_traits` (block elements, bytes per block).
import { formatById, type Format, type FormatInfo } from "../formats/registry.js";

export interface GgmlType {
  readonly id: number;
  /** ggml's name, as llama.cpp prints it (lower-case bitembed name for formats bitembed holds). */
  readonly name: string;
  readonly blockElems: number;
  readonly blockBytes: number;
  /** The bitembed format, when bitembed can hold a table of this type. */
  readonly format?: Format;
}

// id: [name, elements per block, bytes per block] of the types not in FORMATS
// (40 is upstream NVFP4; PrismML's old fork used 40 for a group-32 1-bit type: formatFromGgmlId explains)
const OTHER_TYPES: Record<number, readonly [string, number, number]> = {
  9: ["q8_1", 32, 36],
  15: ["q8_K", 256, 292],
  16: ["iq2_xxs", 256, 66],
  17: ["iq2_xs", 256, 74],
  18: ["iq3_xxs", 256, 98],
  19: ["iq1_s", 256, 50],
  21: ["iq3_s", 256, 110],
  22: ["iq2_s", 256, 82],
  24: ["i8", 1, 1],
  25: ["i16", 1, 2],
  26: ["i32", 1, 4],
  27: ["i64", 1, 8],
  28: ["f64", 1, 8],
  29: ["iq1_m", 256, 56],
  40: ["nvfp4", 64, 36],
};

/** The type stored under a ggml id, or undefined for an id ggml does not define. */
export function ggmlType(id: number): GgmlType | undefined {
  const info: FormatInfo | undefined = formatById(id);
  if (info !== undefined) {
    return { id, name: info.name, blockElems: info.blockElems, blockBytes: info.blockBytes, format: info.name as Format };
  }
  const other = OTHER_TYPES[id];
  if (other === undefined) return undefined;
  return { id, name: other[0], blockElems: other[1], blockBytes: other[2] };
}

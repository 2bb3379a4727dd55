// The public surface of bitembed, shared by every runtime entry (src/entries/*), which add `init`.
export { FORMATS, FORMAT_NAMES, formatInfo, formatFromGgmlId, type Format, type FormatInfo } from "./formats.js";
export { Runtime, instantiate, hasSimd, type InitOptions, type WasmSource } from "./runtime.js";
export { EmbeddingTable, type TableOptions, type TableFromF32Options, type TableStats } from "./table.js";
export { quantize, dequantize, type QuantizeOptions, type DequantizeOptions } from "./quantize.js";
export { LinearMemory } from "./memory.js";
export type { Ids } from "./ids.js";

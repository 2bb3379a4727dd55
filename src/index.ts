// The public surface of bitembed, shared by every runtime entry (src/entries/*), which add `init`.
export { FORMATS, FORMAT_NAMES, formatInfo, type Format, type FormatInfo } from "./formats.js";
export { Runtime, instantiate, hasSimd, type InitOptions, type WasmSource } from "./runtime.js";
export { EmbeddingTable, type TableOptions, type TableFromF32Options } from "./table.js";
export { LinearMemory } from "./memory.js";
export type { Ids } from "./ids.js";
export { readGGUF, type GGUFFile, type GGUFTensorInfo, type ReadGGUFOptions, type MetadataValue } from "./io/gguf.js";
export { writeGGUF, type WriteGGUFOptions, type GGUFTensorInput } from "./io/gguf-write.js";
export {
  openSource,
  bytesSource,
  blobSource,
  fileSource,
  urlSource,
  countingSource,
  type ByteSource,
  type SourceInput,
  type CountingSource,
} from "./io/source.js";

// The public surface of bitembed, shared by every runtime entry (src/entries/*), which add `init`.
export { FORMATS, FORMAT_NAMES, formatInfo, type Format, type FormatInfo } from "./formats.js";
export { Runtime, instantiate, hasSimd, type InitOptions, type WasmSource } from "./runtime.js";
export { EmbeddingTable, type TableOptions, type TableFromF32Options } from "./table.js";
export { LinearMemory } from "./memory.js";
export type { Ids } from "./ids.js";
export { PROJECT_MODES, type ProjectMode, type ProjectOptions, type TopKOptions, type TopK } from "./project.js";
export { METRICS, type Metric, type NearestOptions } from "./nearest.js";
export { softmax, logSoftmax, scaleLogits, softcap, type SoftmaxOptions } from "./logits.js";

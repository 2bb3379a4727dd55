// The public surface of bitembed, shared by every runtime entry (src/entries/*), which add `init`: DESIGN.md's
// contract and what users of it need (option and result types, file readers, sources); internals stay internal.
export { FORMATS, FORMAT_NAMES, FAST_FORMAT_NAMES, formatInfo, type Format, type FormatInfo, type VecDot, type FastTraits } from "./formats/registry.js";
export { Runtime, instantiate, hasSimd, hasRelaxedSimd, type InitOptions, type WasmSource } from "./core/runtime.js";
export { EmbeddingTable, type TableOptions, type TableFromF32Options, type TableStats } from "./tables/table.js";
export { quantize, dequantize, type QuantizeOptions, type DequantizeOptions } from "./formats/quantize.js";
export type { LinearMemory } from "./core/memory.js";
export { F32Buffer } from "./core/buffer.js";
export type { Ids } from "./core/ids.js";
export { hadamard, type HadamardOptions } from "./positions/hadamard.js";
export { readGGUF, type GGUFFile, type GGUFTensorInfo, type ReadGGUFOptions, type MetadataValue } from "./io/gguf.js";
export { writeGGUF, type WriteGGUFOptions, type GGUFTensorInput } from "./io/gguf-write.js";
export {
  openSource,
  bytesSource,
  blobSource,
  fileSource,
  urlSource,
  type ByteSource,
  type SourceInput,
} from "./io/source.js";
export { PROJECT_MODES, fastTopk, type ProjectMode, type ProjectOptions, type TopKOptions, type TopK } from "./project/project.js";
export { METRICS, type Metric, type NearestOptions } from "./project/nearest.js";
export { softmax, logSoftmax, scaleLogits, softcap, type SoftmaxOptions } from "./project/logits.js";
export { Rope } from "./positions/rope.js";
export {
  resolveRopeConfig,
  ropeFrequencies,
  ROPE_PAIRINGS,
  ROPE_SCALINGS,
  type RopeConfig,
  type RopePairing,
  type RopeScaling,
  type RopeScalingType,
  type ResolvedRopeConfig,
} from "./positions/rope-freqs.js";
export {
  ropeConfigFromGGUF,
  ropeConfigFromHF,
  type GGUFRopeOptions,
  type HFRopeOptions,
} from "./positions/rope-metadata.js";
export type { Positions } from "./positions/sinusoid.js";
export { embeddingScale, type EmbedOptions } from "./tables/embed.js";
export { POOL_MODES, type PoolMode, type PoolOptions, type Offsets } from "./tables/pool.js";
export { FastHead, supportsFast, type FastHeadOptions } from "./project/fast.js";
export { readSafetensors, writeSafetensors, type SafetensorsFile, type SafetensorsTensorInfo, type ReadSafetensorsOptions } from "./io/safetensors.js";
export { loadEmbeddingModel, type EmbeddingModel, type LoadEmbeddingModelOptions, type ModelTable } from "./io/model.js";
export { RotatedTable, type Rotation } from "./tables/rotated-table.js";
export { readRotation, type HadamardRotation } from "./positions/hadamard-metadata.js";
export { readGloveText, readGloveJSON, type WordVectors, type ReadWordVectorsOptions } from "./io/glove.js";
export {
  loadStaticModel,
  StaticModel,
  type LoadStaticModelOptions,
  type StaticModelFiles,
  type EncodeOptions,
  type Tokenized,
} from "./io/static-model.js";
export type { TokenizerLike, TokenizerModule } from "./io/tokenizer.js";
export {
  ShardedHead,
  gumbelNoise,
  type HeadShardLike,
  type ShardTopK,
  type ShardTopKOptions,
  type SampleOptions,
  type ShardedHeadOptions,
  type ShardedTopK,
  type MissingRange,
} from "./shards/sharded.js";
export { localShard, shardTopk, shardSample, type LocalShardOptions } from "./shards/local.js";
export { planShards, type PlanShardsOptions, type ShardPlan } from "./shards/plan.js";
export { openShardRows, bucketSource, type ShardRows, type ShardRowsOptions, type BucketLike } from "./shards/rows.js";

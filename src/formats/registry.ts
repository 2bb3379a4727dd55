// THE registry of storage formats: every trait a kernel, a reader or a test needs, in one frozen table.
// Dispatch (lookup, quantize, projection, mode "ggml", fast mode), file readers and writers, docs and the
// test matrix all loop over FORMATS; the build generates the assembly side from it (scripts/gen-registry.mjs
// -> assembly/formats/registry.ts: named ids and the only per-format switches in the kernels).
// Adding a format: one entry here, one kernel file assembly/formats/<name>.ts (decode_, encode_, dot_ and,
// for fast mode, codes_), one plain reference test/reference/formats/<name>.ts, its golden fixtures.
// see: ggml.c type_traits, ggml-cpu.c type_traits_cpu (vec_dot_type); docs/FORMATS.md (block layouts).
import { errors } from "../core/errors.js";
import type { DecodeKernel, DotKernel, EncodeKernel, KernelName } from "../core/kernels.js";

/** What mode "ggml" rounds activations to before its dot products: ggml's vec_dot_type of the format. */
export type VecDot = "f32" | "f16" | "bf16" | "q8_0" | "q8_1" | "q8_k";

/**
 * Fast mode (lookup tables): each weight is d * (mult * sum_p 2^p s_p + k), s_p = +-1 from bit p of the
 * element's code (codes_<name> in the format's kernel file). `signs`: q1_0's own kernels (one plane, the sign
 * of d folded into the bits, |d| kept as f16); `planes`: the generic kernels (d kept as f32).
 */
export interface FastTraits {
  readonly planes: number;
  readonly mult: number;
  readonly k: number;
  readonly kernel: "planes" | "signs";
  /** Byte offset of the block's f16 scale d. */
  readonly scaleOffset: number;
}

/**
 * When exact mode dots straight from the packed rows (dot_<name>) instead of decoding a tile of rows into
 * f32 first: batches of fewer than `below` vectors (0: never; decoding pays once decoded rows serve many
 * vectors), for any dim or only whole blocks; `rows4`: the format has a four-row kernel (dot4_<name>) for
 * rows of >= 1024 values.
 */
export interface DirectDot {
  readonly below: number;
  readonly anyDim: boolean;
  readonly rows4: boolean;
}

/** The projection mode a table uses when the caller names none. */
export type DefaultMode = "exact" | "fast" | "ggml";

export interface FormatInfo {
  readonly name: string;
  /** The ggml / GGUF type id. */
  readonly id: number;
  readonly blockElems: number;
  readonly blockBytes: number;
  readonly description: string;
  /** Kernel exports: ids -> f32 rows; f32 (whole blocks) -> blocks; one packed row . f32 vector (the
   * formats whose exact projection dots straight from packed rows, see DirectDot). */
  readonly decode: DecodeKernel;
  readonly encode: EncodeKernel;
  readonly dot?: DotKernel;
  /** Rows are f32 already: projection reads them in place. */
  readonly inPlace: boolean;
  readonly directDot: DirectDot;
  readonly vecDot: VecDot;
  /** Mode "ggml" runs integer dots (idot_<name> in the format's kernel file) over activations quantized to
   * `vecDot` in wasm (assembly/activations.ts); without it, mode "ggml" rounds the activations and runs the
   * exact kernels. */
  readonly intDot: boolean;
  /** "fast" where the format has fast traits, unless the entry says otherwise; "exact" else. */
  readonly defaultMode: DefaultMode;
  readonly fast?: FastTraits;
  /** The safetensors dtype that holds this format, if one does. */
  readonly safetensors?: string;
  /**
   * Bag pooling adds weighted rows straight from the packed blocks into its f32 sums (add_<name> and
   * add4_<name>, whole blocks only) instead of decoding them into a scratch first.
   */
  readonly addRows: boolean;
}

const never: DirectDot = { below: 0, anyDim: false, rows4: false };
const small: DirectDot = { below: 4, anyDim: false, rows4: false };
const single: DirectDot = { below: 2, anyDim: false, rows4: false };

interface Traits {
  description: string;
  vecDot: VecDot;
  directDot?: DirectDot;
  inPlace?: boolean;
  intDot?: boolean;
  defaultMode?: DefaultMode;
  fast?: FastTraits;
  safetensors?: string;
  addRows?: boolean;
}

function entry<N extends string>(name: N, id: number, blockElems: number, blockBytes: number, t: Traits) {
  return Object.freeze({
    name,
    id,
    blockElems,
    blockBytes,
    description: t.description,
    decode: `decode_${name}` as `decode_${N}`,
    encode: `encode_${name}` as `encode_${N}`,
    ...(t.directDot && t.directDot.below > 0 ? { dot: `dot_${name}` as DotKernel } : {}),
    inPlace: t.inPlace ?? false,
    directDot: t.directDot ?? never,
    vecDot: t.vecDot,
    intDot: t.intDot ?? false,
    defaultMode: t.defaultMode ?? (t.fast ? "fast" : "exact"),
    ...(t.fast ? { fast: Object.freeze(t.fast) } : {}),
    ...(t.safetensors ? { safetensors: t.safetensors } : {}),
    addRows: t.addRows ?? false,
  });
}

export const FORMATS = Object.freeze({
  f32: entry("f32", 0, 1, 4, { description: "IEEE binary32", vecDot: "f32", inPlace: true, safetensors: "F32" }),
  f16: entry("f16", 1, 1, 2, {
    description: "IEEE binary16",
    vecDot: "f16",
    directDot: { below: 4, anyDim: true, rows4: true },
    safetensors: "F16",
  }),
  bf16: entry("bf16", 30, 1, 2, {
    description: "bfloat16",
    vecDot: "bf16",
    directDot: { below: 4, anyDim: true, rows4: true },
    safetensors: "BF16",
  }),
  q8_0: entry("q8_0", 8, 32, 34, { description: "8-bit codes, f16 scale per 32", vecDot: "q8_0", directDot: small, addRows: true, intDot: true, defaultMode: "ggml" }),
  q4_0: entry("q4_0", 2, 32, 18, {
    description: "4-bit codes, f16 scale per 32",
    vecDot: "q8_0",
    directDot: small,
    intDot: true,
    fast: { planes: 4, mult: 0.5, k: -0.5, kernel: "planes", scaleOffset: 0 },
  }),
  // (mode "ggml" not the default: see q5_0 below)
  q4_1: entry("q4_1", 3, 32, 20, { description: "4-bit codes, f16 scale and minimum per 32", vecDot: "q8_1", directDot: small, intDot: true }),
  q1_0: entry("q1_0", 41, 128, 18, {
    description: "1-bit signs, f16 scale per 128 (PrismML Bonsai)",
    vecDot: "q8_0",
    directDot: { below: 4, anyDim: true, rows4: false },
    fast: { planes: 1, mult: 1, k: 0, kernel: "signs", scaleOffset: 0 },
  }),
  q2_0: entry("q2_0", 42, 64, 18, {
    description: "2-bit codes {-1, 0, 1, 2} x f16 scale per 64 (ternary Bonsai)",
    vecDot: "q8_0",
    directDot: small,
    fast: { planes: 2, mult: 0.5, k: 0.5, kernel: "planes", scaleOffset: 0 },
  }),
  tq1_0: entry("tq1_0", 34, 256, 54, {
    description: "ternary, base-3 packed (1.69 bits) x f16 scale per 256",
    vecDot: "q8_k",
    fast: { planes: 2, mult: 0.5, k: 0.5, kernel: "planes", scaleOffset: 52 },
  }),
  // (its direct dot was measured slower than decoding a tile: 40 -> 50+ ms on 32000 x 4096)
  tq2_0: entry("tq2_0", 35, 256, 66, {
    description: "ternary, 2-bit codes x f16 scale per 256",
    vecDot: "q8_k",
    fast: { planes: 2, mult: 0.5, k: 0.5, kernel: "planes", scaleOffset: 64 },
  }),
  q6_k: entry("q6_k", 14, 256, 210, {
    description: "6-bit codes, int8 scale per 16, f16 scale per 256 (llama.cpp Q6_K)",
    vecDot: "q8_k",
    directDot: small,
    intDot: true,
    defaultMode: "ggml",
  }),
  q4_k: entry("q4_k", 12, 256, 144, {
    description: "4-bit codes, 6-bit scale and minimum per 32, f16 super-scales per 256 (llama.cpp Q4_K)",
    vecDot: "q8_k",
    directDot: small,
    intDot: true,
    defaultMode: "ggml",
  }),
  q5_k: entry("q5_k", 13, 256, 176, {
    description: "5-bit codes, 6-bit scale and minimum per 32, f16 super-scales per 256 (llama.cpp Q5_K)",
    vecDot: "q8_k",
    directDot: small,
    intDot: true,
    defaultMode: "ggml",
  }),
  // q2_k, q3_k, iq4_xs: their direct dots measured faster than decoding a tile (one vector over 32000 x 4096,
  // min of 9 on a loaded VM: q2_k 98 -> 75 ms, q3_k 130 -> 94, iq4_xs 97 -> 58).
  // Mode "ggml" is their default: measured faster than exact in both builds for 1 and 8 vectors (32000 x 4096,
  // Node 20, median CPU ms of 7 interleaved rounds of 3, load 13-17 on 2 cores; ggml / exact, baseline then
  // relaxed): q2_k 1 vector 14.1 / 33.7, 10.6 / 33.7; 8 vectors 61.7 / 83.6, 68.0 / 82.7. q3_k 21.6 / 48.8,
  // 16.3 / 44.6; 83.4 / 101, 56.2 / 84.8. iq4_xs 15.2 / 30.3, 13.6 / 29.4; 59.3 / 78.2, 63.4 / 68.1.
  q2_k: entry("q2_k", 10, 256, 84, {
    description: "2-bit codes, 4-bit scale and min per 16, f16 scales per 256 (llama.cpp Q2_K)",
    vecDot: "q8_k",
    directDot: small,
    intDot: true,
    defaultMode: "ggml",
  }),
  q3_k: entry("q3_k", 11, 256, 110, {
    description: "3-bit codes, 6-bit scale per 16, f16 scale per 256 (llama.cpp Q3_K)",
    vecDot: "q8_k",
    directDot: small,
    intDot: true,
    defaultMode: "ggml",
  }),
  iq4_xs: entry("iq4_xs", 23, 256, 136, {
    description: "4-bit indices into 16 non-linear levels, 6-bit scale per 32, f16 scale per 256 (llama.cpp IQ4_XS)",
    vecDot: "q8_k",
    directDot: small,
    intDot: true,
    defaultMode: "ggml",
  }),
  // PrismML's Ternary Bonsai 2 (docs/BONSAI2.md): the fork's CPU dot pairs four Q8_0 blocks with each 128-block.
  // Direct dot for one vector only: measured (32000 x 4096, alternating runs) as fast as decoding a tile for one
  // vector, half as fast for three.
  pq2_0: entry("pq2_0", 142, 128, 34, {
    description: "2-bit codes {-1, 0, 1, 2} x f16 scale per 128 (PrismML Ternary Bonsai 2)",
    vecDot: "q8_0",
    directDot: single,
    fast: { planes: 2, mult: 0.5, k: 0.5, kernel: "planes", scaleOffset: 0 },
  }),
  ptq1_0: entry("ptq1_0", 143, 128, 28, {
    description: "ternary, base-3 packed (1.75 bits) x f16 scale per 128 (PrismML Ternary Bonsai 2)",
    vecDot: "q8_0",
    directDot: single,
    fast: { planes: 2, mult: 0.5, k: 0.5, kernel: "planes", scaleOffset: 26 },
  }),
  // q5_0, q5_1, iq4_nl, mxfp4: direct dot for one vector only (16000 x 4096, CPU time, side by side: one vector
  // 18.0 / 20.6 / 15.6 / 13.9 ms against 20.6 / 22.4 / 16.9 / 17.2 decoding a tile; three vectors 56 / 61 / 46 /
  // 41 against 31 / 33 / 27 / 26)
  // Default mode (bench/defaults.mjs, 32000 x 4096, CPU time, interleaved, 15 rounds, Node 20, load 7-11; exact /
  // ggml, baseline and relaxed build): q5_0 1 vector 1.57 / 1.75, 8 vectors 1.07 / 1.44; q5_1 2.21 / 2.52, 1.07 /
  // 1.20: "ggml", faster in every case. q4_1 2.14 / 3.56 but 8 vectors 0.94 in the baseline build; iq4_nl 2.61 /
  // 2.78 but 8 vectors 0.95 in the relaxed build: "exact" (mode "ggml" on request). Node 24 (9 rounds): 1 vector
  // 1.4-2.3x; 8 vectors in the relaxed build (its default) q5_0 1.12, q5_1 1.07, in the baseline build 0.95 / 0.84.
  q5_0: entry("q5_0", 6, 32, 22, { description: "5-bit codes, f16 scale per 32", vecDot: "q8_0", directDot: single, intDot: true, defaultMode: "ggml" }),
  q5_1: entry("q5_1", 7, 32, 24, {
    description: "5-bit codes, f16 scale and minimum per 32",
    vecDot: "q8_1",
    directDot: single,
    intDot: true,
    defaultMode: "ggml",
  }),
  iq4_nl: entry("iq4_nl", 20, 32, 18, {
    description: "4-bit indices into 16 non-linear int8 levels, f16 scale per 32",
    vecDot: "q8_0",
    directDot: single,
    intDot: true,
  }),
  mxfp4: entry("mxfp4", 39, 32, 17, {
    description: "FP4 (E2M1) codes, E8M0 power-of-two scale per 32 (OCP MX)",
    vecDot: "q8_0",
    directDot: single,
  }),
});

export type Format = keyof typeof FORMATS;
// tsc stops here, naming it, when a format's decode or encode kernel is not exported by the wasm module (the
// dot and fast-mode kernels are imported by the generated assembly registry, so asc stops on those).
type MissingKernel = Exclude<`decode_${Format}` | `encode_${Format}`, KernelName>;
const kernelsExported: [MissingKernel] extends [never] ? true : MissingKernel = true;
void kernelsExported;
export const FORMAT_NAMES = Object.freeze(Object.keys(FORMATS) as Format[]);
const ALL: readonly FormatInfo[] = FORMAT_NAMES.map((n) => FORMATS[n]);

export function formatInfo(format: unknown): FormatInfo {
  if (typeof format === "string" && Object.prototype.hasOwnProperty.call(FORMATS, format)) {
    return FORMATS[format as Format];
  }
  throw errors.unknownFormat(format, FORMAT_NAMES);
}

export function formatById(id: number): FormatInfo | undefined {
  return ALL.find((f) => f.id === id);
}

/** The formats that have fast-mode (lookup-table) kernels. */
export const FAST_FORMAT_NAMES = Object.freeze(FORMAT_NAMES.filter((n) => (FORMATS[n] as FormatInfo).fast !== undefined));

/** The format a safetensors dtype holds, if bitembed has one. */
export function formatBySafetensorsDtype(dtype: string): FormatInfo | undefined {
  return ALL.find((f) => f.safetensors === dtype);
}

/**
 * The format of a ggml/GGUF type id, for file readers. Throws a RangeError that says what the file holds
 * when bitembed cannot read it: PrismML's old fork id 40 (group-32 1-bit, which upstream ggml assigns to
 * NVFP4) asks for a re-conversion to upstream Q1_0 (41); other ids are named.
 */
export function formatFromGgmlId(id: number, tensorName?: string): FormatInfo {
  const info = formatById(id);
  if (info !== undefined) return info;
  if (id === 40) throw errors.ggmlPrismQ1(tensorName);
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

// Every message the library throws, in one voice: the parameter in backticks, what was received, what
// was expected. RangeError for ids, lengths and limits; TypeError for the wrong kind of value.

// C0 and C1 controls, DEL, and invisible format characters (bidi overrides and isolates, zero-width, BOM):
// what a terminal acts on or hides. JSON.stringify escapes only C0.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/** `s` with every control or invisible format character written as \uXXXX (\n, \t... as such), nothing else changed. */
export function escapeControls(s: string): string {
  return s.replace(CONTROLS, (c) => {
    const short = ({ "\n": "\\n", "\r": "\\r", "\t": "\\t" } as Record<string, string>)[c];
    return short ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/**
 * A string from a file or the caller as messages quote it: in double quotes, controls escaped, cut to `max`
 * characters (a 20 MiB key must not make a 20 MiB message).
 */
export function quote(s: string, max = 60): string {
  if (s.length <= max) return JSON.stringify(s).replace(CONTROLS, (c) => escapeControls(c));
  const cut = JSON.stringify(s.slice(0, max)).replace(CONTROLS, (c) => escapeControls(c));
  return `${cut.slice(0, -1)}..." (${s.length} characters)`;
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") return quote(value, 40);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as { length?: number }).length ?? value.byteLength})`;
  if (Array.isArray(value)) return `Array(${value.length})`;
  return Object.prototype.toString.call(value).slice(8, -1);
}

function tensorLabel(tensor: string | undefined): string {
  return tensor === undefined ? "The tensor" : `Tensor ${describe(tensor)}`;
}

export const errors = {
  unknownFormat: (got: unknown, valid: readonly string[]) =>
    new TypeError(`Unknown \`format\` ${describe(got)}. Expected one of: ${valid.join(", ")}.`),
  notPositiveInt: (name: string, got: unknown) =>
    new RangeError(`\`${name}\` must be a positive integer, got ${describe(got)}.`),
  dataKind: (name: string, got: unknown) =>
    new TypeError(`\`${name}\` must be an ArrayBuffer or a typed array, got ${describe(got)}.`),
  dataLength: (name: string, got: number, expected: number, detail: string) =>
    new RangeError(`\`${name}\` has ${got} bytes, expected ${expected} (${detail}).`),
  idsKind: (got: unknown) =>
    new TypeError(`\`ids\` must be an Int32Array, a Uint32Array or an array of numbers, got ${describe(got)}.`),
  idOutOfRange: (id: unknown, position: number, vocab: number, name = "ids") =>
    new RangeError(`\`${name}[${position}]\` is ${describe(id)}: not an integer in [0, ${vocab - 1}] (vocab ${vocab}).`),
  outLength: (name: string, got: number, expected: number, detail: string) =>
    new RangeError(`\`${name}\` has length ${got}, expected ${expected} (${detail}).`),
  outKind: (name: string, got: unknown) =>
    new TypeError(`\`${name}\` must be a Float32Array, got ${describe(got)}.`),
  outOfMemory: (asked: number, inUse: number, limit: number) =>
    new RangeError(
      `Out of wasm memory: asked for ${asked} bytes with ${inUse} in use; the limit \`maxMemory\` is ${limit} bytes.`,
    ),
  strayView: (name: string, offset: number, bytes: number) =>
    new RangeError(
      `\`${name}\` views bytes ${offset}-${offset + bytes} of this runtime's linear memory, outside any live F32Buffer ` +
        "(a disposed buffer, or a table's own bytes): pass an F32Buffer's fresh view, or a JS array.",
    ),
  otherRuntime: (name: string, what: string) =>
    new RangeError(`\`${name}\` is ${what} of another runtime; it can only be used with the runtime that made it.`),
  notOurs: (name: string, what: string, got: unknown) =>
    new TypeError(`\`${name}\` must be ${what} made by bitembed, got ${describe(got)} (a Proxy or a look-alike object is refused).`),
  disposed: (what: string) => new Error(`This ${what} was disposed; it can no longer be used.`),
  disposedDuring: (what: string, call: string, cause: unknown) =>
    new Error(`This ${what} was disposed while ${call} was running: the call was abandoned (await it before dispose()).`, { cause }),
  runtimeDisposed: () =>
    new Error("The runtime this belongs to was disposed (`rt.dispose()`): its tables, buffers and ropes can no longer be used."),
  badPointer: (ptr: number) => new RangeError(`\`free\` was given ${ptr}, which is not a live allocation.`),
  noSimd: () =>
    new Error(
      "bitembed needs WebAssembly SIMD (fixed-width 128-bit), which this runtime does not support. " +
        "Node >= 16.4, Deno, Bun, Chrome >= 91, Firefox >= 89, Safari >= 16.4 and Cloudflare Workers have it.",
    ),
  // loading the wasm (src/core/load-wasm.ts): each names the source, what came back, and the fix
  wasmHttp: (url: string, status: number, statusText: string, contentType: string | null, fix: string) =>
    new Error(
      `Fetching the wasm from ${url} failed: HTTP ${status}${statusText ? ` ${statusText}` : ""}` +
        `${contentType ? ` (content-type ${contentType})` : ""}. ${fix}`,
    ),
  wasmFetch: (url: string, cause: unknown, fix: string) =>
    new Error(`Fetching the wasm from ${url} failed: ${(cause as Error)?.message ?? String(cause)}. ${fix}`),
  wasmRead: (path: string, cause: unknown, fix: string) =>
    new Error(`Reading the wasm from ${path} failed: ${(cause as Error)?.message ?? String(cause)}. ${fix}`),
  notWasm: (from: string, what: string, contentType: string | null | undefined, fix: string) =>
    new Error(
      `The wasm from ${from} is not WebAssembly: it ${what}${contentType ? ` (content-type ${contentType})` : ""}. ${fix}`,
    ),
  wasmCompile: (from: string, cause: unknown, fix: string) =>
    new Error(`Compiling the wasm from ${from} failed: ${(cause as Error)?.message ?? String(cause)}. ${fix}`),
  badImportMetaUrl: (url: unknown, cause: unknown) =>
    new Error(
      `bitembed cannot locate its wasm: import.meta.url is ${describe(url)} (${(cause as Error)?.message ?? String(cause)}). ` +
        "Bundle with the right condition for the platform (\"workerd\" for Cloudflare Workers, see README), " +
        "or pass the wasm yourself: `init(wasmModule)`, `init(bytes)` or `init(url)`.",
    ),
  unknownOptionKey: (fn: string, key: string, valid: readonly string[]) =>
    new TypeError(`Unknown option \`${key}\` passed to \`${fn}\`. Expected one of: ${valid.join(", ")}.`),
  noFileSystem: (path: string) =>
    new Error(
      `Cannot read the file ${JSON.stringify(path)}: this runtime or entry has no file system. ` +
        "Pass bytes, a Blob/File or an http(s) URL (in a browser: `new URL(path, location.href)`), " +
        "or import `bitembed` in Node, Deno (--allow-read) or Bun.",
    ),
  isDirectory: (path: string, expected: string) =>
    new Error(`${JSON.stringify(path)} is a directory; expected ${expected}.`),
  notModelFile: (name: string, expected: string, what: string, hint: string) =>
    new TypeError(`${name} is not a ${expected} file: it ${what}.${hint ? ` ${hint}` : ""}`),
  badSource: (got: unknown) =>
    new TypeError(
      `\`init(source)\` takes a WebAssembly.Module, bytes, a URL or string, a Response, or a promise of one; got ${describe(got)}.`,
    ),
  ggmlPrismQ1: (tensor?: string) =>
    new RangeError(
      `${tensorLabel(tensor)} has ggml type 40: a group-32 1-bit table from PrismML's old llama.cpp fork ` +
        "(upstream ggml uses id 40 for NVFP4, a different format). bitembed reads neither. " +
        "Re-convert the model with upstream llama.cpp to Q1_0 (type 41, group 128).",
    ),
  ggmlUnsupportedType: (id: unknown, tensor: string | undefined, supported: readonly string[]) =>
    new RangeError(
      `${tensorLabel(tensor)} has ggml type ${describe(id)}, which bitembed does not read. Expected one of: ${supported.join(", ")}.`,
    ),
  noRuntime: (fn = "quantize") =>
    new Error(
      `\`${fn}\` needs an initialised runtime: call \`await init()\` first, or pass \`{ runtime }\` (or use \`rt.${fn}\`).`,
    ),
  // the Hadamard rotation and the `prism.hadamard.*` metadata of Ternary Bonsai 2 files
  signsValue: (name: string, index: number, got: unknown) =>
    new RangeError(`\`${name}[${index}]\` is ${describe(got)}; expected +1 or -1.`),
  rotationKey: (key: string, got: unknown, type: string | undefined, expected: string) =>
    new RangeError(
      `Rotation metadata \`${key}\` ${got === undefined && type === undefined ? "is missing" : `is ${describe(got)}${type ? ` (${type})` : ""}`}; expected ${expected}.`,
    ),
  rotationUnknownKey: (key: string, known: readonly string[]) =>
    new RangeError(`Unknown rotation metadata key \`${key}\`. Known: ${known.join(", ")}.`),
  // RoPE, positions and embedding sums
  configKind: (name: string, got: unknown) => new TypeError(`\`${name}\` must be an object, got ${describe(got)}.`),
  tableKind: (name: string, got: unknown) =>
    new TypeError(`\`${name}\` must be an EmbeddingTable, got ${describe(got)}.`),
  unknownChoice: (name: string, got: unknown, valid: readonly string[]) =>
    new TypeError(`Unknown \`${name}\` ${describe(got)}. Expected one of: ${valid.join(", ")}.`),
  positionsKind: (name: string, got: unknown) =>
    new TypeError(`\`${name}\` must be an Int32Array, a Uint32Array or an array of numbers, got ${describe(got)}.`),
  badPosition: (name: string, got: unknown, index: number, limit: number) =>
    new RangeError(`\`${name}[${index}]\` is ${describe(got)}: not an integer in [0, ${limit - 1}].`),
  missingKey: (key: string, what: string) =>
    new TypeError(`The metadata has no \`${key}\`; it is needed for ${what}.`),
  unknownArchitecture: (arch: unknown, known: readonly string[]) =>
    new TypeError(
      `No RoPE pairing known for \`general.architecture\` ${describe(arch)}. Known: ${known.join(", ")}; ` +
        "pass `{ pairing }` in the options to choose one.",
    ),
  option: (name: string, got: unknown, expected: string) =>
    new RangeError(`\`${name}\` is ${describe(got)}; expected ${expected}.`),
  // files and byte sources (src/io/)
  sourceKind: (got: unknown) =>
    new TypeError(
      `\`source\` must be bytes (ArrayBuffer or typed array), a Blob or File, a file path, an http(s) URL or a ByteSource; got ${describe(got)}.`,
    ),
  badRange: (name: string, offset: number, length: number, size: number) =>
    new RangeError(`Reading ${length} bytes at offset ${offset} of ${name}: past the end (the source holds ${size} bytes).`),
  shortRead: (name: string, offset: number, length: number, got: number) =>
    new RangeError(`Reading ${length} bytes at offset ${offset} of ${name}: got ${got} bytes.`),
  sourceRead: (name: string, offset: number, length: number, got: unknown) =>
    new TypeError(`Reading ${length} bytes at offset ${offset} of ${name}: the source gave ${describe(got)}, expected a Uint8Array.`),
  fileOpen: (name: string, cause: unknown) =>
    new Error(`Cannot open ${JSON.stringify(name)}: ${(cause as Error)?.message ?? String(cause)}`),
  httpRange: (name: string, status: number, start: number, end: number, detail?: string) =>
    new Error(
      `HTTP Range request bytes=${start}-${end} to ${name} failed: ${detail ?? `status ${status}, expected 206 Partial Content (the server must support Range requests)`}.`,
    ),
  noRangeWarning: (name: string, size: number) =>
    `bitembed: ${name} ignores HTTP Range requests (it answered 200 with the whole file): reading all ` +
    `${size} bytes into memory. A server with Range support lets bitembed read only the tensors it needs.`,
  badFile: (kind: string, name: string, offset: number, detail: string) =>
    new RangeError(`Malformed ${kind} file ${name} at byte ${offset}: ${detail}.`),
  unsupportedFile: (kind: string, name: string, detail: string) => new Error(`Unsupported ${kind} file ${name}: ${detail}.`),
  noTensor: (name: string, valid: readonly string[]) =>
    new RangeError(
      `No tensor named ${JSON.stringify(name)}. The file holds: ${valid.slice(0, 12).join(", ")}${valid.length > 12 ? `, ... (${valid.length} in all)` : ""}.`,
    ),
  tensorFormat: (name: string, type: string, valid: readonly string[]) =>
    new Error(`Tensor ${JSON.stringify(name)} is stored as ${type}, which bitembed cannot hold. Supported: ${valid.join(", ")}.`),
  tensorShape: (name: string, dims: readonly number[], expected: string) =>
    new RangeError(`Tensor ${JSON.stringify(name)} has dims [${dims.join(", ")}]; expected ${expected}.`),
  metadataValue: (key: string, got: unknown, expected: string) =>
    new TypeError(`Metadata \`${key}\` is ${describe(got)}; expected ${expected}.`),
  hiddenLength: (name: string, got: number, dim: number) =>
    new RangeError(`\`${name}\` has length ${got}, expected a positive multiple of dim ${dim} (N hidden vectors x dim).`),
  hiddenNaN: (name: string, index: number, dim: number) =>
    new RangeError(
      `\`${name}[${index}]\` is NaN (vector ${Math.floor(index / dim)}, element ${index % dim}); hidden states must be numbers.`,
    ),
  unknownMode: (got: unknown, valid: readonly string[]) =>
    new TypeError(`Unknown \`mode\` ${describe(got)}. Expected one of: ${valid.join(", ")}.`),
  unknownMetric: (got: unknown, valid: readonly string[]) =>
    new TypeError(`Unknown \`metric\` ${describe(got)}. Expected one of: ${valid.join(", ")}.`),
  // bag pooling (table.pool) and static models
  offsetsKind: (got: unknown) =>
    new TypeError(`\`offsets\` must be an Int32Array, a Uint32Array or an array of numbers, got ${describe(got)}.`),
  badOffset: (index: number, got: unknown, detail: string) =>
    new RangeError(`\`offsets[${index}]\` is ${describe(got)}: ${detail}.`),
  noBags: (ids: number) =>
    new RangeError(`\`offsets\` is empty but \`ids\` holds ${ids} ids; give each bag's start (offsets[0] = 0).`),
  idInBag: (id: unknown, position: number, bag: number, vocab: number) =>
    new RangeError(`\`ids[${position}]\` (bag ${bag}) is ${describe(id)}: not an integer in [0, ${vocab - 1}] (vocab ${vocab}).`),
  weightsKind: (got: unknown) =>
    new TypeError(`\`weights\` must be a Float32Array, a Float64Array or an array of numbers, got ${describe(got)}.`),
  weightsMode: (mode: string) =>
    new TypeError(`\`weights\` work with \`mode\` "sum" or "mean", not ${describe(mode)} (as in PyTorch's EmbeddingBag, max takes none).`),
  badWeight: (index: number, got: unknown, bag: number) =>
    new TypeError(`\`weights[${index}]\` (bag ${bag}) is ${describe(got)}; expected a number.`),
  noTokenizer: (why: string) =>
    new Error(
      `Encoding text needs a tokenizer: ${why}. Install the optional peer \`@huggingface/tokenizers\` (npm install @huggingface/tokenizers), ` +
        "pass `{ tokenizer }` to loadStaticModel, or encode token ids instead.",
    ),
  textsKind: (got: unknown) =>
    new TypeError(`\`encode\` takes an array of strings or an array of id arrays, got ${describe(got)}.`),
  mappingId: (id: number, position: number, text: number, size: number) =>
    new RangeError(`Token id ${id} (text ${text}, token ${position}) is past the vocabulary mapping (${size} entries).`),
  // sharded heads (src/shards/): a shard is named by its index and its row range [start, end)
  shardFailed: (index: number, start: number, end: number, cause: unknown) =>
    new Error(`Shard ${index} (rows [${start}, ${end})) failed: ${(cause as Error)?.message ?? String(cause)}`, { cause }),
  shardTimeout: (index: number, start: number, end: number, ms: number) =>
    new Error(`Shard ${index} (rows [${start}, ${end})) did not answer within \`timeoutMs\` ${ms} ms.`),
  shardReply: (index: number, start: number, end: number, detail: string) =>
    new Error(`Shard ${index} (rows [${start}, ${end})) answered badly: ${detail}.`),
  shardRanges: (detail: string) =>
    new RangeError(`\`shards\` must cover rows [0, vocab) in contiguous, non-empty ranges [start, end) of one dim: ${detail}.`),
  shardsFailed: (failed: readonly string[], total: number) =>
    new Error(`${failed.length} of ${total} shards failed (pass \`allowPartial: true\` to merge the others): ${failed.join("; ")}`),
  shardBudget: (budget: number, reserve: number, perRow: number, format: string, dim: number) =>
    new RangeError(
      `\`budgetBytes\` ${budget} cannot hold 16 ${format} rows of dim ${dim} (${perRow} bytes a row) after the ` +
        `runtime's own ${reserve} bytes (\`reserveBytes\`).`,
    ),
  headLoad: (name: string, start: number, end: number, cause: unknown) =>
    new Error(`Loading rows [${start}, ${end}) from ${name} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause }),
  noHeadSource: () =>
    new Error("A HeadShard finds its head file through the Worker's env: set `HEAD_URL` (and optionally the service binding `HEAD_FETCHER`) or `HEAD_BUCKET` + `HEAD_KEY`."),
  shardNotOpen: () => new Error("This HeadShard holds no rows yet: call `open({ start, end })` first."),
};

// quantize / dequantize whole tables without keeping them: f32 rows <-> a format's bytes, byte-identical to
// ggml's reference quantizers and dequantizers, computed by the wasm kernels slice by slice.
// Keys: V vocab, D dim.
import { decodeRows, encodeRows } from "./codec.js";
import { errors } from "../core/errors.js";
import { formatInfo, rowBytes, type Format, type FormatInfo } from "./registry.js";
import type { Runtime } from "../core/runtime.js";
import { checkDims } from "../tables/table.js";
import { bytesIn, f32In } from "../core/arrays.js";

export interface QuantizeOptions {
  vocab: number;
  dim: number;
  format: Format;
  /** The runtime whose kernels do the work; default: the most recently created one. */
  runtime?: Runtime;
}

export type DequantizeOptions = QuantizeOptions;

let lastRuntime: Runtime | undefined;

/** Called by the Runtime constructor: `quantize` without `{ runtime }` uses the newest runtime. */
export function rememberRuntime(rt: Runtime): void {
  lastRuntime = rt;
}

/** The runtime functions without `{ runtime }` use: the newest one not disposed. */
export function defaultRuntime(fn: string): Runtime {
  if (lastRuntime === undefined) throw errors.noRuntime(fn);
  return lastRuntime;
}

/** Forget `rt` as the default (when it is disposed). */
export function forgetRuntime(rt: Runtime): void {
  if (lastRuntime === rt) lastRuntime = undefined;
}

/**
 * V rows of D f32 values -> the bytes of `format` (V * rowBytes; rows whose D is not a multiple of the block
 * are zero-padded to whole blocks), as ggml's quantize_row_*_ref writes them.
 */
export function quantize(values: Float32Array, options: QuantizeOptions): Uint8Array {
  const { rt, info, vocab, dim } = resolve(options);
  values = f32In(values, "values", rt.memory);
  if (values.length !== vocab * dim) {
    throw errors.outLength("values", values.length, vocab * dim, `vocab ${vocab} x dim ${dim}`);
  }
  const out = new Uint8Array(vocab * rowBytes(info, dim));
  encodeRows(rt, info, values, vocab, dim, out);
  return out;
}

/** The bytes of `format` (V * rowBytes) -> V rows of D f32 values, as ggml's dequantize_row_* computes them. */
export function dequantize(data: ArrayBuffer | ArrayBufferView, options: DequantizeOptions): Float32Array {
  const { rt, info, vocab, dim, format } = resolve(options);
  const bytes = bytesIn(data, "data", rt.memory);
  const expected = rowBytes(info, dim) * vocab;
  if (bytes.byteLength !== expected) {
    throw errors.dataLength("data", bytes.byteLength, expected, `${vocab} rows x ${rowBytes(info, dim)} bytes per ${format} row of dim ${dim}`);
  }
  const out = new Float32Array(vocab * dim);
  decodeRows(rt, info, vocab, dim, bytes, (first, rows, values) => out.set(values, first * dim));
  return out;
}

function resolve(options: QuantizeOptions): { rt: Runtime; info: FormatInfo; vocab: number; dim: number; format: Format } {
  const { vocab, dim, format, runtime } = options ?? ({} as QuantizeOptions);
  const info = formatInfo(format);
  checkDims(vocab, dim);
  const rt = runtime ?? lastRuntime;
  if (rt === undefined) throw errors.noRuntime();
  return { rt, info, vocab, dim, format };
}

// Rows [start, end) of a head read from a GGUF file: only their byte range of the head tensor
// (`output.weight`, else the tied `token_embd.weight`) is read, in chunks. Formats with fast mode are tiled
// into a FastHead as the chunks arrive (FastHead.fromStream: wasm holds the tiled copy alone); the others are
// copied into an EmbeddingTable (their default mode: "ggml" where the registry makes it the default, else exact). lookup reads the asked rows again from the source (the tiled copy
// cannot give rows back), decodes them through a small table and frees it. This is what a HeadShard Durable
// Object holds; it runs in any runtime (openShardRows over a file path, bytes or a URL in Node too).
// Keys: R = end - start rows, D dim.
import { errors } from "../core/errors.js";
import type { Runtime } from "../core/runtime.js";
import { formatInfo, type Format } from "../formats/registry.js";
import { readGGUF, UNPADDED_DIM_KEY } from "../io/gguf.js";
import { loadTableFromSource } from "../io/load.js";
import { openSource, type ByteSource, type SourceInput } from "../io/source.js";
import { FastHead, supportsFast } from "../project/fast.js";
import { checkPost, copyHidden } from "../project/project.js";
import { f32In } from "../core/arrays.js";
import { EmbeddingTable } from "../tables/table.js";
import { shardSample, shardTopk } from "./local.js";
import type { HeadShardLike, SampleOptions, ShardTopKOptions } from "./sharded.js";

export interface ShardRowsOptions {
  start: number;
  end: number;
  /** The head tensor (default: "output.weight" if the file has it, else "token_embd.weight"). */
  tensor?: string;
  /** Bytes read per request from the source (default 4 MiB). */
  chunkBytes?: number;
}

export interface ShardRows extends HeadShardLike {
  readonly vocab: number;
  readonly format: string;
  /** "fast" where the format has lookup-table kernels, else the format's default mode ("ggml" or "exact"). */
  readonly mode: "fast" | "exact" | "ggml";
  /** Bytes of linear memory holding the rows (the tiled copy, or the packed table). */
  readonly heldBytes: number;
  dispose(): void;
  /** The same as dispose(), for `using`. */
  [Symbol.dispose](): void;
}

/** Open rows [start, end) of a GGUF head at `input` in `rt`. Errors name the source and the row range. */
export async function openShardRows(rt: Runtime, input: SourceInput, options: ShardRowsOptions): Promise<ShardRows> {
  const { start, end } = options;
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end > start)) {
    throw errors.option("start, end", `${start}, ${end}`, "integers with 0 <= start < end");
  }
  let name = typeof input === "string" ? input : input instanceof URL ? input.href : "the source";
  try {
    const source = await openSource(input);
    name = source.name;
    const file = await readGGUF(source);
    const tensorName = options.tensor ?? (file.tensors.some((t) => t.name === "output.weight") ? "output.weight" : "token_embd.weight");
    const t = file.tensor(tensorName);
    if (t.format === undefined) throw errors.tensorFormat(tensorName, t.typeName, []);
    const format = t.format as Format;
    // a table whose dim is not a multiple of its block is stored padded; writeGGUF notes the real dim
    let dim = t.dims[0];
    const unpadded = file.metadata[UNPADDED_DIM_KEY + tensorName];
    if (typeof unpadded === "number" && unpadded > 0 && unpadded <= dim && dim - unpadded < formatInfo(t.format).blockElems) dim = unpadded;
    const vocab = t.dims.slice(1).reduce((a, b) => a * b, 1);
    if (end > vocab) throw errors.option("end", end, `at most the head's vocab ${vocab} (tensor ${JSON.stringify(tensorName)})`);
    const f = formatInfo(format);
    const rowBytes = Math.ceil(dim / f.blockElems) * f.blockBytes;
    const offset = t.offset + start * rowBytes;
    const rows = end - start;
    const chunk = options.chunkBytes ?? 4 << 20;
    if (supportsFast(format)) {
      const head = await FastHead.fromStream(rt, { vocab: rows, dim, format }, pieces(source, offset, rows * rowBytes, chunk));
      return fastRows(rt, head, source, { start, end, dim, format, rowBytes, offset });
    }
    const table = await loadTableFromSource(rt, source, offset, { vocab: rows, dim, format }, `rows [${start}, ${end}) of ${tensorName}`);
    return exactRows(table, start);
  } catch (e) {
    throw errors.headLoad(name, start, end, e);
  }
}

async function* pieces(source: ByteSource, offset: number, length: number, chunk: number): AsyncGenerator<Uint8Array> {
  for (let done = 0; done < length; done += chunk) yield await source.read(offset + done, Math.min(chunk, length - done));
}

function exactRows(table: EmbeddingTable, start: number): ShardRows {
  const end = start + table.vocab;
  // the format's default mode ("ggml" where the registry says so), so shards give what one table gives
  const mode = table.info.defaultMode === "ggml" ? "ggml" : "exact";
  const logits = (hidden: Float32Array, o: ShardTopKOptions) =>
    table.project(hidden, { mode, scale: o.scale, softcap: o.softcap });
  return {
    start,
    end,
    dim: table.dim,
    vocab: table.vocab,
    format: table.format,
    mode,
    heldBytes: table.byteLength,
    async topk(hidden, k, opts = {}) {
      return shardTopk(logits(hidden, opts), start, k, opts.temperature);
    },
    async sample(hidden, opts) {
      return shardSample(logits(hidden, opts), start, opts);
    },
    async lookup(ids) {
      return table.lookup(localIds(ids, start, end));
    },
    dispose: () => table.dispose(),
    [Symbol.dispose]: () => table.dispose(),
  };
}

function fastRows(
  rt: Runtime,
  head: FastHead,
  source: ByteSource,
  at: { start: number; end: number; dim: number; format: Format; rowBytes: number; offset: number },
): ShardRows {
  const { start, end, dim, format, rowBytes, offset } = at;
  const logits = (hidden: Float32Array, o: ShardTopKOptions): Float32Array => {
    hidden = f32In(hidden, "hidden", rt.memory);
    if (hidden.length !== dim) throw errors.outLength("hidden", hidden.length, dim, `one hidden vector of dim ${dim}`);
    const post = checkPost(o.scale, o.softcap);
    const out = new Float32Array(head.vocab);
    const scratch = rt.memory.scratch();
    try {
      head.projectAt(copyHidden({ runtime: rt, dim }, hidden, scratch), 1, out, post);
    } finally {
      scratch.free();
    }
    return out;
  };
  return {
    start,
    end,
    dim,
    vocab: head.vocab,
    format,
    mode: "fast",
    heldBytes: head.byteLength,
    async topk(hidden, k, opts = {}) {
      return shardTopk(logits(hidden, opts), start, k, opts.temperature);
    },
    async sample(hidden, opts: SampleOptions) {
      return shardSample(logits(hidden, opts), start, opts);
    },
    async lookup(ids) {
      const local = localIds(ids, start, end);
      // each asked row read again from the source, decoded through a table of just those rows
      const unique = [...new Set(local)];
      const data = new Uint8Array(unique.length * rowBytes);
      await Promise.all(unique.map(async (r, i) => data.set(await source.read(offset + r * rowBytes, rowBytes), i * rowBytes)));
      const table = EmbeddingTable.fromBytes(rt, { vocab: unique.length, dim, format, data });
      try {
        const where = new Map(unique.map((r, i) => [r, i]));
        return table.lookup(Int32Array.from(local, (r) => where.get(r)!));
      } finally {
        table.dispose();
      }
    },
    dispose: () => head.dispose(),
    [Symbol.dispose]: () => head.dispose(),
  };
}

function localIds(ids: ArrayLike<number>, start: number, end: number): Int32Array {
  const local = new Int32Array(ids.length);
  for (let p = 0; p < ids.length; p++) {
    const id = ids[p];
    if (!(Number.isInteger(id) && id >= start && id < end)) throw errors.option(`ids[${p}]`, id, `a row of this shard, in [${start}, ${end})`);
    local[p] = id - start;
  }
  return local;
}

/** The part of an R2 bucket binding (or any look-alike) a shard reads with. */
export interface BucketLike {
  head(key: string): Promise<{ size: number } | null>;
  get(key: string, options: { range: { offset: number; length: number } }): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

/** A ByteSource over one object of an R2-like bucket, read by ranges. */
export async function bucketSource(bucket: BucketLike, key: string): Promise<ByteSource> {
  const name = `bucket object ${JSON.stringify(key)}`;
  const meta = await bucket.head(key);
  if (!meta) throw errors.fileOpen(name, new Error("no such object"));
  const source: ByteSource = {
    size: meta.size,
    name,
    async read(offset, length) {
      if (!(offset >= 0 && length >= 0 && offset + length <= meta.size)) throw errors.badRange(name, offset, length, meta.size);
      if (length === 0) return new Uint8Array(0);
      const obj = await bucket.get(key, { range: { offset, length } });
      if (!obj) throw errors.fileOpen(name, new Error("no such object"));
      const bytes = new Uint8Array(await obj.arrayBuffer());
      if (bytes.byteLength !== length) throw errors.shortRead(name, offset, length, bytes.byteLength);
      return bytes;
    },
  };
  return source;
}

// `bitembed/head-shard` (Cloudflare Workers / workerd): the HeadShard Durable Object class, beside everything
// the worker entry exports. A subpath, not the worker entry itself, because a Durable Object that answers RPC
// must extend `DurableObject` from "cloudflare:workers", which only workerd provides.
// An object holds rows [start, end) of a GGUF head, loaded once (openShardRows: only its rows' byte range of
// `output.weight` / `token_embd.weight` is read) under `maxMemory`. Where the file is comes from the
// Worker's env: HEAD_URL (fetched through the service binding HEAD_FETCHER when there is one, else global
// fetch; the server must answer Range requests) or HEAD_BUCKET + HEAD_KEY (an R2 bucket binding).
// RPC: open({ start, end, maxMemory?, tensor? }) once (idempotent; later calls with other rows fail), then
// topk, sample and lookup as HeadShardLike; stats().
import { DurableObject } from "cloudflare:workers";
import { init } from "./worker.js";
import { errors } from "../core/errors.js";
import { urlSource, type ByteSource } from "../io/source.js";
import { bucketSource, openShardRows, type BucketLike, type ShardRows } from "../shards/rows.js";
import type { SampleOptions, ShardTopK, ShardTopKOptions } from "../shards/sharded.js";
export * from "./worker.js";

export interface HeadShardEnv {
  HEAD_URL?: string;
  HEAD_FETCHER?: { fetch: typeof fetch };
  HEAD_BUCKET?: BucketLike;
  HEAD_KEY?: string;
}

export interface HeadShardSpec {
  start: number;
  end: number;
  /** Wasm memory cap in bytes (default 128 MiB). */
  maxMemory?: number;
  tensor?: string;
}

export interface HeadShardInfo {
  start: number;
  end: number;
  dim: number;
  format: string;
  mode: "fast" | "exact" | "ggml";
  heldBytes: number;
  wasmBytes: number;
  loadMs: number;
}

export class HeadShard extends DurableObject<HeadShardEnv> {
  private opening?: Promise<{ rows: ShardRows; info: HeadShardInfo }>;
  private spec?: HeadShardSpec;

  /** Load rows [start, end) once; every later call returns what the first load gave. */
  async open(spec: HeadShardSpec): Promise<HeadShardInfo> {
    if (this.spec && (this.spec.start !== spec.start || this.spec.end !== spec.end)) {
      throw errors.option("open", `rows [${spec.start}, ${spec.end})`, `rows [${this.spec.start}, ${this.spec.end}), which this object holds`);
    }
    this.spec ??= spec;
    this.opening ??= this.load(spec).catch((e) => {
      this.opening = undefined;
      this.spec = undefined;
      throw e;
    });
    return (await this.opening).info;
  }

  async topk(hidden: Float32Array, k: number, opts?: ShardTopKOptions): Promise<ShardTopK> {
    return (await this.rows()).topk(hidden, k, opts);
  }

  async sample(hidden: Float32Array, opts: SampleOptions): Promise<{ id: number; key: number }> {
    return (await this.rows()).sample(hidden, opts);
  }

  async lookup(ids: Int32Array): Promise<Float32Array> {
    return (await this.rows()).lookup(ids);
  }

  private async rows(): Promise<ShardRows> {
    if (!this.opening) throw errors.shardNotOpen();
    return (await this.opening).rows;
  }

  private async load(spec: HeadShardSpec): Promise<{ rows: ShardRows; info: HeadShardInfo }> {
    const t = Date.now();
    const env = this.env;
    let source: ByteSource;
    if (env.HEAD_BUCKET && env.HEAD_KEY) source = await bucketSource(env.HEAD_BUCKET, env.HEAD_KEY);
    else if (env.HEAD_URL) {
      const fetcher = env.HEAD_FETCHER;
      source = await urlSource(env.HEAD_URL, fetcher ? { fetch: (u, i) => fetcher.fetch(u, i) } : {});
    } else throw errors.noHeadSource();
    const rt = await init(undefined, { maxMemory: spec.maxMemory ?? 128 * 2 ** 20 });
    const rows = await openShardRows(rt, source, { start: spec.start, end: spec.end, tensor: spec.tensor });
    const info: HeadShardInfo = {
      start: rows.start,
      end: rows.end,
      dim: rows.dim,
      format: rows.format,
      mode: rows.mode,
      heldBytes: rows.heldBytes,
      wasmBytes: rt.memory.byteLength,
      loadMs: Date.now() - t,
    };
    return { rows, info };
  }
}

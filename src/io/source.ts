// Byte sources: a file's bytes read by range, wherever they live. Bytes in memory, a Blob/File, a file path
// (Node, Deno and Bun all provide node:fs/promises), or a URL read with HTTP Range requests. Every read is
// bounded: it allocates at most the requested length (bytes already in memory are returned as views) and a
// range that runs past the end fails with an error naming the offset.
import { errors, quote } from "../core/errors.js";
import { plainBytes, typedArrayKind, typedArrayParts } from "../core/arrays.js";
import { fileSystem, filePath, hasFileSystem } from "../core/file-system.js";

export interface ByteSource {
  /** Total bytes. */
  readonly size: number;
  /** A short description for error messages (a path, a URL, "bytes"). */
  readonly name: string;
  /** `length` bytes from `offset`. May return a view into memory the source owns: copy before keeping. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Anything `openSource` accepts. A string is a URL when it starts with http(s)://, else a file path. */
export type SourceInput = ByteSource | ArrayBuffer | ArrayBufferView | Blob | URL | string;

export function isByteSource(x: unknown): x is ByteSource {
  return (
    typeof x === "object" && x !== null && typeof (x as ByteSource).read === "function" &&
    typeof (x as ByteSource).size === "number"
  );
}

/** Check a range against a source's size; throws a RangeError naming the offset. */
export function checkRange(source: { size: number; name: string }, offset: number, length: number): void {
  if (!(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0)) {
    throw errors.badRange(source.name, offset, length, source.size);
  }
  if (offset + length > source.size) throw errors.badRange(source.name, offset, length, source.size);
}

export async function openSource(input: SourceInput): Promise<ByteSource> {
  if (isByteSource(input)) return checkedSource(input);
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) return bytesSource(input);
  if (typeof Blob !== "undefined" && input instanceof Blob) return blobSource(input);
  if (input instanceof URL) {
    if (input.protocol === "file:") return fileSource(input);
    if (input.protocol === "http:" || input.protocol === "https:") return urlSource(input);
    throw errors.sourceKind(input.href);
  }
  if (typeof input === "string") {
    if (/^https?:\/\//i.test(input)) return urlSource(new URL(input));
    if (/^file:\/\//i.test(input)) return fileSource(new URL(input));
    // in a page (no file system), a relative path means what it means to fetch: relative to the page
    const base = (globalThis as { location?: { href?: string } }).location?.href;
    if (!hasFileSystem() && typeof base === "string" && /^https?:/i.test(base)) return urlSource(new URL(input, base));
    return fileSource(input);
  }
  throw errors.sourceKind(input);
}

/**
 * A caller's ByteSource with every read checked: its size taken once, and each read must give a real
 * Uint8Array of exactly the length asked (fewer bytes would leave zeros in a table; a Proxy could change
 * under a copy into linear memory).
 */
export function checkedSource(inner: ByteSource): ByteSource {
  const size = inner.size;
  const name = typeof inner.name === "string" ? inner.name : "ByteSource";
  if (!(Number.isSafeInteger(size) && size >= 0)) throw errors.option("source.size", size, "a non-negative integer number of bytes");
  const source: ByteSource = {
    size,
    name,
    async read(offset, length) {
      checkRange(source, offset, length);
      const bytes: unknown = await inner.read(offset, length);
      if (typedArrayKind(bytes) !== "Uint8Array") throw errors.sourceRead(name, offset, length, bytes);
      const { byteLength } = typedArrayParts(bytes as Uint8Array);
      if (byteLength !== length) throw errors.shortRead(name, offset, length, byteLength);
      return plainBytes(bytes, "bytes");
    },
  };
  return source;
}

export function bytesSource(data: ArrayBuffer | ArrayBufferView, name = "bytes"): ByteSource {
  const bytes =
    data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const source: ByteSource = {
    size: bytes.byteLength,
    name,
    async read(offset, length) {
      checkRange(source, offset, length);
      return bytes.subarray(offset, offset + length);
    },
  };
  return source;
}

export function blobSource(blob: Blob, name?: string): ByteSource {
  const source: ByteSource = {
    size: blob.size,
    name: name ?? ((blob as File).name ? `File ${JSON.stringify((blob as File).name)}` : "Blob"),
    async read(offset, length) {
      checkRange(source, offset, length);
      const buf = await blob.slice(offset, offset + length).arrayBuffer();
      if (buf.byteLength !== length) throw errors.shortRead(source.name, offset, length, buf.byteLength);
      return new Uint8Array(buf);
    },
  };
  return source;
}

// The file is opened for each read and closed after: no handle outlives a call, so nothing needs closing.
// Readers read headers in large slices and tensors in chunks, so the opens are few.
export async function fileSource(input: string | URL): Promise<ByteSource> {
  const { path, name } = filePath(input);
  const fs = await fileSystem();
  if (!fs) throw errors.noFileSystem(name);
  let stat: { size: number; isDirectory(): boolean };
  try {
    stat = await fs.stat(path);
  } catch (e) {
    throw errors.fileOpen(name, e);
  }
  if (stat.isDirectory()) throw errors.isDirectory(name, "a file (a .gguf, .safetensors or word-vector file)");
  const size = stat.size;
  const source: ByteSource = {
    size,
    name,
    async read(offset, length) {
      checkRange(source, offset, length);
      const out = new Uint8Array(length);
      if (length === 0) return out;
      const fh = await fs.open(path, "r");
      try {
        let done = 0;
        while (done < length) {
          const { bytesRead } = await fh.read(out, done, length - done, offset + done);
          if (bytesRead === 0) throw errors.shortRead(name, offset, length, done);
          done += bytesRead;
        }
      } finally {
        await fh.close();
      }
      return out;
    },
  };
  return source;
}

export interface UrlSourceOptions {
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  /** Aborts the request under way and fails every later read. */
  signal?: AbortSignal;
  /** Milliseconds one request may take, from sending it to the last byte of its body (default 30,000). */
  timeout?: number;
  /** Refuse a resource whose size the server gives (or sends, without Range) as larger than this (default 2^53 - 1 bytes). */
  maxSize?: number;
}

const DEFAULT_TIMEOUT = 30_000;

// HTTP Range requests. The size comes from the Content-Range of a first one-byte request. A server that
// ignores Range answers that request 200 with the whole file: its body is read (with a warning when large, and
// never past `maxSize`) and served from memory, since it is already on its way. Otherwise the first answer's
// ETag (or Last-Modified) pins the version: every later request carries it in If-Range, and an answer from
// another version (a 200, another ETag, another total size) fails instead of mixing the bytes of two files into
// one table. Each request is bounded in time; a body is kept only as it arrives, so a server that claims a huge
// size costs nothing until it actually sends the bytes. Errors name the URL and the range.
export async function urlSource(url: URL | string, options: UrlSourceOptions = {}): Promise<ByteSource> {
  const doFetch = options.fetch ?? fetch;
  const name = String(url);
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  if (!(typeof timeout === "number" && timeout > 0)) throw errors.option("timeout", timeout, "a positive number of milliseconds");
  const maxSize = options.maxSize ?? Number.MAX_SAFE_INTEGER;
  if (!(Number.isSafeInteger(maxSize) && maxSize >= 0)) throw errors.option("maxSize", maxSize, "a non-negative integer number of bytes");
  let size = -1; // set by the first answer, then checked against every later one
  let pinnedEtag: string | undefined; // the first answer's ETag: every later answer must carry the same
  let ifRange: string | undefined; // what later requests send in If-Range

  // One request, aborted by the caller's signal or after `timeout` ms; `finish` must be called once its body is read.
  const send = async (start: number, end: number) => {
    const fail = (detail: string) => errors.httpRange(name, 0, start, end, detail);
    if (options.signal?.aborted) throw fail(`aborted (${reason(options.signal)})`);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeout);
    const onAbort = () => controller.abort();
    options.signal?.addEventListener("abort", onAbort);
    const finish = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    // why a request stopped: the timer, the caller's signal, or the network
    const cause = (e: unknown) =>
      fail(timedOut ? `no complete answer within ${timeout} ms` : options.signal?.aborted ? `aborted (${reason(options.signal)})` : describeFailure(e));
    const headers: Record<string, string> = { ...options.headers, Range: `bytes=${start}-${end}` };
    if (ifRange !== undefined) headers["If-Range"] = ifRange;
    let res: Response;
    try {
      res = await doFetch(url, { headers, signal: controller.signal });
    } catch (e) {
      finish();
      throw cause(e);
    }
    const refuse = async (detail: string) => {
      finish();
      await res.body?.cancel().catch(() => {});
      return fail(detail);
    };
    return { res, finish, cause, refuse };
  };

  // A 206 answer for exactly [start, end] of the same file (its total size and ETag), else an error.
  const check = async (start: number, end: number, sent: Awaited<ReturnType<typeof send>>) => {
    const { res, finish, cause, refuse } = sent;
    if (res.status !== 206) {
      throw await refuse(
        ifRange !== undefined && res.status === 200
          ? `the file changed on the server since the first request (it answered 200 to If-Range ${quote(ifRange)}, not the range)`
          : `status ${res.status}, expected 206 Partial Content (the server must support Range requests)`,
      );
    }
    const contentRange = res.headers.get("content-range") ?? "";
    const m = /^bytes\s+(\d{1,16})-(\d{1,16})\/(\d{1,16}|\*)\s*$/.exec(contentRange);
    const total = m && m[3] !== "*" ? Number(m[3]) : NaN;
    if (!m || !Number.isSafeInteger(total)) {
      throw await refuse(`the server sent Content-Range ${quote(contentRange)}; expected bytes ${start}-${end}/<total size in bytes, below 2^53>`);
    }
    if (Number(m[1]) !== start || Number(m[2]) !== end) throw await refuse(`the server sent Content-Range ${quote(contentRange)} for another range`);
    if (size >= 0 && total !== size) throw await refuse(`the file changed on the server: its size was ${size} bytes, now ${total}`);
    const etag = res.headers.get("etag") ?? undefined;
    if (pinnedEtag !== undefined && etag !== pinnedEtag) {
      throw await refuse(`the file changed on the server: its ETag was ${quote(pinnedEtag)}, now ${etag === undefined ? "absent" : quote(etag)}`);
    }
    return { res, total, etag, finish, cause };
  };
  const get = async (start: number, end: number) => check(start, end, await send(start, end));

  // The first request: a range, or (a server without Range support) the whole file.
  const probe = await send(0, 0);
  if (probe.res.status === 200) {
    try {
      return await wholeBody(probe.res, name, maxSize, probe.cause);
    } finally {
      probe.finish();
    }
  }
  const first = await check(0, 0, probe);
  first.finish();
  await first.res.body?.cancel().catch(() => {});
  if (first.total > maxSize) throw errors.httpRange(name, 206, 0, 0, `the server gives the size as ${first.total} bytes; \`maxSize\` is ${maxSize}`);
  size = first.total;
  pinnedEtag = first.etag;
  // a weak ETag cannot be used in If-Range (RFC 9110 §13.1.5): Last-Modified then
  ifRange = first.etag !== undefined && !first.etag.startsWith("W/") ? first.etag : first.res.headers.get("last-modified") ?? undefined;

  const source: ByteSource = {
    size,
    name,
    async read(offset, length) {
      checkRange(source, offset, length);
      if (length === 0) return new Uint8Array(0);
      const { res, finish, cause } = await get(offset, offset + length - 1);
      try {
        return await readBody(res, length, cause, (got) => errors.shortRead(name, offset, length, got));
      } finally {
        finish();
      }
    },
  };
  return source;
}

// A body kept as it arrives, at most `limit` bytes (more is an error: `tooMuch(bytes so far)`); one buffer of
// exactly what came, once all of it is here.
async function readBody(res: Response, limit: number, cause: (e: unknown) => Error, tooMuch: (got: number) => Error, exact = true): Promise<Uint8Array> {
  const reader = res.body!.getReader();
  const chunks: Uint8Array[] = [];
  let done = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (e) {
      throw cause(e);
    }
    if (chunk.done) break;
    if (done + chunk.value.byteLength > limit) {
      await reader.cancel().catch(() => {});
      throw tooMuch(done + chunk.value.byteLength);
    }
    chunks.push(chunk.value);
    done += chunk.value.byteLength;
  }
  if (exact && done !== limit) throw tooMuch(done);
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(done);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function reason(signal: AbortSignal): string {
  const r = signal.reason as unknown;
  return r instanceof Error ? r.message : String(r ?? "AbortSignal");
}

// fetch's TypeError ("fetch failed") keeps the useful part in its cause (ECONNREFUSED, a TLS error...)
function describeFailure(e: unknown): string {
  const err = e as { message?: string; cause?: { message?: string; code?: string } };
  const cause = err?.cause?.code ?? err?.cause?.message;
  return `${err?.message ?? String(e)}${cause ? ` (${cause})` : ""}`;
}

/** A body this large from a server that ignored Range gets a warning: the whole file was downloaded. */
export const WHOLE_BODY_WARNING_BYTES = 64 << 20;

// The whole file, from a server that answered the first range request with 200: never more than `maxSize`.
async function wholeBody(res: Response, name: string, maxSize: number, cause: (e: unknown) => Error): Promise<ByteSource> {
  const announced = Number(res.headers.get("content-length"));
  if (announced > maxSize) {
    await res.body?.cancel().catch(() => {});
    throw errors.httpRange(name, 200, 0, 0, `the server sends the whole file, ${announced} bytes; \`maxSize\` is ${maxSize}`);
  }
  if (announced > WHOLE_BODY_WARNING_BYTES) console.warn(errors.noRangeWarning(name, announced));
  const bytes = await readBody(res, maxSize, cause, (got) => errors.httpRange(name, 200, 0, 0, `the server sends the whole file, more than ${got - 1} bytes; \`maxSize\` is ${maxSize}`), false);
  if (!(announced > WHOLE_BODY_WARNING_BYTES) && bytes.byteLength > WHOLE_BODY_WARNING_BYTES) {
    console.warn(errors.noRangeWarning(name, bytes.byteLength));
  }
  return bytesSource(bytes, name);
}

/** Wraps a source, counting the reads and bytes read, and the largest single read. */
export interface CountingSource extends ByteSource {
  readonly reads: number;
  readonly bytesRead: number;
  readonly largestRead: number;
}

export function countingSource(inner: ByteSource): CountingSource {
  const counts = { reads: 0, bytesRead: 0, largestRead: 0 };
  return {
    get size() {
      return inner.size;
    },
    get name() {
      return inner.name;
    },
    get reads() {
      return counts.reads;
    },
    get bytesRead() {
      return counts.bytesRead;
    },
    get largestRead() {
      return counts.largestRead;
    },
    async read(offset, length) {
      const bytes = await inner.read(offset, length);
      counts.reads++;
      counts.bytesRead += bytes.byteLength;
      counts.largestRead = Math.max(counts.largestRead, bytes.byteLength);
      return bytes;
    },
  };
}

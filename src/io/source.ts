// Byte sources: a file's bytes read by range, wherever they live. Bytes in memory, a Blob/File, a file path
// (Node, Deno and Bun all provide node:fs/promises), or a URL read with HTTP Range requests. Every read is
// bounded: it allocates at most the requested length (bytes already in memory are returned as views) and a
// range that runs past the end fails with an error naming the offset.
import { errors } from "../core/errors.js";
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
  if (isByteSource(input)) return input;
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
}

// HTTP Range requests. The size comes from the Content-Range of a first one-byte request. A server that
// ignores Range answers that request 200 with the whole file: its body is read (with a warning when large)
// and served from memory, since it is already on its way.
export async function urlSource(url: URL | string, options: UrlSourceOptions = {}): Promise<ByteSource> {
  const doFetch = options.fetch ?? fetch;
  const name = String(url);
  const get = async (start: number, end: number): Promise<Response> => {
    const res = await doFetch(url, { headers: { ...options.headers, Range: `bytes=${start}-${end}` } });
    if (res.status !== 206) {
      await res.body?.cancel();
      throw errors.httpRange(name, res.status, start, end);
    }
    return res;
  };
  const first = await doFetch(url, { headers: { ...options.headers, Range: "bytes=0-0" } });
  if (first.status === 200) return wholeBody(first, name);
  if (first.status !== 206) {
    await first.body?.cancel();
    throw errors.httpRange(name, first.status, 0, 0);
  }
  const total = /\/(\d+)\s*$/.exec(first.headers.get("content-range") ?? "");
  await first.body?.cancel();
  if (!total) throw errors.httpRange(name, 206, 0, 0, "no total size in Content-Range");
  const size = Number(total[1]);
  const source: ByteSource = {
    size,
    name,
    async read(offset, length) {
      checkRange(source, offset, length);
      const out = new Uint8Array(length);
      if (length === 0) return out;
      const res = await get(offset, offset + length - 1);
      const range = /bytes\s+(\d+)-(\d+)/.exec(res.headers.get("content-range") ?? "");
      if (!range || Number(range[1]) !== offset || Number(range[2]) !== offset + length - 1) {
        await res.body?.cancel();
        throw errors.httpRange(name, 206, offset, offset + length - 1, `the server sent ${res.headers.get("content-range")}`);
      }
      // copy the body into `out` as it streams in; a body longer than asked is an error, not a bigger buffer
      const reader = res.body!.getReader();
      let done = 0;
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        if (done + chunk.value.byteLength > length) {
          await reader.cancel();
          throw errors.shortRead(name, offset, length, done + chunk.value.byteLength);
        }
        out.set(chunk.value, done);
        done += chunk.value.byteLength;
      }
      if (done !== length) throw errors.shortRead(name, offset, length, done);
      return out;
    },
  };
  return source;
}

/** Above this, reading a whole file because its server ignores Range gets a warning. */
export const WHOLE_BODY_WARNING_BYTES = 64 << 20;

async function wholeBody(res: Response, name: string): Promise<ByteSource> {
  const announced = Number(res.headers.get("content-length"));
  if (announced > WHOLE_BODY_WARNING_BYTES) console.warn(errors.noRangeWarning(name, announced));
  const bytes = new Uint8Array(await res.arrayBuffer());
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

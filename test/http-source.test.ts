// Byte sources against misbehaving servers and sources (issue 13, findings 5 and 7), on loopback: sizes that
// are no numbers, a size claim far beyond what arrives, servers that stall, a file replaced on the server
// between reads, network errors; and a caller's ByteSource that returns fewer bytes than asked. Each ends in an
// error that names the URL (or source) and the range, and tables loaded before stay bit-identical.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEmbeddingModel, readGGUF, urlSource, writeGGUF, type ByteSource, type EmbeddingTable, type Runtime } from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";

const vocab = 64;
const dim = 32;
const gguf = (seed: number, extra = 0) =>
  writeGGUF({
    metadata: { "general.architecture": "llama", "general.name": "x".repeat(extra) },
    tensors: [{ name: "token_embd.weight", format: "f32", dims: [dim, vocab], data: Float32Array.from({ length: vocab * dim }, (_, i) => Math.sin(i + seed)) }],
  });
const A = gguf(1);
const B = gguf(2); // the same layout and size, other values: what a replaced file looks like
const Bigger = gguf(2, 100);

// How each path answers a request: which bytes, which ETag and Last-Modified, and whether it honours If-Range.
type Mode = { version: (n: number) => Uint8Array; etag?: (n: number) => string | undefined; ifRange?: boolean };
const MODES: Record<string, Mode> = {
  "/a.gguf": { version: () => A, etag: () => '"A"', ifRange: true },
  "/swap-honours-if-range": { version: (n) => (n === 0 ? A : B), etag: (n) => (n === 0 ? '"A"' : '"B"'), ifRange: true },
  "/swap-ignores-if-range": { version: (n) => (n === 0 ? A : B), etag: (n) => (n === 0 ? '"A"' : '"B"') },
  "/swap-no-etag": { version: (n) => (n === 0 ? A : Bigger) },
};

let server: Server;
let base = "";
const requests = new Map<string, number>();
const ifRanges: string[] = [];

function serve(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? "";
  const n = requests.get(path) ?? 0;
  requests.set(path, n + 1);
  const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "");
  const start = Number(m?.[1] ?? 0);
  const end = Number(m?.[2] ?? 0);
  if (typeof req.headers["if-range"] === "string") ifRanges.push(req.headers["if-range"]);
  if (path === "/huge-total") return void res.writeHead(206, { "content-range": `bytes 0-0/${"9".repeat(400)}` }).end("G");
  if (path === "/unknown-total") return void res.writeHead(206, { "content-range": "bytes 0-0/*" }).end("G");
  if (path === "/stall") return; // never answers
  if (path === "/no-range") return void res.writeHead(200, { "content-length": String(A.byteLength) }).end(Buffer.from(A));
  if (path === "/no-range-chunked") {
    // no length announced: the body just keeps coming
    res.writeHead(200);
    for (let i = 0; i < 8; i++) res.write(Buffer.from(A));
    return void res.end();
  }
  if (path === "/stall-body") {
    // a whole header answer, then a body that stops halfway
    res.writeHead(206, { "content-range": `bytes ${start}-${end}/${A.byteLength}` });
    if (start === 0 && end === 0) return void res.end(Buffer.from(A.subarray(0, 1)));
    res.write(Buffer.from(A.subarray(start, start + Math.floor((end - start + 1) / 2))));
    return;
  }
  if (path === "/claims-a-petabyte") {
    // a GGUF whose first key claims a 2^40-byte string in a file said to be 2^50 bytes; only 64 KiB exist
    const head = new Uint8Array(65536);
    const v = new DataView(head.buffer);
    head.set([0x47, 0x47, 0x55, 0x46]);
    v.setUint32(4, 3, true);
    v.setBigUint64(16, 1n, true);
    v.setBigUint64(24, 2n ** 40n, true);
    res.writeHead(206, { "content-range": `bytes ${start}-${end}/${2 ** 50}` });
    return void res.end(Buffer.from(head.subarray(Math.min(start, head.length), Math.min(end + 1, head.length))));
  }
  const mode = MODES[path];
  if (mode === undefined) return void res.writeHead(404).end();
  const body = mode.version(n);
  const etag = mode.etag?.(n);
  const headers: Record<string, string> = { "last-modified": "Tue, 01 Jan 2030 00:00:00 GMT" };
  if (etag !== undefined) headers.etag = etag;
  if (mode.ifRange && req.headers["if-range"] !== undefined && req.headers["if-range"] !== etag) {
    return void res.writeHead(200, { ...headers, "content-length": String(body.byteLength) }).end(Buffer.from(body));
  }
  const last = Math.min(end, body.byteLength - 1);
  res.writeHead(206, { ...headers, "content-range": `bytes ${start}-${last}/${body.byteLength}` });
  res.end(Buffer.from(body.subarray(start, last + 1)));
}

let rt: Runtime;
let earlier: EmbeddingTable;
let earlierBytes: Uint8Array;
beforeAll(async () => {
  server = createServer(serve);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  rt = await newRuntime();
  earlier = await (await readGGUF(A)).loadTable(rt, "token_embd.weight");
  earlierBytes = earlier.bytes();
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((ok) => server.close(() => ok()));
});

function expectEarlierIntact(): void {
  expect(Buffer.from(earlier.bytes()).equals(Buffer.from(earlierBytes)), "the table loaded before").toBe(true);
}

describe("HTTP sources", () => {
  it("a whole file loads, every later request pinned to the first answer's ETag by If-Range", async () => {
    ifRanges.length = 0;
    const m = await loadEmbeddingModel(rt, `${base}/a.gguf`);
    expect(Buffer.from(m.tokens.bytes()).equals(Buffer.from(earlierBytes))).toBe(true);
    expect(ifRanges.length).toBeGreaterThan(0);
    expect(new Set(ifRanges)).toEqual(new Set(['"A"']));
    m.dispose();
  });

  it.each([
    ["/huge-total", /HTTP Range request bytes=0-0 to http:\/\/127\.0\.0\.1:\d+\/huge-total failed: the server sent Content-Range "bytes 0-0\/9999.*\(\d+ characters\); expected bytes 0-0\/<total size in bytes, below 2\^53>/],
    ["/unknown-total", /bytes=0-0 to .*\/unknown-total failed: the server sent Content-Range "bytes 0-0\/\*"/],
  ])("%s: a total size that is no number of bytes is refused (once: Infinity, and no length checks)", async (path, message) => {
    await expect(readGGUF(`${base}${path}`)).rejects.toThrow(message);
  });

  it("a size above `maxSize` is refused before any read", async () => {
    await expect(urlSource(`${base}/a.gguf`, { maxSize: 1000 })).rejects.toThrow(/bytes=0-0 to .*\/a\.gguf failed: the server gives the size as \d+ bytes; `maxSize` is 1000/);
  });

  it("a server without Range support: the whole body, never past `maxSize`, announced or not", async () => {
    expect((await urlSource(`${base}/no-range`)).size).toBe(A.byteLength);
    await expect(urlSource(`${base}/no-range`, { maxSize: 1000 })).rejects.toThrow(/bytes=0-0 to .*\/no-range failed: the server sends the whole file, \d+ bytes; `maxSize` is 1000/);
    await expect(urlSource(`${base}/no-range-chunked`, { maxSize: 2 * A.byteLength })).rejects.toThrow(/no-range-chunked failed: the server sends the whole file, more than \d+ bytes; `maxSize` is \d+/);
  });

  it("a 2^40-byte string claimed by 64 KiB fails when the bytes do not come, with nothing allocated for the claim", async () => {
    const before = process.memoryUsage().arrayBuffers;
    await expect(readGGUF(`${base}/claims-a-petabyte`)).rejects.toThrow(/^Reading 1099511627776 bytes at offset 32 of http:\/\/.*\/claims-a-petabyte: got 65504 bytes/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
  });

  it("a server that never answers times out, naming URL and range", async () => {
    const t0 = performance.now();
    await expect(urlSource(`${base}/stall`, { timeout: 300 })).rejects.toThrow(/HTTP Range request bytes=0-0 to .*\/stall failed: no complete answer within 300 ms/);
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it("a body that stops halfway times out too (the timer runs until the last byte)", async () => {
    const s = await urlSource(`${base}/stall-body`, { timeout: 300 });
    await expect(readGGUF(s)).rejects.toThrow(/HTTP Range request bytes=0-\d+ to .*\/stall-body failed: no complete answer within 300 ms/);
  });

  it("an AbortSignal stops a stalled read and every later one", async () => {
    const controller = new AbortController();
    const s = await urlSource(`${base}/stall-body`, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("user cancelled")), 100);
    await expect(s.read(10, 100)).rejects.toThrow(/bytes=10-109 to .*\/stall-body failed: aborted \(user cancelled\)/);
    await expect(s.read(0, 4)).rejects.toThrow(/bytes=0-3 .* failed: aborted \(user cancelled\)/);
  });

  it.each([
    ["/swap-honours-if-range", /failed: the file changed on the server since the first request \(it answered 200 to If-Range "\\"A\\"", not the range\)/],
    ["/swap-ignores-if-range", /failed: the file changed on the server: its ETag was "\\"A\\"", now "\\"B\\""/],
    ["/swap-no-etag", /failed: the file changed on the server: its size was \d+ bytes, now \d+/],
  ])("%s: a file replaced between reads fails instead of mixing two files' bytes", async (path, message) => {
    requests.delete(path);
    await expect(loadEmbeddingModel(rt, `${base}${path}`)).rejects.toThrow(message);
    expectEarlierIntact();
    expect(rt.bytesInUse).toBe(earlier.byteLength);
  });

  it("a network error names URL, range and cause (once: a bare `TypeError: fetch failed`)", async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, "127.0.0.1", ok));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    await expect(readGGUF(`http://127.0.0.1:${port}/x.gguf`)).rejects.toThrow(
      new RegExp(`^HTTP Range request bytes=0-0 to http://127\\.0\\.0\\.1:${port}/x\\.gguf failed: fetch failed \\(ECONNREFUSED\\)`),
    );
  });
});

describe("a caller's ByteSource", () => {
  const source = (give: (bytes: Uint8Array, offset: number) => unknown): ByteSource => ({
    size: A.byteLength,
    name: "my source",
    read: async (offset, length) => give(A.subarray(offset, offset + length), offset) as Uint8Array,
  });

  it("returning fewer bytes than asked is an error (once: a silently zero-filled table)", async () => {
    const g = await readGGUF(source((b) => b));
    // the header (read from offset 0) whole, the tensor's bytes one short
    const h = await readGGUF(source((b, offset) => (offset > 0 ? b.subarray(0, b.byteLength - 1) : b)));
    await expect(h.loadTable(rt, "token_embd.weight")).rejects.toThrow(/^Loading token_embd\.weight: Reading 8192 bytes at offset \d+ of my source: got 8191 bytes/);
    await expect(h.readTensor("token_embd.weight")).rejects.toThrow(/of my source: got 8191 bytes/);
    (await g.loadTable(rt, "token_embd.weight")).dispose();
    expect(rt.bytesInUse).toBe(earlier.byteLength);
    expectEarlierIntact();
  });

  it("a header read short is an error too, and so is a value that is not a Uint8Array (a Proxy, an array)", async () => {
    await expect(readGGUF(source((b) => b.subarray(0, 10)))).rejects.toThrow(/Reading \d+ bytes at offset 0 of my source: got 10 bytes/);
    await expect(readGGUF(source((b) => Array.from(b)))).rejects.toThrow(/of my source: the source gave Array\(\d+\), expected a Uint8Array/);
    await expect(readGGUF(source((b) => new Proxy(b, {})))).rejects.toThrow(/the source gave .*expected a Uint8Array/);
  });
});

// Byte sources: bytes, Blob, file path, URL with HTTP Range (a local server that counts the bytes it serves).
import { createServer, type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { countingSource, WHOLE_BODY_WARNING_BYTES } from "../src/io/source.js";
import { openSource, readGGUF, urlSource, type ByteSource } from "../src/index.js";

const data = new Uint8Array(100_000).map((_, i) => (i * 31 + 7) & 255);
const dir = mkdtempSync(join(tmpdir(), "bitembed-src-"));
const path = join(dir, "data.bin");
writeFileSync(path, data);

// past WHOLE_BODY_WARNING_BYTES: a server without Range support that sends this gets a warning
const large = Buffer.alloc(WHOLE_BODY_WARNING_BYTES + 1, 7);

let server: Server;
let base = "";
const served = { bytes: 0, requests: 0 };
beforeAll(async () => {
  server = createServer((req, res) => {
    served.requests++;
    const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "");
    if (req.url === "/large-norange") {
      res.writeHead(200, { "content-length": large.byteLength });
      res.end(large);
      return;
    }
    if (req.url === "/gone") {
      res.writeHead(404, { "content-type": "text/html" }).end("<!doctype html><p>not here</p>");
      return;
    }
    if (req.url === "/norange" || !m) {
      res.writeHead(200, { "content-length": data.byteLength });
      served.bytes += data.byteLength;
      res.end(Buffer.from(data));
      return;
    }
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), data.byteLength - 1);
    const body = data.subarray(start, end + 1);
    served.bytes += body.byteLength;
    res.writeHead(206, { "content-range": `bytes ${start}-${end}/${data.byteLength}`, "content-length": body.byteLength });
    res.end(Buffer.from(body));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const addr = server.address() as { port: number };
  base = `http://127.0.0.1:${addr.port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

const kinds: [string, () => Promise<ByteSource>][] = [
  ["Uint8Array", () => openSource(data)],
  ["ArrayBuffer", () => openSource(data.slice().buffer)],
  ["Blob", () => openSource(new Blob([data]))],
  ["file path", () => openSource(path)],
  ["file URL", () => openSource(new URL(`file://${path}`))],
  ["http URL", () => openSource(`${base}/data.bin`)],
];

describe.each(kinds)("%s source", (_, open) => {
  it("reads ranges at the edges and in the middle", async () => {
    const s = await open();
    expect(s.size).toBe(data.byteLength);
    for (const [off, len] of [[0, 1], [0, 17], [12345, 4096], [data.byteLength - 3, 3], [data.byteLength, 0], [5, 0]]) {
      const got = await s.read(off, len);
      expect(got.byteLength).toBe(len);
      expect(Array.from(got)).toEqual(Array.from(data.subarray(off, off + len)));
    }
  });
  it("refuses ranges past the end, naming the offset", async () => {
    const s = await open();
    await expect(s.read(data.byteLength - 2, 3)).rejects.toThrow(/at offset 99998 .*past the end/);
    await expect(s.read(2 ** 60, 8)).rejects.toThrow(/offset 11529215046068470/);
    await expect(s.read(-1, 1)).rejects.toThrow(RangeError);
  });
});

describe("http source", () => {
  it("asks the server only for the bytes it reads", async () => {
    const before = served.bytes;
    const s = countingSource(await urlSource(`${base}/data.bin`));
    await s.read(1000, 500);
    await s.read(50_000, 10);
    expect(s.bytesRead).toBe(510);
    // one byte for the size probe, then exactly the ranges
    expect(served.bytes - before).toBe(511);
  });
  it("reads the whole body of a server that ignores Range (it answers 200 with the file), warning only when large", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const before = served.requests;
      const s = await urlSource(`${base}/norange`);
      expect(s.size).toBe(data.byteLength);
      expect(Array.from(await s.read(12345, 100))).toEqual(Array.from(data.subarray(12345, 12445)));
      expect(served.requests - before).toBe(1); // the rest is read from the body already received
      expect(warn).not.toHaveBeenCalled();
      const big = await urlSource(`${base}/large-norange`);
      expect(big.size).toBe(large.byteLength);
      expect(warn).toHaveBeenCalledOnce();
      expect(String(warn.mock.calls[0][0])).toMatch(/large-norange ignores HTTP Range requests .*67108865 bytes/);
    } finally {
      warn.mockRestore();
    }
  });
  it("reads a GGUF from a server that ignores Range (as a static file host may)", async () => {
    const gguf = (await import("node:fs")).readFileSync(new URL("../examples/data/glove-50k.q8_0.gguf", import.meta.url));
    const norange = createServer((_, res) => res.writeHead(200, { "content-length": gguf.byteLength }).end(gguf));
    await new Promise<void>((ok) => norange.listen(0, "127.0.0.1", ok));
    try {
      const g = await readGGUF(`http://127.0.0.1:${(norange.address() as { port: number }).port}/glove.gguf`);
      expect(g.tensors.map((t) => t.name)).toEqual(["token_embd.weight"]);
    } finally {
      norange.close();
    }
  });
  it("names the URL and the status when the server refuses", async () => {
    await expect(urlSource(`${base}/gone`)).rejects.toThrow(/\/gone failed: status 404/);
  });
});

describe("file source", () => {
  it("names the path when it does not exist", async () => {
    await expect(openSource(join(dir, "missing.gguf"))).rejects.toThrow(/missing\.gguf/);
  });
  it("rejects values that are no source", async () => {
    await expect(openSource(42 as never)).rejects.toThrow(TypeError);
  });
});

// Run by test/init.test.ts under `node --experimental-wasm-relaxed-simd` on Node 20: `threads: 2` where the
// relaxed shared-memory build cannot be loaded (a 404 from a server, bytes that do not compile, a file that
// cannot be read) runs its threads on the baseline shared build, after one warning naming what failed; a
// second runtime meeting the same failure does not warn again. Prints one line of JSON.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const root = new URL("../../", import.meta.url);
const { instantiate } = await import(new URL("build/node.js", root).href);
const file = (name) => readFileSync(new URL(`build/${name}`, root));
const wasm = {
  "bitembed.wasm": file("bitembed.wasm"),
  "bitembed.relaxed.wasm": file("bitembed.relaxed.wasm"),
  "bitembed.shared.wasm": file("bitembed.shared.wasm"),
};
const assetName = (relaxed, shared) => `bitembed${shared ? ".shared" : ""}${relaxed ? ".relaxed" : ""}.wasm`;

// a server like a CDN the relaxed shared build was not copied to: 404 for it, the others served
const server = createServer((req, res) => {
  const bytes = wasm[req.url.slice(1)];
  if (bytes === undefined) res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  else res.writeHead(200, { "content-type": "application/wasm" }).end(bytes);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const origin = `http://127.0.0.1:${server.address().port}`;

const warnings = [];
console.warn = (...args) => warnings.push(args.join(" "));
const asked = [];
const cases = {
  notFound: async (relaxed, shared) => fetch(`${origin}/${assetName(relaxed, shared)}`),
  notCompiling: async (relaxed, shared) =>
    relaxed && shared ? Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x7f]) : wasm[assetName(relaxed, shared)],
  unreadable: async (relaxed, shared) => {
    if (relaxed && shared) throw new Error("Reading the wasm from /pkg/build/bitembed.shared.relaxed.wasm failed: ENOENT");
    return wasm[assetName(relaxed, shared)];
  },
};
const out = { origin };
for (const [name, load] of Object.entries(cases)) {
  const loader = (relaxed, shared) => {
    asked.push(assetName(relaxed, shared));
    return load(relaxed, shared);
  };
  const result = {};
  for (const round of ["first", "again"]) {
    asked.length = 0;
    warnings.length = 0;
    const rt = await instantiate(undefined, loader, { threads: 2 });
    const values = Float32Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i));
    const t = rt.tableFromF32(values, { vocab: 64, dim: 32, format: "q8_0" });
    const h = values.subarray(5 * 32, 6 * 32);
    const got = await t.projectAsync(h);
    const want = t.project(h);
    result[round] = {
      threads: rt.threads,
      relaxedSimd: rt.relaxedSimd,
      asked: [...asked],
      warnings: [...warnings],
      same: got.every((x, i) => Object.is(x, want[i])),
    };
    rt.dispose();
  }
  out[name] = result;
}
server.close();
process.stdout.write(JSON.stringify(out) + "\n");

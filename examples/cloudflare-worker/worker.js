// bitembed in a Cloudflare Worker (or workerd). The "workerd" export condition picks build/worker.js,
// which does `import wasm from "./bitembed.wasm"`: the platform compiles the module (compiling wasm
// from bytes is forbidden in Workers) and init() instantiates it. Routes:
//   GET /smoke  the shared smoke checks as JSON
//   GET /oom    fills memory under maxMemory (default 128 MiB, ?max=bytes) and reports the error
//   GET /head   a 1-bit (q1_0) LM head built and ranked under maxMemory (default 128 MiB): ?vocab=151936
//               &dim=4096&planted=ROW&stream=1 (0: whole bytes in JS, fromBytes); reports { ok, failures,
//               wasmBytes, topIds, ms } (see head.js)
//   GET /threads init with { threads: 2 }: Workers run one thread (no way to start a worker), so rt.threads
//               is 1 with one warning, and the *Async calls run there: the shared threads checks as JSON
import * as lib from "bitembed";
const { init } = lib;
import { oomSmoke, smoke } from "../shared/smoke.js";
import { threadsCheck } from "../shared/threads.js";
import { headCheck } from "./head.js";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/smoke") return Response.json(await smoke(init, { runtime: "workerd" }));
    if (url.pathname === "/threads") return Response.json(await threadsCheck(lib, { threads: 2 }));
    if (url.pathname === "/oom") {
      const max = Number(url.searchParams.get("max") ?? 128 * 2 ** 20);
      return Response.json(await oomSmoke(init, max, { runtime: "workerd" }));
    }
    if (url.pathname === "/head") {
      const arg = (name, value) => Number(url.searchParams.get(name) ?? value);
      const vocab = arg("vocab", 151936);
      return Response.json(
        await headCheck(init, { vocab, dim: arg("dim", 4096), planted: arg("planted", vocab >> 1), maxMemory: arg("max", 128 * 2 ** 20), stream: arg("stream", 1) !== 0 }),
      );
    }
    return new Response("routes: /smoke, /threads, /oom, /head", { status: 404 });
  },
};

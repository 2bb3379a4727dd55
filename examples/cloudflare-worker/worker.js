// bitembed in a Cloudflare Worker (or workerd). The "workerd" export condition picks build/worker.js,
// which does `import wasm from "./bitembed.wasm"`: the platform compiles the module (compiling wasm
// from bytes is forbidden in Workers) and init() instantiates it. Routes:
//   GET /smoke  the shared smoke checks as JSON
//   GET /oom    fills memory under maxMemory (default 128 MiB, ?max=bytes) and reports the error
import { init } from "bitembed";
import { oomSmoke, smoke } from "../shared/smoke.js";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/smoke") return Response.json(await smoke(init, { runtime: "workerd" }));
    if (url.pathname === "/oom") {
      const max = Number(url.searchParams.get("max") ?? 128 * 2 ** 20);
      return Response.json(await oomSmoke(init, max, { runtime: "workerd" }));
    }
    return new Response("routes: /smoke, /oom", { status: 404 });
  },
};

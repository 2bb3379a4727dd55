# workerd config for the bundled worker (build/examples/cloudflare-worker/, made by `npm run build`):
#   node_modules/.bin/workerd serve build/examples/cloudflare-worker/config.capnp
# then GET http://127.0.0.1:8787/smoke. `--socket-addr http=127.0.0.1:PORT` picks another port.
# The wasm is a separate CompiledWasm module: workerd compiles it; the worker imports "./bitembed.wasm".
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "bitembed.wasm", wasm = embed "bitembed.wasm"),
  ],
  compatibilityDate = "2026-11-01",
);

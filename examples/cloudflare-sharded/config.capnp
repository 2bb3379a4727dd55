# workerd config for the sharded head (build/examples/cloudflare-sharded/, made by `npm run build`). Put a GGUF
# head file at build/examples/cloudflare-sharded/data/head.gguf, set SHARD_RANGES to its rows (planShards
# gives them), then
#   cd build/examples/cloudflare-sharded && ../../../node_modules/.bin/workerd serve config.capnp
# (the disk service's path is relative to the working directory)
#   curl -X POST http://127.0.0.1:8788/topk -d '{"hidden": [...], "k": 10}'
# The HeadShard objects live in the same worker (a Durable Object namespace with in-memory storage: they keep
# nothing on disk); they read their rows from the "disk" service, which answers HTTP Range requests.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .front),
    (name = "disk", disk = (path = "data", writable = false)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8788", http = (), service = "main")],
);

const front :Workerd.Worker = (
  modules = [
    (name = "front.js", esModule = embed "front.js"),
    (name = "bitembed.wasm", wasm = embed "bitembed.wasm"),
  ],
  compatibilityDate = "2026-11-01",
  durableObjectNamespaces = [(className = "HeadShard", uniqueKey = "bitembed-head-shard")],
  durableObjectStorage = (inMemory = void),
  bindings = [
    (name = "HEAD_SHARD", durableObjectNamespace = "HeadShard"),
    (name = "HEAD_FETCHER", service = "disk"),
    (name = "HEAD_URL", text = "http://disk/head.gguf"),
    (name = "SHARD_RANGES", text = "[[0, 131072], [131072, 262144]]"),
    (name = "MAX_MEMORY", text = "134217728"),
  ],
);

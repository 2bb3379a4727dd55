// A vocabulary-sharded LM head on Durable Objects: this front worker answers requests by fanning them out to
// HeadShard objects (bitembed/head-shard), one per row range, each holding its rows of the head file under
// maxMemory, and merging their answers exactly (ShardedHead). Routes (JSON in, JSON out):
//   POST /topk    { hidden: number[], k, temperature? } -> { ids, scores, probs, logSumExp, ms }
//   POST /sample  { hidden, seed, temperature? }        -> { id, key }
//   POST /lookup  { ids: number[] }                     -> { rows: number[] } (ids.length x dim)
//   GET  /shards  -> each shard's { start, end, dim, format, mode, heldBytes, wasmBytes, loadMs }
// env: SHARD_RANGES (JSON [[start, end], ...]), MAX_MEMORY (bytes per shard, default 128 MiB), HEAD_SHARD (the
// Durable Object namespace), and for the shards HEAD_URL (+ service binding HEAD_FETCHER) or HEAD_BUCKET + HEAD_KEY.
import { ShardedHead } from "bitembed/head-shard";
export { HeadShard } from "bitembed/head-shard";

// Stubs belong to the request that made them (workerd refuses I/O on another request's objects), so each
// request gets its stubs and asks each object to open its rows: the first call loads them, later calls
// return at once (and reload them if the platform evicted the object).
async function openHead(env) {
  const ranges = JSON.parse(env.SHARD_RANGES);
  const maxMemory = Number(env.MAX_MEMORY ?? 128 * 2 ** 20);
  const shards = await Promise.all(
    ranges.map(async ([start, end]) => {
      const stub = env.HEAD_SHARD.get(env.HEAD_SHARD.idFromName(`rows ${start}-${end}`));
      const info = await stub.open({ start, end, maxMemory });
      // a stub's properties are remote: the coordinator gets plain numbers and the three methods
      return {
        start,
        end,
        dim: info.dim,
        info,
        topk: (hidden, k, opts) => stub.topk(hidden, k, opts),
        sample: (hidden, opts) => stub.sample(hidden, opts),
        lookup: (ids) => stub.lookup(ids),
      };
    }),
  );
  return { head: new ShardedHead(shards, { timeoutMs: Number(env.TIMEOUT_MS ?? 30_000) }), infos: shards.map((s) => s.info) };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/shards") return Response.json((await openHead(env)).infos);
      if (request.method !== "POST") return new Response("routes: POST /topk, /sample, /lookup; GET /shards", { status: 404 });
      const body = await request.json();
      const { head } = await openHead(env);
      const t = Date.now();
      if (url.pathname === "/topk") {
        const r = await head.topk(Float32Array.from(body.hidden), body.k, { temperature: body.temperature });
        return Response.json({ ids: [...r.ids], scores: [...r.scores], probs: [...r.probs], logSumExp: r.logSumExp, missing: r.missing, ms: Date.now() - t });
      }
      if (url.pathname === "/sample") {
        return Response.json(await head.sample(Float32Array.from(body.hidden), { seed: body.seed, temperature: body.temperature }));
      }
      if (url.pathname === "/lookup") return Response.json({ rows: [...(await head.lookup(Int32Array.from(body.ids)))] });
      return new Response("routes: POST /topk, /sample, /lookup; GET /shards", { status: 404 });
    } catch (e) {
      return Response.json({ error: String(e?.message ?? e) }, { status: 500 });
    }
  },
};

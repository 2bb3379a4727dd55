// The threads checks every runtime runs, identically: a runtime asked for `threads` beside a one-thread one,
// and for each format the *Async calls of the first (tableFromF32Async, quantizeAsync, projectAsync,
// topkAsync, argmaxAsync; nearestAsync in each metric and analogyAsync where the library has them) against the
// synchronous calls of the second, bit for bit, in mode exact, fast where the format has it and ggml where it
// has integer dots. Where threads cannot run the same calls run on one thread: the caller checks `threads`
// and `warnings`.
// `threadsCheck(lib, options)` returns { ok, threads, warnings, jobs, checks: [{ name, ok, detail }] } and
// never throws; `lib` is the module (init, FORMATS, FORMAT_NAMES, supportsFast). `jobs` counts the jobs the
// worker pool ran (0 where there is none, or where every call was too small to leave the calling thread).
export async function threadsCheck(lib, { threads = 2, formats = lib.FORMAT_NAMES, vocab = 300, dim = 320, vectors = [1, 3], k = 5 } = {}) {
  const checks = [];
  const warnings = [];
  let jobs = 0;
  let one;
  let many;
  const check = async (name, fn) => {
    try {
      await fn();
      checks.push({ name, ok: true });
    } catch (e) {
      checks.push({ name, ok: false, detail: String(e && e.stack ? e.stack : e) });
    }
  };
  await check(`init with threads ${threads}`, async () => {
    one = await lib.init(undefined, { threads: 1 });
    // the warnings init gives, recorded and passed on
    const warn = console.warn;
    console.warn = (...args) => {
      warnings.push(args.map(String).join(" "));
      warn.apply(console, args);
    };
    try {
      many = await lib.init(undefined, { threads });
    } finally {
      console.warn = warn;
    }
    const pool = many.pool; // internal: counted, to tell that work reached the workers
    if (pool) {
      const run = pool.run.bind(pool);
      pool.run = (...args) => {
        jobs++;
        return run(...args);
      };
    }
  });
  if (many) {
    const values = randomValues(vocab * dim, 1);
    for (const format of formats) {
      await check(`${format}: the *Async calls give the one-thread results`, async () => {
        const options = { vocab, dim, format };
        const ref = one.tableFromF32(values, options);
        let table;
        try {
          table = await many.tableFromF32Async(values, options);
          sameBits(table.bytes(), ref.bytes(), "tableFromF32Async");
          sameBits(await many.quantizeAsync(values, options), ref.bytes(), "quantizeAsync");
          const modes = ["exact", ...(lib.supportsFast(format) ? ["fast"] : []), ...(lib.FORMATS[format].intDot ? ["ggml"] : [])];
          for (const n of vectors) {
            const hidden = randomValues(n * dim, 7 + n);
            for (const mode of modes) {
              const at = `${mode}, ${n} vectors`;
              sameBits(await table.projectAsync(hidden, { mode }), ref.project(hidden, { mode }), `projectAsync ${at}`);
              const want = ref.topk(hidden, k, { mode });
              const got = await table.topkAsync(hidden, k, { mode });
              sameBits(got.ids, want.ids, `topkAsync ids ${at}`);
              sameBits(got.scores, want.scores, `topkAsync scores ${at}`);
              sameBits(await table.argmaxAsync(hidden, { mode }), ref.argmax(hidden, { mode }), `argmaxAsync ${at}`);
            }
          }
          if (typeof table.nearestAsync === "function") {
            const query = values.subarray(3 * dim, 4 * dim);
            for (const metric of ["cosine", "dot", "l2"]) {
              const want = ref.nearest(query, k, { metric });
              const got = await table.nearestAsync(query, k, { metric });
              sameBits(got.ids, want.ids, `nearestAsync ids, ${metric}`);
              sameBits(got.scores, want.scores, `nearestAsync scores, ${metric}`);
            }
          }
          if (typeof table.analogyAsync === "function") {
            const want = ref.analogy(1, 2, 3, k);
            const got = await table.analogyAsync(1, 2, 3, k);
            sameBits(got.ids, want.ids, "analogyAsync ids");
            sameBits(got.scores, want.scores, "analogyAsync scores");
          }
        } finally {
          ref.dispose();
          table?.dispose();
        }
      });
    }
  }
  const threadsRun = many?.threads ?? 0;
  many?.dispose();
  one?.dispose();
  return { ok: checks.every((c) => c.ok), threads: threadsRun, warnings, jobs, checks };
}

// Values in [-1, 1) from a 32-bit LCG: the same in every runtime.
function randomValues(length, seed) {
  const out = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function sameBits(got, want, what) {
  const a = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
  const b = new Uint8Array(want.buffer, want.byteOffset, want.byteLength);
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} bytes, expected ${b.length}`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error(`${what}: byte ${i} differs (${a[i]} vs ${b[i]})`);
}

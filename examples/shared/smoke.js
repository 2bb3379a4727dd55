// The smoke checks every runtime runs, identically: init() with no argument, f32/f16/bf16 tables from
// exactly representable values, lookups compared bit for bit with the source values, a bad id that must
// throw a RangeError and leave the runtime usable, dispose, and bytesInUse back where it started.
// Then exact projections whose f32 arithmetic is exact, and fast ones every runtime must agree on.
// `smoke(init)` returns { ok, checks: [{ name, ok, detail }], rows, fast, relaxedSimd, bytesInUse }; it never throws.
import { DIM, VOCAB, expectedBits, sourceValues, value } from "./values.js";

export const FORMATS = ["f32", "f16", "bf16"];
const IDS = [0, VOCAB - 1, 7, 0, VOCAB - 2];

export async function smoke(init, info = {}) {
  const checks = [];
  const rows = {};
  const check = async (name, fn) => {
    try {
      const detail = await fn();
      checks.push({ name, ok: true, ...(detail === undefined ? {} : { detail }) });
      return true;
    } catch (e) {
      checks.push({ name, ok: false, detail: String(e && e.stack ? e.stack : e) });
      return false;
    }
  };

  let rt;
  let fast = null;
  let start = NaN;
  let end = NaN;
  const ready = await check("init() with no argument", async () => {
    rt = await init();
    start = rt.bytesInUse;
    assert(Number.isInteger(start) && start >= 0, `bytesInUse is ${start}`);
  });
  if (ready) {
    const values = sourceValues();
    const tables = [];
    for (const format of FORMATS) {
      let table;
      const built = await check(`${format}: tableFromF32`, () => {
        table = rt.tableFromF32(values, { vocab: VOCAB, dim: DIM, format });
        tables.push(table);
        assert(table.vocab === VOCAB && table.dim === DIM && table.format === format, "table shape");
      });
      if (!built) continue;
      await check(`${format}: lookup of ids as Int32Array, Uint32Array, number[] and into out`, () => {
        const expected = expectedBits(IDS);
        sameBits(table.lookup(Int32Array.from(IDS)), expected, "Int32Array ids");
        sameBits(table.lookup(Uint32Array.from(IDS)), expected, "Uint32Array ids");
        sameBits(table.lookup(IDS), expected, "number[] ids");
        const out = new Float32Array(IDS.length * DIM).fill(42);
        assert(table.lookup(IDS, out) === out, "lookup(ids, out) returns out");
        sameBits(out, expected, "out");
        rows[format] = bitsOf(table.lookup([0, VOCAB - 1]));
      });
      await check(`${format}: bad ids throw RangeError naming id and position`, () => {
        const before = rt.bytesInUse;
        for (const [ids, pos, shown] of [
          [[0, VOCAB], 1, String(VOCAB)],
          [[-1], 0, "-1"],
          [[3, 4, 1.5], 2, "1.5"],
          [Int32Array.of(2, -7), 1, "-7"],
        ]) {
          let caught;
          try {
            table.lookup(ids);
          } catch (e) {
            caught = e;
          }
          assert(caught instanceof RangeError, `ids ${JSON.stringify(Array.from(ids))}: expected a RangeError, got ${caught}`);
          assert(caught.message.includes(`ids[${pos}]`) && caught.message.includes(shown), `message: ${caught.message}`);
        }
        assert(rt.bytesInUse === before, `bytesInUse ${before} -> ${rt.bytesInUse} after failed lookups`);
      });
      await check(`${format}: runtime usable after the error`, () => {
        sameBits(table.lookup([VOCAB - 1, 0]), expectedBits([VOCAB - 1, 0]), "lookup after error");
        const fresh = rt.tableFromF32(values, { vocab: VOCAB, dim: DIM, format });
        sameBits(fresh.lookup([5]), expectedBits([5]), "new table after error");
        fresh.dispose();
      });
    }
    await check("f32, f16, bf16: exact projection, 1 and 5 vectors, rows of 21 and 1029", () => {
      exactProbe(rt);
    });
    await check("q1_0, q2_0: fast projection", () => {
      fast = fastProbe(rt);
    });
    await check("dispose returns bytesInUse to its start", () => {
      assert(tables.length === FORMATS.length, `${tables.length} tables built`);
      assert(rt.bytesInUse > start, "tables hold memory");
      for (const t of tables) t.dispose();
      tables[0].dispose(); // a second dispose is a no-op
      end = rt.bytesInUse;
      assert(end === start, `bytesInUse ${start} at start, ${end} after dispose`);
      let caught;
      try {
        tables[0].lookup([0]);
      } catch (e) {
        caught = e;
      }
      assert(caught instanceof Error && /disposed/.test(caught.message), `lookup on a disposed table: ${caught}`);
    });
  }
  return { ok: checks.every((c) => c.ok), ...info, checks, rows, fast, relaxedSimd: rt?.relaxedSimd ?? null, bytesInUse: { start, end } };
}

// Exact projection where f32 arithmetic is exact: table values k / 2 (|k| <= 255) times hidden values m / 4
// (|m| <= 15) are multiples of 1/8 below 2^11, and rows of up to 1029 of them sum below 2^21, so every order of
// summation, fused or not, gives the float64 value. Covers the direct f16/bf16 dots (one row and four rows at a
// time), the f32 row kernels and the batch kernels in whichever build and engine runs. Row 0 of the smoke table
// holds +inf and -inf: its logit must be NaN.
function exactProbe(rt) {
  for (const [vocab, dim, first] of [[VOCAB, DIM, 0], [9, 1029, 1]]) {
    const values = new Float32Array(vocab * dim);
    for (let r = 0; r < vocab; r++) for (let c = 0; c < dim; c++) values[r * dim + c] = value(r + first, c);
    for (const n of [1, 5]) {
      const hidden = Float32Array.from({ length: n * dim }, (_, i) => (((i * 7 + 3) % 31) - 15) / 4);
      for (const format of FORMATS) {
        const table = rt.tableFromF32(values, { vocab, dim, format });
        let got;
        try {
          got = table.project(hidden, { mode: "exact" });
        } finally {
          table.dispose();
        }
        for (let b = 0; b < n; b++) {
          for (let r = 0; r < vocab; r++) {
            let want = 0;
            for (let c = 0; c < dim; c++) want += values[r * dim + c] * hidden[b * dim + c];
            const g = got[b * vocab + r];
            const ok = Number.isNaN(want) ? Number.isNaN(g) : Object.is(g, want) || (g === 0 && want === 0);
            assert(ok, `${format} ${vocab} x ${dim}, vector ${b} row ${r}: got ${g}, expected ${want}`);
          }
        }
      }
    }
  }
}

// Fast (lookup-table) projection of 3 rows onto a fixed 40 x 256 q1_0 and q2_0 table: the logits' f32 bit
// patterns, on which every runtime and both wasm builds (baseline, relaxed SIMD) must agree.
export function fastProbe(rt) {
  const vocab = 40;
  const dim = 256;
  const values = new Float32Array(vocab * dim);
  for (let r = 0; r < vocab; r++) for (let c = 0; c < dim; c++) values[r * dim + c] = value(r + 1, c);
  const out = {};
  for (const format of ["q1_0", "q2_0"]) {
    const table = rt.tableFromF32(values, { vocab, dim, format });
    try {
      out[format] = Array.from(new Uint32Array(table.project(values.subarray(0, 3 * dim), { mode: "fast" }).buffer));
    } finally {
      table.dispose();
    }
  }
  return out;
}

// Fill memory with 16 MiB tables under `maxMemory` until allocation fails; the failure must be a
// RangeError naming the bytes asked and the limit, and the runtime must work afterwards.
export async function oomSmoke(init, maxMemory = 128 * 2 ** 20, info = {}) {
  const rowsOf16MiB = 4096;
  const dim = 1024;
  const rt = await init(undefined, { maxMemory });
  const start = rt.bytesInUse;
  const big = new Float32Array(rowsOf16MiB * dim).fill(1.5);
  const tables = [];
  let error;
  try {
    for (let i = 0; i * 16 * 2 ** 20 <= maxMemory; i++) tables.push(rt.tableFromF32(big, { vocab: rowsOf16MiB, dim, format: "f32" }));
  } catch (e) {
    error = e;
  }
  const peak = rt.memory.byteLength;
  for (const t of tables) t.dispose();
  const after = rt.tableFromF32(sourceValues(), { vocab: VOCAB, dim: DIM, format: "bf16" });
  const usable = equalBits(after.lookup([VOCAB - 1]), expectedBits([VOCAB - 1]));
  after.dispose();
  return {
    ...info,
    maxMemory,
    tables: tables.length,
    errorName: error?.name ?? null,
    isRangeError: error instanceof RangeError,
    message: error?.message ?? null,
    peakMemoryBytes: peak,
    usableAfter: usable,
    bytesInUse: { start, end: rt.bytesInUse },
  };
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function bitsOf(f32) {
  return Array.from(new Uint32Array(f32.buffer, f32.byteOffset, f32.length));
}

function equalBits(f32, expected) {
  const got = bitsOf(f32);
  return got.length === expected.length && got.every((b, i) => b === expected[i]);
}

function sameBits(f32, expected, label) {
  const got = bitsOf(f32);
  assert(got.length === expected.length, `${label}: length ${got.length}, expected ${expected.length}`);
  const i = got.findIndex((b, k) => b !== expected[k]);
  if (i >= 0) {
    const show = (b) => `${new Float32Array(Uint32Array.of(b).buffer)[0]} (0x${b.toString(16)})`;
    throw new Error(`${label}: first mismatch at [${i}] (row ${Math.floor(i / DIM)}, col ${i % DIM}): got ${show(got[i])}, expected ${show(expected[i])}`);
  }
}

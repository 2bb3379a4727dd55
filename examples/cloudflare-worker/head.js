// A 1-bit LM head under a Worker's memory cap: pseudo-random q1_0 rows (vocab x dim, valid f16 scales in
// [0.01, 0.1], row r a function of r alone) tiled into a FastHead, either streamed in pieces of 1000 rows by
// FastHead.fromStream (as a fetch or R2 body would arrive: JS never holds the table) or made whole in JS and
// passed to FastHead.fromBytes (`stream: false`); either way wasm holds the tiled copy only. Then
// top-k of a hidden vector planted near row `planted` (its decoded values + noise), checked in plain JS:
// the fast scores of the top ids against float64 dots of the rows decoded from the JS bytes (within the
// documented bound of src/project/fast.ts), and the planted row exactly best among a sample of rows.
// Returns { ok, failures, wasmBytes, topIds, topScores, errOverBound, ms }; never throws.
import { FastHead, fastTopk } from "bitembed";

const QK = 128; // q1_0: 128 sign bits and an f16 d per 18-byte block
const BLOCK = 18;
const D_LO = 0x211f; // f16 bits of 0.01 and 0.1: positive f16 bits order like their values
const D_HI = 0x2e66;

function xorshift(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

// murmur3's finaliser: neighbouring rows get unrelated seeds
function mix(h) {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function f16(h) {
  const e = (h >> 10) & 31;
  const m = h & 1023;
  const v = e === 0 ? m * 2 ** -24 : 2 ** (e - 15) * (1 + m / 1024); // no inf/NaN among our scales
  return h & 0x8000 ? -v : v;
}

/** Row r's packed bytes into out at `at`: random bits, then each block's d a random f16 in [0.01, 0.1]. */
function makeRow(r, blocks, out, at) {
  const rand = xorshift(mix(r + 0x27d4eb2f));
  for (let i = 0; i < 8; i++) rand(); // rows whose seeds differ in few bits part ways
  const end = at + blocks * BLOCK;
  for (let i = at; i < end; i += 4) {
    const w = rand();
    for (let k = 0; k < 4 && i + k < end; k++) out[i + k] = w >>> (8 * k);
  }
  for (let b = 0; b < blocks; b++) {
    const h = D_LO + (rand() % (D_HI - D_LO + 1));
    out[at + b * BLOCK] = h & 255;
    out[at + b * BLOCK + 1] = h >> 8;
  }
}

/** The table as pieces of `rows` rows each, made as they are asked for. */
async function* rowPieces(vocab, blocks, rows) {
  const rowBytes = blocks * BLOCK;
  for (let r0 = 0; r0 < vocab; r0 += rows) {
    const n = Math.min(rows, vocab - r0);
    const piece = new Uint8Array(n * rowBytes);
    for (let r = 0; r < n; r++) makeRow(r0 + r, blocks, piece, r * rowBytes);
    yield piece;
  }
}

/** A row's packed bytes decoded to float64: bit ? d : -d. */
function decodeRow(data, dim) {
  const out = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    const blk = Math.floor(j / QK) * BLOCK;
    const d = f16(data[blk] | (data[blk + 1] << 8));
    out[j] = (data[blk + 2 + ((j % QK) >> 3)] >> (j & 7)) & 1 ? d : -d;
  }
  return out;
}

function dot(row, x) {
  let s = 0;
  for (let j = 0; j < x.length; j++) s += row[j] * x[j];
  return s;
}

/** src/project/fast.ts: |fast - exact| <= sum_b |d_b| * (E / 8 + 8) * s_b for q1_0, s_b = max_g sum |x_4g..| / 127. */
function bound(data, x) {
  let b = 0;
  let mag = 0;
  for (let blk = 0; blk * QK < x.length; blk++) {
    let m = 0;
    for (let g = blk * QK; g < Math.min(x.length, (blk + 1) * QK); g += 4) {
      let s = 0;
      for (let k = g; k < Math.min(g + 4, x.length); k++) s += Math.abs(x[k]);
      m = Math.max(m, s);
      mag += s;
    }
    const at = blk * BLOCK;
    const d = Math.abs(f16(data[at] | (data[at + 1] << 8)));
    b += ((d * (QK / 8 + 8) * m) / 127) * 1.0001;
  }
  return b + 1e-5 * mag * 0.1; // f32 rounding over |d| <= 0.1
}

export async function headCheck(init, { vocab, dim, planted, maxMemory, stream = true, k = 5, sample = 2000 }) {
  const failures = [];
  const ms = {};
  let rt;
  let head;
  try {
    const blocks = Math.ceil(dim / QK);
    const rowBytes = blocks * BLOCK;
    const rowAt = (r) => {
      const out = new Uint8Array(rowBytes);
      makeRow(r, blocks, out, 0);
      return out;
    };
    rt = await init(undefined, { maxMemory });
    let t = Date.now(); // streamed, ms.build includes making the rows
    const options = { vocab, dim, format: "q1_0" };
    if (stream) {
      head = await FastHead.fromStream(rt, options, rowPieces(vocab, blocks, 1000));
    } else {
      const data = new Uint8Array(vocab * rowBytes);
      for (let r = 0; r < vocab; r++) makeRow(r, blocks, data, r * rowBytes);
      ms.generate = Date.now() - t;
      t = Date.now();
      head = FastHead.fromBytes(rt, { ...options, data });
    }
    ms.build = Date.now() - t;
    const rand = xorshift(0x9e3779b9);

    // the hidden vector: row `planted` decoded, plus noise of up to a third of its scale
    const row = decodeRow(rowAt(planted), dim);
    const hidden = new Float32Array(dim);
    for (let j = 0; j < dim; j++) hidden[j] = row[j] * (1 + ((rand() / 2 ** 32) * 2 - 1) / 3);
    const x = Float64Array.from(hidden);

    t = Date.now();
    const top = fastTopk(head, hidden, k);
    ms.topk = Date.now() - t;
    const topIds = Array.from(top.ids);
    const topScores = Array.from(top.scores);
    let errOverBound = 0;

    for (let i = 0; i < k; i++) {
      const id = topIds[i];
      const exact = dot(decodeRow(rowAt(id), dim), x);
      const err = Math.abs(topScores[i] - exact);
      const b = bound(rowAt(id), x);
      errOverBound = Math.max(errOverBound, err / b);
      if (!(err <= b)) failures.push(`row ${id}: fast ${topScores[i]} vs exact ${exact}: error ${err} > bound ${b}`);
      if (i > 0 && !(topScores[i] <= topScores[i - 1])) failures.push(`scores not descending at ${i}`);
    }
    // the planted row is the exact best among a sample (and the fast top-1)
    const plantedExact = dot(row, x);
    for (let i = 0; i < sample; i++) {
      const r = rand() % vocab;
      if (r === planted) continue;
      const s = dot(decodeRow(rowAt(r), dim), x);
      if (!(s < plantedExact)) failures.push(`row ${r} scores ${s} >= planted ${plantedExact}`);
    }
    if (topIds[0] !== planted) failures.push(`fast top-1 is ${topIds[0]}, planted ${planted}`);
    return { ok: failures.length === 0, failures, wasmBytes: rt.memory.byteLength, headBytes: head.byteLength, packedBytes: vocab * rowBytes, topIds, topScores, errOverBound, ms };
  } catch (e) {
    failures.push(String(e && e.stack ? e.stack : e));
    return { ok: false, failures, wasmBytes: rt ? rt.memory.byteLength : 0, topIds: [], ms };
  } finally {
    head?.dispose();
  }
}

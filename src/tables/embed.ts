// table.embed(): token rows plus learned position rows (GPT-2, BERT), token-type rows (BERT) and/or
// sinusoidal positions (Vaswani et al.), with the token rows scaled first (Gemma's sqrt(dim), Granite's
// embedding_scale). One pass over cache-sized slices: decode each table's rows, sum them in wasm, copy out.
//   out[t] = tok[ids[t]] * scale + pos[positions[t]] + type[tokenTypes[t]] + sinusoid(positions[t])
// Keys: N ids, D dim (shared by every table).
import { errors } from "../core/errors.js";
import { snapshotIds, type Ids } from "../core/ids.js";
import { F32Out } from "../core/arrays.js";
import { snapshotPositions, type Positions } from "../positions/sinusoid.js";
import { checkTable } from "./brand.js";
import type { Runtime } from "../core/runtime.js";
import type { EmbeddingTable } from "./table.js";

export interface EmbedOptions {
  /** Position of each id (default 0..N-1); used by `positionTable` and `sinusoidal`. */
  positions?: Positions;
  /** Learned position embeddings (GPT-2 `wpe`, BERT `position_embeddings`), any format, same dim. */
  positionTable?: EmbeddingTable;
  /** Token type of each id (default all 0); used by `typeTable`. */
  tokenTypes?: Positions;
  /** Token-type embeddings (BERT `token_type_embeddings`), any format, same dim. */
  typeTable?: EmbeddingTable;
  /** Multiplies the token rows only: a number (Granite's embedding_scale) or "sqrt" for sqrt(dim) (Gemma). */
  scale?: number | "sqrt";
  /** Round the scale to this type first, as HF does in the activation dtype (bf16: sqrt(2048) -> 45.25). */
  roundScale?: "f32" | "bf16" | "f16";
  /**
   * Add sinusoidal positions: sin(pos / base^(2i/D)) and cos(...), base 10000. "interleaved" (the paper,
   * tensor2tensor's later code) puts sin at 2i and cos at 2i+1; "halves" (fairseq, Marian) sin at i, cos at i+D/2.
   */
  sinusoidal?: boolean | { base?: number; layout?: "interleaved" | "halves" };
  /** Write here (N * D values) instead of allocating. */
  out?: Float32Array;
}

const CHUNK_BYTES = 1 << 18;

/** The scale as used: "sqrt" resolved against dim, then rounded to `roundScale`. */
export function embeddingScale(scale: number | "sqrt", dim: number, round: "f32" | "bf16" | "f16" = "f32"): number {
  const value = scale === "sqrt" ? Math.sqrt(dim) : scale;
  if (!(typeof value === "number" && Number.isFinite(value))) throw errors.option("scale", scale, 'a finite number or "sqrt"');
  if (round === "f32") return Math.fround(value);
  if (round === "bf16") return roundSignificand(Math.fround(value), 8, -126);
  if (round === "f16") return roundSignificand(Math.fround(value), 11, -14);
  throw errors.unknownChoice("roundScale", round, ["f32", "bf16", "f16"]);
}

// Round to `bits` significant bits, nearest even; below 2^minExp the ulp stays that of 2^minExp.
function roundSignificand(x: number, bits: number, minExp: number): number {
  if (x === 0) return x;
  const e = Math.max(Math.floor(Math.log2(Math.abs(x))), minExp);
  const ulp = Math.pow(2, e - bits + 1);
  const q = x / ulp;
  let r = Math.round(q);
  if (Math.abs(q % 1) === 0.5 && r % 2 !== 0) r -= 1; // ties to even
  return r * ulp;
}

/** Rewrites `rows` decoded token rows at `ptr` in place (a rotated table's inverse transform); must not allocate. */
export type RestoreRows = (ptr: number, rows: number) => void;

export function embedRows(table: EmbeddingTable, rt: Runtime, ids: Ids, options: EmbedOptions = {}, restore?: RestoreRows): Float32Array {
  checkTable(table, "table");
  void table.ptr; // throws once disposed
  const o = options ?? {};
  // every value the caller supplies is read once, here, before any wasm memory is touched
  const { positionTable, typeTable, positions, tokenTypes, sinusoidal, scale: scaleOption, roundScale, out } = o;
  const idList = snapshotIds(ids, table.vocab);
  const n = idList.length;
  const dim = table.dim;
  for (const [name, t] of [["positionTable", positionTable], ["typeTable", typeTable]] as const) {
    if (t === undefined) continue;
    checkTable(t, name, rt);
    if (t.dim !== dim) throw errors.option(`${name}.dim`, t.dim, `the token table's dim ${dim}`);
  }
  const sinusoid = sinusoidal ? (sinusoidal === true ? {} : sinusoidal) : undefined;
  if (sinusoid !== undefined && dim % 2 !== 0) throw errors.option("dim", dim, "an even dim for sinusoidal positions");
  const layout = sinusoid?.layout ?? "interleaved";
  if (layout !== "interleaved" && layout !== "halves") throw errors.unknownChoice("sinusoidal.layout", layout, ["interleaved", "halves"]);
  const sinBase = sinusoid?.base ?? 10000;
  if (!(typeof sinBase === "number" && Number.isFinite(sinBase) && sinBase > 0)) throw errors.option("sinusoidal.base", sinBase, "a finite number > 0");
  const scale = scaleOption === undefined ? 1 : embeddingScale(scaleOption, dim, roundScale);
  const needPositions = positionTable !== undefined || sinusoid !== undefined;
  const limit = positionTable?.vocab ?? 2 ** 32;
  const posList = positions === undefined ? undefined : snapshotPositions(positions, "positions", needPositions ? limit : 2 ** 32);
  const typeList = tokenTypes === undefined ? undefined : snapshotPositions(tokenTypes, "tokenTypes", typeTable?.vocab ?? 2 ** 32);
  for (const [name, values] of [["positions", posList], ["tokenTypes", typeList]] as const) {
    if (values !== undefined && values.length !== n) throw errors.outLength(name, values.length, n, `one per id`);
  }
  if (needPositions && posList === undefined && n > limit) throw errors.badPosition("positions", n - 1, n - 1, limit);
  const mem = rt.memory;
  const target = new F32Out(mem, out, "out", n * dim, `${n} ids x dim ${dim}`);
  // the tables are live now (nothing of the caller's runs after this point)
  for (const t of [table, positionTable, typeTable]) void t?.ptr;
  if (n === 0) return target.finish();

  const k = rt.kernels;
  const chunk = Math.max(1, Math.min(n, Math.floor(CHUNK_BYTES / (dim * 4))));
  const scratch = mem.scratch();
  try {
    const idsPtr = scratch.alloc(n * 4);
    mem.u32().set(idList, idsPtr >>> 2);
    let posPtr = -1;
    if (needPositions) {
      posPtr = scratch.alloc(n * 4);
      const u32 = mem.u32();
      if (posList !== undefined) u32.set(posList, posPtr >>> 2);
      else for (let i = 0; i < n; i++) u32[(posPtr >>> 2) + i] = i;
    }
    let typePtr = -1;
    if (typeTable !== undefined) {
      typePtr = scratch.alloc(n * 4);
      if (typeList !== undefined) mem.u32().set(typeList, typePtr >>> 2);
      else mem.u8().fill(0, typePtr, typePtr + n * 4);
    }
    let freqPtr = -1;
    if (sinusoid !== undefined) {
      const half = dim / 2;
      freqPtr = scratch.alloc((half + (half & 1)) * 8);
      const f = new Float64Array(mem.memory.buffer, freqPtr, half + (half & 1));
      for (let i = 0; i < half; i++) f[i] = Math.pow(sinBase, (-2 * i) / dim);
      if (half & 1) f[half] = 0;
    }
    const rows = scratch.alloc(chunk * dim * 4);
    const extra = positionTable !== undefined || typeTable !== undefined ? scratch.alloc(chunk * dim * 4) : -1;
    const decode = (t: EmbeddingTable, ptr: number, count: number, into: number) =>
      k[t.info.decode](t.ptr, t.rowBytes, ptr, count, dim, into);
    const result = target.array;
    for (let r = 0; r < n; r += chunk) {
      const count = Math.min(chunk, n - r);
      const values = count * dim;
      decode(table, idsPtr + r * 4, count, rows);
      restore?.(rows, count);
      let scaled = scale === 1;
      if (positionTable !== undefined) {
        decode(positionTable, posPtr + r * 4, count, extra);
        k.scale_add_f32(rows, scale, extra, values, rows);
        scaled = true;
      }
      if (!scaled) k.scale_f32(rows, scale, values, rows);
      if (typeTable !== undefined) {
        decode(typeTable, typePtr + r * 4, count, extra);
        k.scale_add_f32(rows, 1, extra, values, rows);
      }
      if (sinusoid !== undefined) k.add_sinusoid(posPtr + r * 4, count, freqPtr, dim, layout === "halves" ? 1 : 0, rows);
      result.set(mem.f32().subarray(rows >>> 2, (rows >>> 2) + values), r * dim);
    }
  } finally {
    scratch.free();
  }
  return target.finish();
}

// Plain references for whole tables of any format: V rows of D values, each row zero-padded to whole blocks
// (as a table stores it) and run through the format's reference (test/reference/formats/).
// Keys: V vocab, D dim, E elements per block, Dp = D rounded up to whole blocks.
import { FORMATS, type Format } from "../../src/formats/registry.js";
import { REFERENCES } from "./formats/index.js";

/** V x D values -> the packed table, row after row, as the reference quantizer packs each padded row. */
export function packRef(format: Format, values: Float32Array, vocab: number, dim: number): Uint8Array {
  const { blockElems, blockBytes } = FORMATS[format];
  const blocks = Math.ceil(dim / blockElems);
  const out = new Uint8Array(vocab * blocks * blockBytes);
  const row = new Float32Array(blocks * blockElems);
  for (let r = 0; r < vocab; r++) {
    row.set(values.subarray(r * dim, (r + 1) * dim)); // a copy of the bits (NaN payloads kept)
    out.set(REFERENCES[format].quantize(row), r * blocks * blockBytes);
  }
  return out;
}

/** Rows `ids` of a packed V x D table, dequantized by the reference, padding dropped: ids.length x D. */
export function lookupRef(format: Format, data: Uint8Array, dim: number, ids: ArrayLike<number>): Float32Array {
  const { blockElems, blockBytes } = FORMATS[format];
  const rowBytes = Math.ceil(dim / blockElems) * blockBytes;
  const out = new Float32Array(ids.length * dim);
  for (let i = 0; i < ids.length; i++) {
    const row = REFERENCES[format].dequantize(data.subarray(ids[i] * rowBytes, (ids[i] + 1) * rowBytes));
    out.set(row.subarray(0, dim), i * dim);
  }
  return out;
}

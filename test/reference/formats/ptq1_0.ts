// Plain reference of PTQ1_0 (GGUF type 143, Ternary Bonsai 2), written from docs/BONSAI2.md §3 as the fork's C
// reads: quantize_row_ptq1_0_ref and dequantize_row_ptq1_0, Math.fround after every f32 operation, every uint8
// wrap of the trit packing kept. Keys: 128 elements per block, 28 bytes: [qs 24][qh 2][d f16].
//   stages of qs: widths 32, 16, 8 tried in turn while they fit the 24 bytes -> (0, 16) then (16, 8);
//   byte m of a stage (first byte j, width c) holds elements off + m, off + m + c, ... off + m + 4c, first most
//   significant (off = the elements of the earlier stages); qh[h] holds the last 8 elements h, h + 2, h + 4, h + 6.
import { ternaryMaxError } from "./ternary.js";
import type { FormatReference } from "./types.js";
import { f32ToF16Bits, fp16Value } from "../half.js";
import { lroundfPlus1 } from "./c.js";

const QK = 128;
const QS = 24;
const QH = 2;
const BYTES = QS + QH + 2;
const fr = Math.fround;

/** The (first byte, width) of each 5-digit stage of the qs bytes. */
function stages(): [number, number][] {
  const out: [number, number][] = [];
  let j = 0;
  for (const c of [32, 16, 8]) {
    while (j + c <= QS) {
      out.push([j, c]);
      j += c;
    }
  }
  return out;
}

/** Where element e lives: [byte index in the block, digit n (0 = most significant)]. */
export function ptq1Place(e: number): [number, number] {
  let off = 0;
  for (const [j, c] of stages()) {
    if (e < off + 5 * c) return [j + ((e - off) % c), Math.floor((e - off) / c)];
    off += 5 * c;
  }
  return [QS + ((e - off) % QH), Math.floor((e - off) / QH)];
}

function quantize(x: Float32Array): Uint8Array {
  const nb = x.length / QK;
  const out = new Uint8Array(nb * BYTES);
  for (let i = 0; i < nb; i++) {
    let amax = 0;
    for (let j = 0; j < QK; j++) {
      const a = Math.abs(x[i * QK + j]);
      amax = amax > a ? amax : a; // MAX(amax, fabsf(x)): a NaN resets it
    }
    const d = amax;
    const id = d !== 0 ? fr(1 / d) : 0; // `d ? 1.0f/d : 0.0f`: NaN is true
    const xi = (j: number) => lroundfPlus1(fr(x[i * QK + j] * id));
    const base = i * BYTES;
    const pack = (q: number) => Math.floor((q * 256 + 242) / 243) & 255;
    let e = 0;
    for (const [j, c] of stages()) {
      for (let m = 0; m < c; m++) {
        let q = 0;
        for (let n = 0; n < 5; n++) q = (q * 3 + xi(e + m + n * c)) & 255;
        out[base + j + m] = pack(q);
      }
      e += 5 * c;
    }
    for (let h = 0; h < QH; h++) {
      let q = 0;
      for (let n = 0; n < 4; n++) q = (q * 3 + xi(e + h + n * QH)) & 255;
      out[base + QS + h] = pack((q * 3) & 255);
    }
    const hb = f32ToF16Bits(d);
    out[base + QS + QH] = hb & 255;
    out[base + QS + QH + 1] = hb >> 8;
  }
  return out;
}

function dequantize(bytes: Uint8Array): Float32Array {
  const nb = bytes.length / BYTES;
  const out = new Float32Array(nb * QK);
  for (let i = 0; i < nb; i++) {
    const base = i * BYTES;
    const d = fp16Value(bytes[base + QS + QH] | (bytes[base + QS + QH + 1] << 8));
    for (let e = 0; e < QK; e++) {
      const [byte, n] = ptq1Place(e);
      const q = (bytes[base + byte] * 3 ** n) & 255;
      const t = (q * 3) >> 8;
      out[i * QK + e] = fr((t - 1) * d);
    }
  }
  return out;
}

/** The trits of one block: digit n of byte q is ((q * 3^n mod 256) * 3) >> 8. */
function codes(block: Uint8Array): Uint8Array {
  return Uint8Array.from({ length: QK }, (_, e) => {
    const [byte, n] = ptq1Place(e);
    return (((block[byte] * 3 ** n) & 255) * 3) >> 8;
  });
}

export const reference: FormatReference = { quantize, dequantize, codes, maxError: ternaryMaxError };

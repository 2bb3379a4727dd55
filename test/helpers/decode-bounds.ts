// A format's decode kernel, called on its raw export, writes exactly n * dim f32, the reference's rows, and not
// one word after them (the padded tail block of a row is decoded aside).
import { expect } from "vitest";
import { FORMATS, type Format, type Runtime } from "../../src/index.js";
import { lookupRef } from "../reference/lookup.js";
import { expectSameBits } from "./close.js";

const GUARD = 256; // words watched after the output

export function expectDecodeStaysInside(rt: Runtime, format: Format, dims: number[]): void {
  const vocab = 3;
  const rows = [2, 0, 1, 2];
  for (const dim of dims) {
    const values = Float32Array.from({ length: vocab * dim }, (_, i) => Math.sin(i) * 3);
    using table = rt.tableFromF32(values, { vocab, dim, format });
    const mem = rt.memory;
    const n = rows.length;
    const ids = mem.alloc(n * 4);
    const out = mem.alloc((n * dim + GUARD) * 4);
    try {
      mem.u32().set(rows, ids >>> 2);
      mem.u32().fill(0xdeadbeef, out >>> 2, (out >>> 2) + n * dim + GUARD);
      rt.kernels[FORMATS[format].decode](table.ptr, table.rowBytes, ids, n, dim, out);
      const after = mem.u32().subarray((out >>> 2) + n * dim, (out >>> 2) + n * dim + GUARD);
      expect(after.every((w) => w === 0xdeadbeef), `${format} dim ${dim}: words after the output`).toBe(true);
      const written = mem.f32().slice(out >>> 2, (out >>> 2) + n * dim);
      expectSameBits(written, lookupRef(format, table.bytes(), dim, rows), `${format} dim ${dim}: the raw kernel's rows`);
    } finally {
      mem.dealloc(ids);
      mem.dealloc(out);
    }
  }
}

// A format's decode kernel, called on its raw export, writes exactly n * dim f32 and not one word after them
// (the padded tail block of a row is decoded aside): every block format's suite runs this.
import { expect } from "vitest";
import { FORMATS, type Format, type Runtime } from "../../src/index.js";

export function expectDecodeStaysInside(rt: Runtime, format: Format, dims: number[]): void {
  const vocab = 3;
  for (const dim of dims) {
    const values = Float32Array.from({ length: vocab * dim }, (_, i) => Math.sin(i) * 3);
    using table = rt.tableFromF32(values, { vocab, dim, format });
    const mem = rt.memory;
    const n = 4;
    const ids = mem.alloc(n * 4);
    const out = mem.alloc((n * dim + 64) * 4);
    mem.u32().set([2, 0, 1, 2], ids >>> 2);
    mem.u32().fill(0xdeadbeef, out >>> 2, (out >>> 2) + n * dim + 64);
    rt.kernels[FORMATS[format].decode](table.ptr, table.rowBytes, ids, n, dim, out);
    const after = mem.u32().subarray((out >>> 2) + n * dim, (out >>> 2) + n * dim + 64);
    expect(after.every((w) => w === 0xdeadbeef), `${format} dim ${dim}: words after the output`).toBe(true);
    expect(mem.u32()[(out >>> 2) + n * dim - 1]).not.toBe(0xdeadbeef);
    mem.dealloc(ids);
    mem.dealloc(out);
  }
}

// The allocator: alignment, no overlap, reuse after free, growth that keeps views usable, the limit.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { newRuntime } from "./helpers/runtime.js";

describe("LinearMemory", () => {
  it("random alloc/free sequences: aligned, disjoint, contents intact, all freed returns to start", async () => {
    const rt = await newRuntime();
    const mem = rt.memory;
    const start = mem.bytesInUse;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 70000 }), fc.constantFrom(16, 32, 64, 4096)), {
          maxLength: 80,
        }),
        (ops) => {
          const live: { ptr: number; size: number; tag: number }[] = [];
          ops.forEach(([doFree, size, align], step) => {
            if (doFree && live.length > 0) {
              const [block] = live.splice(step % live.length, 1);
              mem.dealloc(block.ptr);
              return;
            }
            const ptr = mem.alloc(size, align);
            expect(ptr % align).toBe(0);
            for (const other of live) {
              expect(ptr + size <= other.ptr || other.ptr + other.size <= ptr, "blocks overlap").toBe(true);
            }
            const tag = (step * 31 + 7) & 255;
            mem.u8().fill(tag, ptr, ptr + size);
            live.push({ ptr, size, tag });
            // every live block still holds what was written (growth kept the data)
            for (const b of live) {
              const u8 = mem.u8();
              expect(u8[b.ptr] === b.tag || b.size === 0).toBe(true);
              expect(u8[b.ptr + b.size - 1] === b.tag || b.size === 0).toBe(true);
            }
          });
          for (const b of live) mem.dealloc(b.ptr);
          expect(mem.bytesInUse).toBe(start);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("creating and disposing 10,000 tables does not grow memory", async () => {
    const rt = await newRuntime();
    const values = new Float32Array(1000 * 64).map((_, i) => i);
    rt.tableFromF32(values, { vocab: 1000, dim: 64, format: "f16" }).dispose();
    const size = rt.memory.byteLength;
    for (let i = 0; i < 10_000; i++) {
      const t = rt.tableFromF32(values, { vocab: 1000, dim: 64, format: i % 2 ? "f16" : "bf16" });
      t.lookup([i % 1000]);
      t.dispose();
    }
    expect(rt.memory.byteLength).toBe(size);
    expect(rt.bytesInUse).toBe(0);
  });

  it("tables stay valid after memory grows under them", async () => {
    const rt = await newRuntime();
    const values = Float32Array.from({ length: 8 * 16 }, (_, i) => i - 50);
    using small = rt.tableFromF32(values, { vocab: 8, dim: 16, format: "f32" });
    const before = rt.memory.byteLength;
    using big = rt.tableFromF32(new Float32Array(4_000_000), { vocab: 4000, dim: 1000, format: "f32" });
    expect(rt.memory.byteLength).toBeGreaterThan(before);
    expect(Array.from(small.lookup([7]))).toEqual(Array.from(values.subarray(7 * 16, 8 * 16)));
    expect(big.lookup([3999]).every((x) => x === 0)).toBe(true);
  });

  it("running out names the bytes asked and the limit, and leaves the runtime usable", async () => {
    const limit = 8 * 1024 * 1024;
    const rt = await newRuntime({ maxMemory: limit });
    const values = new Float32Array(1024 * 1024 * 3);
    expect(() => rt.tableFromF32(values, { vocab: 1024, dim: 3072, format: "f32" })).toThrow(
      `asked for ${1024 * 3072 * 4} bytes`,
    );
    expect(() => rt.tableFromF32(values, { vocab: 1024, dim: 3072, format: "f32" })).toThrow(`is ${limit} bytes`);
    expect(rt.bytesInUse).toBe(0);
    using ok = rt.tableFromF32(values.subarray(0, 3072), { vocab: 1, dim: 3072, format: "f16" });
    expect(ok.lookup([0]).length).toBe(3072);
  });

  it("freeing a pointer that is not live throws", async () => {
    const rt = await newRuntime();
    const p = rt.memory.alloc(100);
    rt.memory.dealloc(p);
    expect(() => rt.memory.dealloc(p)).toThrow("not a live allocation");
  });
});

// Guided unit sizes (src/parallel/units.ts): the cuts a threaded call makes must cover every row once, split
// only at multiples of the kernels' row groups, and shrink toward the end (the threads finish together).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { guidedLength, minUnit } from "../src/parallel/units.js";

function cuts(total: number, threads: number, align: number, min: number): number[] {
  const out: number[] = [];
  for (let left = total; left > 0; ) {
    const len = guidedLength(left, threads, align, min);
    out.push(len);
    left -= len;
  }
  return out;
}

describe("guided units", () => {
  it("cover every item once, at multiples of align, at least min, never growing", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300_000 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 64 }), (total, threads, align) => {
        const min = minUnit(total, threads);
        const c = cuts(total, threads, align, min);
        expect(c.reduce((a, b) => a + b, 0)).toBe(total);
        const floor = Math.max(align, Math.ceil(min / align) * align);
        c.slice(0, -1).forEach((len, i) => {
          expect(len % align).toBe(0);
          expect(len).toBeGreaterThanOrEqual(floor);
          expect(len).toBeGreaterThanOrEqual(c[i + 1]);
        });
      }),
    );
  });

  it("a 2-thread call over 128256 rows: a quarter first, then ever smaller, about 17 units", () => {
    const c = cuts(128256, 2, 4, minUnit(128256, 2));
    expect(c[0]).toBe(Math.floor(128256 / 4 / 4) * 4);
    expect(c.at(-1)!).toBeLessThanOrEqual(Math.ceil(128256 / 128 / 4) * 4);
    expect(c.length).toBeGreaterThanOrEqual(14);
    expect(c.length).toBeLessThanOrEqual(24);
  });
});

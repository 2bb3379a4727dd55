// The one tolerance helper: |actual - expected| <= atol + rtol * scale, element by element, the scale being
// |expected| or, given `scale`, a magnitude per element (e.g. the sum of |products| behind a dot product).
// Reports the first mismatching indices with both values. NaN matches NaN only when `nan: true`.
import { expect } from "vitest";

export interface Tolerance {
  atol?: number;
  rtol?: number;
  nan?: boolean;
  /** Per element: what rtol is relative to, instead of |expected[i]|. */
  scale?: ArrayLike<number>;
}

export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 0, rtol = 0, nan = false, scale }: Tolerance,
  label: string,
): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  if (scale !== undefined) expect(scale.length, `${label}: scale length`).toBe(expected.length);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const allowed = atol + (rtol === 0 ? 0 : rtol * (scale === undefined ? Math.abs(e) : scale[i]));
    const ok = Number.isNaN(e) ? nan && Number.isNaN(a) : a === e || Math.abs(a - e) <= allowed;
    if (!ok) {
      count++;
      if (bad.length < 8) bad.push(`[${i}] got ${a}, expected ${e} (diff ${Math.abs(a - e)}, allowed ${allowed})`);
    }
  }
  if (count > 0) {
    expect.fail(`${label}: ${count} of ${expected.length} values differ (atol ${atol}, rtol ${rtol}${scale === undefined ? "" : " of the scale"}):\n  ${bad.join("\n  ")}`);
  }
}

/**
 * Bit-for-bit equality of two f32 arrays (NaN payloads and signed zeros included); with `anyNaN`, a NaN matches
 * any NaN (for decoders of arbitrary bytes, where NaN payloads are not promised).
 */
export function expectSameBits(actual: Float32Array, expected: Float32Array, label: string, { anyNaN = false } = {}): void {
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  expect(a.length, `${label}: length`).toBe(e.length);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < e.length; i++) {
    if (a[i] !== e[i] && !(anyNaN && Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      count++;
      if (bad.length < 8) bad.push(`[${i}] got 0x${a[i].toString(16)} (${actual[i]}), expected 0x${e[i].toString(16)} (${expected[i]})`);
    }
  }
  if (count > 0) expect.fail(`${label}: ${count} of ${e.length} values differ in bits:\n  ${bad.join("\n  ")}`);
}

/** Packed bytes equal, reporting the first differing rows (rowBytes apart). */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, rowBytes: number, label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  const rows = new Set<number>();
  for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) rows.add(Math.floor(i / rowBytes));
  expect([...rows].slice(0, 8), `${label}: rows with differing bytes`).toEqual([]);
}

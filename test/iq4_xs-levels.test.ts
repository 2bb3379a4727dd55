// The IQ4 level search (encode_iq4_xs and encode_iq4_nl share it): the encoders count the level midpoints at or
// below v instead of running ggml's bisection (best_index_int8, bestIndex in the plain reference); the two agree
// on every f32 near every midpoint and level, and on the specials.
import { expect, it } from "vitest";
import { bestIndex, KVALUES } from "./reference/formats/iq4_nl.js";

it("best_index_int8 is the number of level midpoints at or below v: every f32 within 2^16 ulps of each midpoint and level", () => {
  const mids = KVALUES.slice(1).map((v, k) => (KVALUES[k] + v) / 2);
  const count = (v: number) => (Number.isNaN(v) ? 15 : mids.filter((m) => v >= m).length);
  const f = new Float32Array(1);
  const u = new Int32Array(f.buffer);
  let checked = 0;
  for (const centre of [...mids, ...KVALUES, 0]) {
    f[0] = centre;
    const bits = u[0];
    for (let d = -(1 << 16); d <= 1 << 16; d++) {
      u[0] = bits + d;
      const v = f[0];
      if (bestIndex(v) !== count(v)) expect.fail(`v = ${v}: ggml's bisection gives ${bestIndex(v)}, the midpoint count ${count(v)}`);
      checked++;
    }
  }
  for (const v of [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -1e-45, 0, -0, 1000, -1000]) expect(bestIndex(v)).toBe(count(v));
  expect(checked).toBe(32 * ((1 << 17) + 1));
});

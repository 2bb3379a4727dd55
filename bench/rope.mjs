// RoPE over 512 tokens x 32 heads x 128 (Llama-sized attention), in place, against JS loops, in one run.
// "naive JS": the formula as written, cos/sin per (token, head, pair). "JS, cos/sin per token": the same with
// the trigonometry hoisted out of the head loop, which is how a careful JS port would do it.
import { fileURLToPath } from "node:url";
import { init } from "../build/node.js";
import { fmt, machineLine, medians, rng, table } from "./harness.mjs";

const T = 512;
const H = 32;
const D = 128;
const F = D / 2;
const BASE = 10000;

const invFreq = Float64Array.from({ length: F }, (_, i) => Math.pow(BASE, (-2 * i) / D));

// neox pairing: (x[i], x[i + D/2])
function naive(x, positions) {
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < H; h++) {
      const o = (t * H + h) * D;
      for (let i = 0; i < F; i++) {
        const angle = positions[t] * invFreq[i];
        const c = Math.cos(angle);
        const s = Math.sin(angle);
        const x0 = x[o + i];
        const x1 = x[o + i + F];
        x[o + i] = x0 * c - x1 * s;
        x[o + i + F] = x0 * s + x1 * c;
      }
    }
  }
}

const cos = new Float32Array(F);
const sin = new Float32Array(F);
function hoisted(x, positions) {
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < F; i++) {
      const angle = positions[t] * invFreq[i];
      cos[i] = Math.cos(angle);
      sin[i] = Math.sin(angle);
    }
    for (let h = 0; h < H; h++) {
      const o = (t * H + h) * D;
      for (let i = 0; i < F; i++) {
        const x0 = x[o + i];
        const x1 = x[o + i + F];
        x[o + i] = x0 * cos[i] - x1 * sin[i];
        x[o + i + F] = x0 * sin[i] + x1 * cos[i];
      }
    }
  }
}

export async function run(report) {
  const rt = await init();
  const random = rng(11);
  const x = Float32Array.from({ length: T * H * D }, () => random() * 2 - 1);
  // a shifted window, as with a KV cache: positions 3000..3511
  const positions = Int32Array.from({ length: T }, (_, t) => 3000 + t);
  const neox = rt.rope({ headDim: D, base: BASE, pairing: "neox" });
  const norm = rt.rope({ headDim: D, base: BASE, pairing: "norm" });
  const cached = rt.rope({ headDim: D, base: BASE, pairing: "neox" }).cache(4096);
  // rotations keep lengths, so applying again and again keeps the data in range
  const [naiveMs, hoistedMs, neoxMs, normMs, cachedMs] = medians(
    [
      () => naive(x, positions),
      () => hoisted(x, positions),
      () => neox.apply(x, positions, H),
      () => norm.apply(x, positions, H),
      () => cached.apply(x, positions, H),
    ],
    { runs: 15, warmup: 3 },
  );
  for (const r of [neox, norm, cached]) r.dispose();
  const rows = [
    ["naive JS (cos/sin per element)", fmt(naiveMs), "1.00"],
    ["JS, cos/sin per token", fmt(hoistedMs), fmt(naiveMs / hoistedMs)],
    ["**bitembed** neox", fmt(neoxMs), fmt(naiveMs / neoxMs)],
    ["**bitembed** norm", fmt(normMs), fmt(naiveMs / normMs)],
    ["**bitembed** neox, cached cos/sin (`cache(4096)`)", fmt(cachedMs), fmt(naiveMs / cachedMs)],
  ];
  const md = [
    `### RoPE: ${T} tokens x ${H} heads x ${D}, in place, positions 3000..3511`,
    "",
    "Median of 15 runs in round robin; x is a JS Float32Array, so bitembed's times include copying it into wasm memory and back.",
    `bitembed vs the hoisted JS loop: ${fmt(hoistedMs / neoxMs)}x (neox), ${fmt(hoistedMs / cachedMs)}x (cached).`,
    "",
    table(["method", "median ms", "speed-up vs naive"], rows),
  ].join("\n");
  if (typeof report === "function") report(md);
  return md;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(machineLine());
  console.log(await run());
}

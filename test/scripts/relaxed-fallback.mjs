// Run by test/init.test.ts under `node --experimental-wasm-relaxed-simd` (Node 20 has relaxed SIMD behind
// that flag): which build `instantiate` loads, and that it falls back to the baseline one when the relaxed
// asset cannot be loaded. Prints one line of JSON.
import { readFileSync } from "node:fs";

const root = new URL("../../", import.meta.url);
const { hasRelaxedSimd, instantiate } = await import(new URL("build/node.js", root).href);
const wasm = { false: readFileSync(new URL("build/bitembed.wasm", root)), true: readFileSync(new URL("build/bitembed.relaxed.wasm", root)) };
const asked = [];
const loader = (relaxedAsset) => async (relaxed) => {
  asked.push(relaxed);
  return relaxed ? relaxedAsset() : wasm.false;
};
const cases = {
  auto: loader(() => wasm.true),
  optedOut: loader(() => wasm.true),
  throws: loader(() => {
    throw new Error("ENOENT");
  }),
  notFound: loader(() => new Response("missing", { status: 404 })),
};
const out = { hasRelaxedSimd: hasRelaxedSimd() };
for (const [name, load] of Object.entries(cases)) {
  asked.length = 0;
  const rt = await instantiate(undefined, load, name === "optedOut" ? { relaxedSimd: false } : {});
  const t = rt.tableFromF32(Float32Array.from([1, 2, 3, 4]), { vocab: 2, dim: 2, format: "bf16" });
  out[name] = { relaxedSimd: rt.relaxedSimd, asked: [...asked], works: t.lookup([1]).join() === "3,4" };
}
console.log(JSON.stringify(out));

// Golden files by name: ggml's own outputs (fixtures/ggml/) or, for the Ternary Bonsai 2 formats ggml does not
// have, the shared Bonsai 2 set (fixtures/bonsai2/; see its README). Suites that loop over every format read
// `gauss2048.<format>.*` through here.
import { existsSync, readFileSync } from "node:fs";
import type { Format } from "../../src/formats/registry.js";

/** The formats ggml does not have (PrismML's Ternary Bonsai 2): golden files from the fork's reference, no GGUF
 * written by ggml. Every other format has ggml's four files, GGUF included. */
export const NOT_IN_GGML: readonly Format[] = ["pq2_0", "ptq1_0"];

const dirs = [new URL("../fixtures/ggml/", import.meta.url), new URL("../fixtures/bonsai2/", import.meta.url)];

export function goldenUrl(name: string): URL {
  for (const dir of dirs) {
    const url = new URL(name, dir);
    if (existsSync(url)) return url;
  }
  throw new Error(`no golden file ${name} in test/fixtures/ggml or test/fixtures/bonsai2`);
}

export function goldenBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(goldenUrl(name)));
}

export function goldenF32(name: string): Float32Array {
  const b = readFileSync(goldenUrl(name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

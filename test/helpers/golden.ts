// Golden files by name: ggml's own outputs (fixtures/ggml/) or, for the Ternary Bonsai 2 formats ggml does not
// have, the shared Bonsai 2 set (fixtures/bonsai2/; see its README). Suites that loop over every format read
// `gauss2048.<format>.*` through here.
import { existsSync, readFileSync } from "node:fs";

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

// Fuzz: real GGUF files (ggml's golden files, llama.cpp's vocabulary files) mutated thousands of times with
// a fixed seed — byte and bit flips, truncations, length and count fields bumped or replaced by huge values,
// bytes inserted and removed. Every outcome must be a parse or one of our errors; no other exception, no
// hang, and no buffer larger than the file (the reader reports its largest allocation; the source its
// largest read).
import { readFileSync, readdirSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { bytesSource, readGGUF, type ByteSource, type Runtime } from "../src/index.js";
import { newRuntime } from "./helpers/runtime.js";

const fixtures = new URL("./fixtures/", import.meta.url);
const GOLDEN = readdirSync(new URL("ggml/", fixtures)).filter((f) => f.endsWith(".gguf")).map((f) => new URL(`ggml/${f}`, fixtures));
const VOCAB = readdirSync(new URL("vocab/", fixtures)).filter((f) => f.endsWith(".gguf")).map((f) => new URL(`vocab/${f}`, fixtures));
const OUR_ERRORS = /^(Malformed GGUF file .* at byte \d+: |Unsupported GGUF file |Reading \d+ bytes at offset \d+ |No tensor named |Tensor ".*" (is stored as|has dims|has ggml type))/;

// mulberry32: a small seeded generator, so a failure names a case that can be replayed
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Offsets of every length, count and type field of a GGUF header, found by walking it the plain way.
function fieldOffsets(b: Uint8Array, limit = 4000): { u64: number[]; u32: number[] } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u64: number[] = [8, 16];
  const u32: number[] = [4];
  let p = 24;
  const str = () => {
    if (u64.length < limit) u64.push(p);
    p += 8 + Number(v.getBigUint64(p, true));
  };
  const sizes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const value = (t: number) => {
    if (t === 8) return str();
    if (t !== 9) return void (p += sizes[t]);
    u32.push(p);
    const et = v.getUint32(p, true);
    u64.push(p + 4);
    const n = Number(v.getBigUint64(p + 4, true));
    p += 12;
    if (et === 8 || et === 9) for (let i = 0; i < n; i++) value(et);
    else p += n * sizes[et];
  };
  const nTensors = Number(v.getBigUint64(8, true));
  const nKv = Number(v.getBigUint64(16, true));
  for (let i = 0; i < nKv; i++) {
    str();
    u32.push(p);
    const t = v.getUint32(p, true);
    p += 4;
    value(t);
  }
  for (let i = 0; i < nTensors; i++) {
    str();
    u32.push(p);
    const nd = v.getUint32(p, true);
    p += 4;
    for (let d = 0; d < nd; d++, p += 8) u64.push(p);
    u32.push(p);
    p += 4;
    u64.push(p);
    p += 8;
  }
  return { u64, u32 };
}

const HUGE = [2n ** 63n, 2n ** 64n - 1n, 2n ** 60n, 10n ** 12n, 2n ** 32n, 2n ** 31n, 0n, 1n];

function mutate(original: Uint8Array, fields: { u64: number[]; u32: number[] }, headerEnd: number, r: () => number): { bytes: Uint8Array; what: string } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const at = () => Math.floor(r() * Math.min(headerEnd + 64, original.byteLength));
  const kind = Math.floor(r() * 8);
  let b = original.slice();
  const v = () => new DataView(b.buffer);
  switch (kind) {
    case 0: {
      const n = 1 + Math.floor(r() * 8);
      for (let i = 0; i < n; i++) b[at()] = Math.floor(r() * 256);
      return { bytes: b, what: `${n} random bytes` };
    }
    case 1: {
      const p = at();
      b[p] ^= 1 << Math.floor(r() * 8);
      return { bytes: b, what: `bit flip at ${p}` };
    }
    case 2: {
      const cut = Math.floor(r() * original.byteLength);
      return { bytes: original.subarray(0, cut), what: `truncated to ${cut}` };
    }
    case 3: {
      const p = pick(fields.u64);
      const delta = BigInt(pick([1, -1, 2, 7, 8, -8, 100, 4096, 1 << 20]));
      v().setBigUint64(p, BigInt.asUintN(64, v().getBigUint64(p, true) + delta), true);
      return { bytes: b, what: `u64 field at ${p} bumped by ${delta}` };
    }
    case 4: {
      const p = pick(fields.u64);
      const h = pick(HUGE);
      v().setBigUint64(p, BigInt.asUintN(64, h), true);
      return { bytes: b, what: `u64 field at ${p} set to ${h}` };
    }
    case 5: {
      const p = pick(fields.u32);
      const x = pick([0, 1, 7, 8, 9, 12, 13, 40, 99, 142, 0xffffffff, 0x03000000]);
      v().setUint32(p, x, true);
      return { bytes: b, what: `u32 field at ${p} set to ${x}` };
    }
    case 6: {
      const p = at();
      const n = 1 + Math.floor(r() * 16);
      const out = new Uint8Array(b.byteLength + n);
      out.set(b.subarray(0, p));
      for (let i = 0; i < n; i++) out[p + i] = pick([0, 0xff, Math.floor(r() * 256)]);
      out.set(b.subarray(p), p + n);
      return { bytes: out, what: `${n} bytes inserted at ${p}` };
    }
    default: {
      const p = at();
      const n = 1 + Math.floor(r() * 16);
      const out = new Uint8Array(Math.max(0, b.byteLength - n));
      out.set(b.subarray(0, p));
      out.set(b.subarray(Math.min(p + n, b.byteLength)), p);
      return { bytes: out, what: `${n} bytes removed at ${p}` };
    }
  }
}

function tracked(bytes: Uint8Array): ByteSource & { largest: number } {
  const inner = bytesSource(bytes);
  const s = {
    size: inner.size,
    name: "fuzz",
    largest: 0,
    read(offset: number, length: number) {
      s.largest = Math.max(s.largest, length);
      return inner.read(offset, length);
    },
  };
  return s;
}

let rt: Runtime;
beforeAll(async () => {
  rt = await newRuntime();
});

async function run(files: URL[], cases: number, seed: number) {
  const r = rng(seed);
  const originals = await Promise.all(
    files.map(async (u) => {
      const bytes = new Uint8Array(readFileSync(u));
      const g = await readGGUF(bytes);
      return { name: u.pathname.split("/").pop()!, bytes, fields: fieldOffsets(bytes), headerEnd: g.dataOffset };
    }),
  );
  const outcomes = { parsed: 0, refused: 0, loaded: 0 };
  for (let i = 0; i < cases; i++) {
    const o = originals[i % originals.length];
    const { bytes, what } = mutate(o.bytes, o.fields, o.headerEnd, r);
    const source = tracked(bytes);
    let largest = 0;
    const label = `case ${i} (seed ${seed}): ${o.name}, ${what}`;
    const t0 = performance.now();
    try {
      const g = await readGGUF(source, { onLargestAllocation: (n) => (largest = n) });
      outcomes.parsed++;
      const t = g.tensors.find((x) => x.format !== undefined);
      if (t) {
        try {
          (await g.loadTable(rt, t.name)).dispose();
          outcomes.loaded++;
        } catch (e) {
          if (!OUR_ERRORS.test((e as Error).message.replace(/^Loading .*?: /, ""))) throw e;
        }
      }
    } catch (e) {
      const message = (e as Error)?.message ?? String(e);
      if (!OUR_ERRORS.test(message)) expect.fail(`${label}: unexpected ${(e as Error)?.name}: ${message}`);
      outcomes.refused++;
    }
    const ms = performance.now() - t0;
    if (ms > 2000) expect.fail(`${label}: took ${ms.toFixed(0)} ms`);
    if (largest > bytes.byteLength || source.largest > bytes.byteLength) {
      expect.fail(`${label}: allocated ${largest} / read ${source.largest} bytes of a ${bytes.byteLength}-byte file`);
    }
  }
  return outcomes;
}

describe("GGUF fuzz", () => {
  it("golden files: 5,000 mutations", async () => {
    const o = await run(GOLDEN, 5000, 1);
    // both outcomes must occur, or the mutations test nothing
    expect(o.refused).toBeGreaterThan(1000);
    expect(o.parsed).toBeGreaterThan(200);
    expect(o.loaded).toBeGreaterThan(100);
  });
  it("llama.cpp vocabulary files: 600 mutations", async () => {
    const o = await run(VOCAB, 600, 2);
    expect(o.refused).toBeGreaterThan(100);
    expect(o.parsed).toBeGreaterThan(20);
  });
});

describe("safetensors fuzz", () => {
  it("a real file: 1,000 mutations of its header and length field", async () => {
    const { readSafetensors } = await import("../src/index.js");
    const original = new Uint8Array(readFileSync(new URL("safetensors/energetic-en-512.safetensors", fixtures)));
    const headerEnd = 8 + Number(new DataView(original.buffer).getBigUint64(0, true));
    const r = rng(3);
    const ours = /^(Malformed safetensors file .* at byte \d+: |Reading \d+ bytes at offset \d+ )/;
    let refused = 0;
    for (let i = 0; i < 1000; i++) {
      const b = original.slice(0, r() < 0.1 ? Math.floor(r() * original.byteLength) : original.byteLength);
      const n = 1 + Math.floor(r() * 4);
      for (let k = 0; k < n; k++) {
        const p = Math.floor(r() * Math.min(headerEnd, b.byteLength));
        // digits and JSON punctuation make the interesting mutations (offsets, shapes, brackets)
        b[p] = r() < 0.6 ? "0123456789[]{},:\"-e.".charCodeAt(Math.floor(r() * 20)) : Math.floor(r() * 256);
      }
      const source = tracked(b);
      try {
        const s = await readSafetensors(source);
        for (const t of s.tensors.filter((x) => x.format !== undefined && x.shape.length === 2)) (await s.loadTable(rt, t.name)).dispose();
      } catch (e) {
        const message = (e as Error).message.replace(/^Loading .*?: /, "");
        if (!ours.test(message) && !/^(Tensor ".*" has dims|No tensor named)/.test(message)) {
          expect.fail(`case ${i}: unexpected ${(e as Error).name}: ${message}`);
        }
        refused++;
      }
      expect(source.largest, `case ${i}`).toBeLessThanOrEqual(b.byteLength);
    }
    expect(refused).toBeGreaterThan(300);
  });
});

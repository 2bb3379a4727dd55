// NaN in the source table, against ggml's own bytes (test/fixtures/ggml/nan256.*, made by ggml-golden from
// make-nan.mjs): NaNs first, mid-block after the block's largest value, last in blocks of 32 to 256, whole NaN
// blocks, beside infinities, subnormals and values beyond f16, and NaNs with payloads, negative and
// signalling. Each quantizer's running maximum treats a NaN as ggml's does (Q2_0's `if (a > amax)` skips it,
// the `MAX(amax, fabsf(x))` of the others restarts from it), and every f16 NaN is written as sign | 0x7e00.
// The wasm kernels (both builds) and the plain references, bytes and decoded bits.
import { beforeAll, describe, expect, it } from "vitest";
import { FORMATS, FORMAT_NAMES, type Format, type Runtime } from "../src/index.js";
import { expectSameBits, expectSameBytes } from "./helpers/close.js";
import { goldenBytes, goldenF32, NOT_IN_GGML } from "./helpers/golden.js";
import { newRuntime } from "./helpers/runtime.js";
import { REFERENCES } from "./reference/formats/index.js";
import { nonFiniteRows } from "../src/formats/nonfinite.js";

const V = 16;
const D = 256;
// Row 14 holds NaNs with payloads (signalling, negative, 0x7fc12345...). The formats quantized through
// make_qkx2_quants promise ggml's bytes only for JavaScript's quiet NaN (assembly/kquants.ts): there ggml's
// codes come from nearest_int of a NaN, that is from its payload bits. Their row 14 is left out.
const PAYLOAD_ROW = 14;
const QUIET_NAN_ONLY: readonly Format[] = ["q4_k", "q5_k", "q2_k"];
/** The table's bytes without row 14 where the format does not promise it. */
const promised = (format: Format, bytes: Uint8Array, rowBytes: number) =>
  QUIET_NAN_ONLY.includes(format) ? Uint8Array.from(bytes).fill(0, PAYLOAD_ROW * rowBytes, (PAYLOAD_ROW + 1) * rowBytes) : bytes;

let rt: Runtime;
let source: Float32Array;
beforeAll(async () => {
  rt = await newRuntime();
  source = goldenF32("nan256.f32");
});

describe.each(FORMAT_NAMES.filter((f) => !NOT_IN_GGML.includes(f)))("%s with NaN in the table, against ggml", (format: Format) => {
  const rowBytes = (D / FORMATS[format].blockElems) * FORMATS[format].blockBytes;

  it("tableFromF32 and quantize() store ggml's bytes; lookup decodes them to ggml's bits", () => {
    const gold = goldenBytes(`nan256.${format}.bin`);
    using table = rt.tableFromF32(source, { vocab: V, dim: D, format });
    const same = (bytes: Uint8Array, label: string) => expectSameBytes(promised(format, bytes, rowBytes), promised(format, gold, rowBytes), rowBytes, label);
    same(table.bytes(), "tableFromF32");
    same(rt.quantize(source, { vocab: V, dim: D, format }), "rt.quantize");
    using golden = rt.table({ vocab: V, dim: D, format, data: gold });
    expectSameBits(golden.lookup(Array.from({ length: V }, (_, i) => i)), goldenF32(`nan256.${format}.deq.f32`), "lookup of ggml's bytes");
  });

  it("the plain reference quantizes to ggml's bytes and decodes them to ggml's bits", () => {
    const gold = goldenBytes(`nan256.${format}.bin`);
    expectSameBytes(promised(format, REFERENCES[format].quantize(source), rowBytes), promised(format, gold, rowBytes), rowBytes, "reference bytes");
    expectSameBits(REFERENCES[format].dequantize(gold), goldenF32(`nan256.${format}.deq.f32`), "reference values");
  });
});

// MXFP4 at the edges of its E8M0 exponent (fixtures/ggml/make-e8m0.mjs): ggml writes 253 for the largest f32,
// and 255, 254, 253 with all codes 0 for blocks below 2^-125 (x86's wrap-around); none decodes to +-Inf, so no
// row is one that formats/nonfinite.ts sets apart.
describe("mxfp4 at the edges of E8M0, against ggml", () => {
  it("tableFromF32, quantize() and the reference store ggml's bytes; lookup and the reference decode them to ggml's bits", () => {
    const values = goldenF32("e8m0256.f32");
    const gold = goldenBytes("e8m0256.mxfp4.bin");
    const deq = goldenF32("e8m0256.mxfp4.deq.f32");
    const vocab = values.length / D;
    const rowBytes = (D / 32) * 17;
    using table = rt.tableFromF32(values, { vocab, dim: D, format: "mxfp4" });
    expectSameBytes(table.bytes(), gold, rowBytes, "tableFromF32");
    expectSameBytes(rt.quantize(values, { vocab, dim: D, format: "mxfp4" }), gold, rowBytes, "rt.quantize");
    expectSameBytes(REFERENCES.mxfp4.quantize(values), gold, rowBytes, "reference bytes");
    using golden = rt.table({ vocab, dim: D, format: "mxfp4", data: gold });
    expectSameBits(golden.lookup(Array.from({ length: vocab }, (_, i) => i)), deq, "lookup of ggml's bytes");
    expectSameBits(REFERENCES.mxfp4.dequantize(gold), deq, "reference values");
    const exponents = new Set(Array.from({ length: gold.length / 17 }, (_, b) => gold[b * 17]));
    for (const e of [252, 253, 254, 255]) expect(exponents.has(e), `ggml wrote e = ${e}`).toBe(true);
    expect(deq.every(Number.isFinite)).toBe(true);
    expect(nonFiniteRows(gold, 0, rowBytes, vocab, FORMATS.mxfp4)).toEqual([]);
  });
});

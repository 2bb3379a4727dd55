import { defineConfig } from "vitest/config";

// The numerical suites run twice: on the baseline build and on the relaxed-SIMD build (fused multiply-adds in
// the exact kernels, relaxed swizzles in the fast ones), which Node 20 has behind a flag.
const relaxedFlag = process.versions.node.startsWith("20.") ? ["--experimental-wasm-relaxed-simd"] : [];
// The encoders have no relaxed code (madd sits in the dots; f16 and bf16 decode by a relaxed swizzle):
// formats-golden runs every format's encode and decode on both builds against ggml's golden rows, formats-dot
// the dots, formats-reference (their sweeps against the plain references, mostly JS) once.
const numerical = ["project", "topk", "fast-head", "fast", "fast-accuracy", "glove", "word-vectors", "stats", "lookup", "embed", "rope", "pool", "formats-golden", "nan-golden", "formats-dot", "ggml-mode", "ggml-accuracy"];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    setupFiles: ["test/helpers/setup.ts"],
    // 2 cores here: the runtime suites start their own processes
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: "baseline", include: ["test/**/*.test.ts"] } },
      {
        extends: true,
        test: {
          name: "relaxed",
          include: numerical.map((name) => `test/${name}.test.ts`),
          env: { BITEMBED_BUILD: "relaxed" },
          execArgv: relaxedFlag,
        },
      },
    ],
  },
});

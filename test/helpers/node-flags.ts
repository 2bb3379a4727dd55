// Node 20 has relaxed SIMD behind a flag; Node >= 22 has it on and refuses the flag ("bad option").
export const RELAXED_FLAGS = process.versions.node.startsWith("20.") ? ["--experimental-wasm-relaxed-simd"] : [];

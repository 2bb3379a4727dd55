// The typed kernel ABI: the wasm module's exports, numbers and pointers only. `WasmExports` is generated at
// build time from the AssemblyScript sources (asc's raw bindings, see scripts/gen-kernels.mjs), so a wrong
// kernel name or argument count fails `tsc`.
import type { WasmExports } from "./kernels.generated.js";

export type Kernels = WasmExports;

/** The name of an exported kernel function. */
export type KernelName = {
  [K in keyof Kernels]: Kernels[K] extends (...args: never[]) => unknown ? K : never;
}[keyof Kernels];

/** Each format's kernels (one signature per kind: a format whose kernel differs fails `tsc` where it is called). */
export type DecodeKernel = Extract<KernelName, `decode_${string}`>;
export type EncodeKernel = Extract<KernelName, `encode_${string}`>;
export type DotKernel = Extract<KernelName, `dot_${string}`>;

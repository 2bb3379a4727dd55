// The wasm module's exports: a flat ABI of numbers and pointers (see DESIGN.md). Each kernel file adds
// one line here; format files are listed by the generated formats/exports.ts.
export { heap_base } from "./heap";
export { set_scratch, scratch_bytes } from "./scratch";
// every format's decode_, encode_ and dot_ kernels (generated from the registry)
export * from "./formats/exports";
// fast mode (lookup tables): tiling, the generic bit-plane kernels and q1_0's sign kernels
export { fast_lut, fast_project1, fast_projectn } from "./fast/planes";
export { fast_tile, fast_tile_signs, fast_signs_nonfinite_rows } from "./fast/tile";
export { fast_signs_project1, fast_signs_projectn } from "./fast/signs";
export { project_rows, project_int, quantize_activations, activation_bytes, activation_scratch_bytes, row_norms, find_nan } from "./project";
export { topk_push, topk_finish, scores_cosine, scores_l2, logits_post } from "./topk";
export { rope_table, rope_apply_norm, rope_apply_neox, add_sinusoid } from "./rope";
export { scale_add_f32, scale_f32 } from "./embed";
export { relaxed_simd } from "./fast/swizzle";
export { pool_rows } from "./pool";
export { hadamard_rows } from "./hadamard";

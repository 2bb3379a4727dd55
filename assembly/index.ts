// The wasm module's exports: a flat ABI of numbers and pointers (see DESIGN.md). Each kernel file adds
// one line here.
export { heap_base } from "./heap";
export { decode_f32, encode_f32 } from "./formats/f32";
export { decode_f16, encode_f16 } from "./formats/f16";
export { decode_bf16, encode_bf16 } from "./formats/bf16";
export { decode_q8_0, encode_q8_0 } from "./formats/q8_0";
export { decode_q4_0, encode_q4_0 } from "./formats/q4_0";
export { decode_q4_1, encode_q4_1 } from "./formats/q4_1";
export { decode_q1_0, encode_q1_0 } from "./formats/q1_0";
export { tmac_lut, tmac_project1, tmac_projectn } from "./tmac";
export { tmac_tile, tmac_tile_q1 } from "./tmac_tile";
export { tmac_q1_project1, tmac_q1_projectn } from "./tmac_q1";
export { decode_q2_0, encode_q2_0 } from "./formats/q2_0";
export { decode_tq1_0, encode_tq1_0 } from "./formats/tq1_0";
export { decode_tq2_0, encode_tq2_0 } from "./formats/tq2_0";
export { decode_q6_k, encode_q6_k } from "./formats/q6_k";
export { project_rows, row_norms, find_nan } from "./project";
export { topk_push, topk_finish, scores_cosine, scores_l2, logits_post } from "./topk";
export { rope_table, rope_apply_norm, rope_apply_neox, add_sinusoid } from "./rope";
export { scale_add_f32, scale_f32 } from "./embed";
export { relaxed_simd } from "./lut16";

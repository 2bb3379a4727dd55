// The kernels' scratch: the few KB some kernels keep between steps (a partly used block being decoded, a
// block's codes while encoding, 16 rows' codes while tiling, q1_0's sign table). One block per instance:
// the single-thread module uses its static block; in the shared-memory build every worker instance is given
// its own block (set_scratch, from memory the caller's allocator handed out), so no two threads ever write
// the same bytes. Nothing else in the kernels writes static memory.
// Keys: offsets are bytes from the block's start, 64-aligned.

export const SCRATCH_BYTES: usize = 16384;
// A partly used block decoded whole (256 f32: the largest block, QK_K).
export const BLOCK_AT: usize = 0;
// One code byte per element of the block being quantized (2-bit and ternary formats).
export const CODE_AT: usize = 1024;
// q6_k's encoder: the block's 256 codes, its 16 group scales, 4 groups transposed (16 x 16 bytes).
export const Q6_L_AT: usize = 1280;
export const Q6_SCALES_AT: usize = 1536;
export const Q6_XT_AT: usize = 1600;
// Fast-mode tiling: 16 rows' codes of one block; q1_0's 3 x 256 bytes of transpose stages.
export const TILE_CODES_AT: usize = 2048;
export const TILE_STAGE_AT: usize = 6144;
// q1_0's table of sign masks, 256 x 8 lanes of u32, built on first use in each block.
export const SIGNS_AT: usize = 7168;

// The start of this instance's block.
export let SCRATCH: usize = memory.data(<i32>SCRATCH_BYTES, 64);

// A worker instance's own block: SCRATCH_BYTES at ptr (64-aligned), owned by this instance from now on.
export function set_scratch(ptr: usize): void {
  SCRATCH = ptr;
}

export function scratch_bytes(): usize {
  return SCRATCH_BYTES;
}

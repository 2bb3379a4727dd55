// What the integer-dot kernels of mode "ggml" share (formats/<fmt>.ts idot_<fmt>): the sum of each of four
// i32x4 partial sums, as one vector (row r's total in lane r).
// Keys: s_r the four lanes of row r's partial sums.

// [sum s0, sum s1, sum s2, sum s3] in two rounds of interleave-and-add (punpck{l,h}dq, punpck{l,h}qdq).
// @ts-ignore: decorator
@inline export function sumLanes4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const a = i32x4.add(v128.shuffle<i32>(s0, s1, 0, 4, 1, 5), v128.shuffle<i32>(s0, s1, 2, 6, 3, 7));
  const b = i32x4.add(v128.shuffle<i32>(s2, s3, 0, 4, 1, 5), v128.shuffle<i32>(s2, s3, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i64>(a, b, 0, 2), v128.shuffle<i64>(a, b, 1, 3));
}

// @ts-ignore: decorator
@inline export function sumLanes(s: v128): i32 {
  return (i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1)) + (i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3));
}

// Pairwise sums of eight i16 lanes into four i32 lanes, as i32x4.dot_i16x8_s with ones (pmaddwd), which every
// engine lowers to one instruction (i32x4.extadd_pairwise_i16x8_s is the same sum).
// @ts-ignore: decorator
@inline export function widenPairs(p: v128): v128 {
  return i32x4.dot_i16x8_s(p, i16x8.splat(1));
}

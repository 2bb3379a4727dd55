// f32 rows: element j of a row is the little-endian f32 at byte 4j. Decoding is a copy.
// Keys: V vocab, D dim, N ids; a row is D * 4 bytes.
//   row: [ x0 (4 bytes) | x1 | ... | x(D-1) ]

export function decode_f32(table: usize, rowBytes: usize, ids: usize, n: i32, dim: i32, out: usize): void {
  const outRowBytes = <usize>dim << 2;
  for (let r = 0; r < n; r++) {
    const src = table + <usize>load<u32>(ids + (<usize>r << 2)) * rowBytes;
    memory.copy(out + <usize>r * outRowBytes, src, outRowBytes);
  }
}

// Encode n f32 values: a copy.
export function encode_f32(src: usize, n: usize, dst: usize): void {
  memory.copy(dst, src, n << 2);
}

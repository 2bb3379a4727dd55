// The naive JS half decoders the benchmarks compare against: written the obvious way a JS user would.

export function f16ToF32Naive(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const bf16Buf = new Float32Array(1);
const bf16U32 = new Uint32Array(bf16Buf.buffer);
export function bf16ToF32Naive(h) {
  bf16U32[0] = h << 16;
  return bf16Buf[0];
}

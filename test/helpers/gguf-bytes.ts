// Hand-built GGUF bytes for hostile-input tests: every field written explicitly, so a test can lie.
export class Bytes {
  private parts: number[] = [];
  u8(x: number): this {
    this.parts.push(x & 255);
    return this;
  }
  u32(x: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, x, true);
    this.parts.push(...b);
    return this;
  }
  u64(x: number | bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(x), true);
    this.parts.push(...b);
    return this;
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.u64(b.byteLength);
    this.parts.push(...b);
    return this;
  }
  raw(b: ArrayLike<number>): this {
    this.parts.push(...Array.from(b));
    return this;
  }
  padTo(align: number): this {
    while (this.parts.length % align) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.parts);
  }
}

/** "GGUF", version, tensor count, kv count. */
export function header(nTensors: number | bigint, nKv: number | bigint, version = 3): Bytes {
  return new Bytes().raw([0x47, 0x47, 0x55, 0x46]).u32(version).u64(nTensors).u64(nKv);
}

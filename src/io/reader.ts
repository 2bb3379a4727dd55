// A forward reader over a ByteSource for file headers: little-endian numbers, length-prefixed strings.
// It reads the source in windows (1 MiB, or what a field needs) and checks every length against the bytes
// left in the file BEFORE allocating, so a lying length fails with the offset instead of a huge allocation.
import { errors } from "../core/errors.js";
import type { ByteSource } from "./source.js";

// The window starts small (a remote header costs one small request) and doubles while the header goes on.
const FIRST_WINDOW = 1 << 16;
const MAX_WINDOW = 1 << 24;
// ignoreBOM: a token may be the byte-order mark itself; the default decoder would drop it
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

export class HeaderReader {
  readonly source: ByteSource;
  readonly kind: string;
  /** Absolute offset of the next byte. */
  pos = 0;
  /** The largest buffer the reader allocated or asked the source for (instrumented for the fuzz test). */
  largestAllocation = 0;
  private window = FIRST_WINDOW;
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private view: DataView = new DataView(this.buf.buffer);

  constructor(source: ByteSource, kind: string) {
    this.source = source;
    this.kind = kind;
  }

  get remaining(): number {
    return this.source.size - this.pos;
  }

  fail(detail: string, at = this.pos): never {
    throw errors.badFile(this.kind, this.source.name, at, detail);
  }

  noteAllocation(bytes: number): void {
    if (bytes > this.largestAllocation) this.largestAllocation = bytes;
  }

  /** Make `n` bytes from `pos` available in the window; fails (naming `what`) when the file is shorter. */
  async need(n: number, what: string): Promise<void> {
    if (n > this.remaining) this.fail(`${what} needs ${n} bytes but the file ends after ${this.remaining}`);
    const end = this.bufStart + this.buf.byteLength;
    if (this.pos >= this.bufStart && this.pos + n <= end) return;
    const length = Math.min(Math.max(n, this.window), this.remaining);
    if (this.buf.byteLength > 0) this.window = Math.min(this.window * 2, MAX_WINDOW);
    this.noteAllocation(length);
    const bytes = await this.source.read(this.pos, length);
    this.buf = bytes;
    this.bufStart = this.pos;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private at(n: number): number {
    const i = this.pos - this.bufStart;
    this.pos += n;
    return i;
  }

  async u8(what: string): Promise<number> {
    await this.need(1, what);
    return this.view.getUint8(this.at(1));
  }
  async u32(what: string): Promise<number> {
    await this.need(4, what);
    return this.view.getUint32(this.at(4), true);
  }
  async u64(what: string): Promise<bigint> {
    await this.need(8, what);
    return this.view.getBigUint64(this.at(8), true);
  }

  /** A u64 that must fit a JS number (counts, lengths, offsets). */
  async size(what: string): Promise<number> {
    const at = this.pos;
    const v = await this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} is ${v}, larger than any file`, at);
    return Number(v);
  }

  /** `n` raw bytes as a view into the window (copy before keeping). */
  async bytes(n: number, what: string): Promise<Uint8Array> {
    await this.need(n, what);
    const i = this.at(n);
    return this.buf.subarray(i, i + n);
  }

  /** `n` bytes copied out (aligned, owned by the caller). */
  async copy(n: number, what: string): Promise<Uint8Array> {
    const view = await this.bytes(n, what);
    this.noteAllocation(n);
    return view.slice();
  }

  /** A UTF-8 string of `n` bytes (invalid sequences become U+FFFD, as most tools print them). */
  async text(n: number, what: string): Promise<string> {
    return utf8.decode(await this.bytes(n, what));
  }

  /** A GGUF string: u64 length, then that many UTF-8 bytes; the length is checked against the file first. */
  async ggufString(what: string): Promise<string> {
    const at = this.pos;
    const n = await this.size(`the length of ${what}`);
    if (n > this.remaining) this.fail(`${what} claims ${n} bytes but only ${this.remaining} remain`, at);
    return this.text(n, what);
  }

  /** Strings of a string array, read synchronously while the window holds them (an await per string is slow). */
  async ggufStrings(count: number, what: string): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      if (!this.has(8)) await this.need(8, `the length of ${what}[${i}]`);
      const at = this.pos;
      const k = this.at(8);
      // two u32 halves: no BigInt per string
      const n = this.view.getUint32(k, true) + this.view.getUint32(k + 4, true) * 4294967296;
      if (n > this.remaining) this.fail(`${what}[${i}] claims ${n} bytes but only ${this.remaining} remain`, at);
      if (!this.has(n)) await this.need(n, `${what}[${i}]`);
      const j = this.at(n);
      out.push(decode(this.buf, j, n));
    }
    return out;
  }

  private has(n: number): boolean {
    return this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.buf.byteLength;
  }

  /** Fail unless `count` items of at least `minBytes` each can fit in what is left of the file. */
  checkCount(count: number, minBytes: number, what: string, at: number): void {
    if (count * minBytes > this.remaining) {
      this.fail(`${what} is ${count}, but ${count} x ${minBytes} bytes exceed the ${this.remaining} bytes left`, at);
    }
  }
}

// Most vocabulary strings are short ASCII: build those directly, hand the rest to TextDecoder.
function decode(buf: Uint8Array, at: number, n: number): string {
  if (n <= 24) {
    let s = "";
    for (let i = 0; i < n; i++) {
      const c = buf[at + i];
      if (c > 0x7f) return utf8.decode(buf.subarray(at, at + n));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(buf.subarray(at, at + n));
}

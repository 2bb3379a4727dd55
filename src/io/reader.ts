// A forward reader over a ByteSource for file headers: little-endian numbers, length-prefixed strings.
// It reads the source in windows (64 KiB at first, doubling to 16 MiB, or what a field needs) and checks every
// length against the bytes left in the file BEFORE allocating, so a lying length fails with the offset instead
// of a huge allocation.
//
// Parsers are generators (see `want`): they read synchronously from the window and yield only when it must be
// refilled, which `drive` does with one await. A header of a million small fields costs no promise per field.
//
// Every decoded value is charged an estimate of the JS heap it holds (`charge`); a header whose values would
// hold more than HEAP_PER_BYTE times the file's size plus HEAP_SLACK is refused. Legal headers can amplify
// (an empty array inside an array takes 12 bytes in the file and ~100 in JS; a tensor info 24 and ~400): the
// budget bounds what any file of a given size can make this process hold, and the work to decode it.
import { errors } from "../core/errors.js";
import type { ByteSource } from "./source.js";

// The window starts small (a remote header costs one small request) and doubles while the header goes on.
const FIRST_WINDOW = 1 << 16;
const MAX_WINDOW = 1 << 24;
/** A decoded header may hold up to this many times the file's size in JS heap (estimated), plus HEAP_SLACK. */
export const HEAP_PER_BYTE = 3;
export const HEAP_SLACK = 1 << 20;
// ignoreBOM: a token may be the byte-order mark itself; the default decoder would drop it
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** What a parser yields when the window must be refilled: `n` bytes from the current position. */
export interface Need {
  n: number;
  what: string;
}

/** Estimated JS heap of string `s`, decoded from `n` UTF-8 bytes, kept in an array or object slot. */
export function stringCost(s: string, n: number): number {
  // the slot 8; the empty string and one-character Latin-1 strings are shared; else a header of 16 and the
  // characters (a byte each when all were ASCII, else UTF-16), rounded to 8
  if (s.length === 0 || (n === 1 && s.length === 1)) return 8;
  return 8 + 16 + Math.ceil((s.length === n ? n : 2 * s.length) / 8) * 8;
}

export class HeaderReader {
  readonly source: ByteSource;
  readonly kind: string;
  /** Absolute offset of the next byte. */
  pos = 0;
  /** The largest buffer the reader allocated or asked the source for (instrumented for the fuzz test). */
  largestAllocation = 0;
  /** Estimated JS heap held by the values decoded so far (see `charge`). */
  heapCost = 0;
  /** The most `heapCost` may reach for this file. */
  readonly heapBudget: number;
  private window = FIRST_WINDOW;
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private view: DataView = new DataView(this.buf.buffer);

  constructor(source: ByteSource, kind: string) {
    this.source = source;
    this.kind = kind;
    this.heapBudget = HEAP_PER_BYTE * source.size + HEAP_SLACK;
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

  /** Count `bytes` of JS heap against the file's budget; `what` names the value that would exceed it. */
  charge(bytes: number, what: string | (() => string), at = this.pos): void {
    if (this.heapCost + bytes <= this.heapBudget) {
      this.heapCost += bytes;
    } else {
      this.fail(
        `${typeof what === "string" ? what : what()} brings the decoded header past ${this.heapBudget} bytes of memory ` +
          `(${HEAP_PER_BYTE} x the file's ${this.source.size} bytes + ${HEAP_SLACK}): more values than a file this size can hold`,
        at,
      );
    }
  }

  /** Make `n` bytes from `pos` available in the window; fails (naming `what`) when the file is shorter. */
  async need(n: number, what: string): Promise<void> {
    if (n > this.remaining) this.fail(`${what} needs ${n} bytes but the file ends after ${this.remaining}`);
    if (this.has(n)) return;
    const length = Math.min(Math.max(n, this.window), this.remaining);
    if (this.buf.byteLength > 0) this.window = Math.min(this.window * 2, MAX_WINDOW);
    this.noteAllocation(length);
    const bytes = await this.source.read(this.pos, length);
    if (bytes.byteLength !== length) throw errors.shortRead(this.source.name, this.pos, length, bytes.byteLength);
    this.buf = bytes;
    this.bufStart = this.pos;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * In a parser: fail unless `n` bytes remain in the file, and have them in the window (yielding to refill).
   * `what` names the field in an error; a function is only called then.
   */
  *want(n: number, what: string | (() => string)): Generator<Need, void, void> {
    if (this.has(n)) return;
    const label = typeof what === "string" ? what : what();
    if (n > this.remaining) this.fail(`${label} needs ${n} bytes but the file ends after ${this.remaining}`);
    yield { n, what: label };
  }

  /** Whether the window holds `n` bytes from `pos`. */
  has(n: number): boolean {
    return this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.buf.byteLength;
  }

  private at(n: number): number {
    const i = this.pos - this.bufStart;
    this.pos += n;
    return i;
  }

  // Reads from the window; the caller made sure it holds the bytes (`want`, `need`).
  u8Now(): number {
    return this.view.getUint8(this.at(1));
  }
  u32Now(): number {
    return this.view.getUint32(this.at(4), true);
  }
  u64Now(): bigint {
    return this.view.getBigUint64(this.at(8), true);
  }
  /** A u64 as a JS number, exact below 2^53 (two u32 halves: no BigInt); larger values come out larger than 2^53. */
  sizeNow(): number {
    const k = this.at(8);
    return this.view.getUint32(k, true) + this.view.getUint32(k + 4, true) * 4294967296;
  }
  /** `n` raw bytes as a view into the window (copy before keeping). */
  bytesNow(n: number): Uint8Array {
    const i = this.at(n);
    return this.buf.subarray(i, i + n);
  }

  async u32(what: string): Promise<number> {
    await this.need(4, what);
    return this.u32Now();
  }

  /** A u64 that must fit a JS number (counts, lengths, offsets). */
  async size(what: string): Promise<number> {
    await this.need(8, what);
    return this.sizeChecked(what);
  }

  /** In the window: a u64 that must fit a JS number. */
  sizeChecked(what: string | (() => string)): number {
    const at = this.pos;
    const v = this.sizeNow();
    if (v > Number.MAX_SAFE_INTEGER) {
      const label = typeof what === "string" ? what : what();
      this.fail(`${label} is ${this.view.getBigUint64(at - this.bufStart, true)}, larger than any file`, at);
    }
    return v;
  }

  /** `n` raw bytes as a view into the window (copy before keeping). */
  async bytes(n: number, what: string): Promise<Uint8Array> {
    await this.need(n, what);
    return this.bytesNow(n);
  }

  /** A UTF-8 string of `n` bytes (invalid sequences become U+FFFD, as most tools print them). */
  async text(n: number, what: string): Promise<string> {
    return utf8.decode(await this.bytes(n, what));
  }

  /** In a parser: a GGUF string (u64 length, then that many UTF-8 bytes), its length checked against the file. */
  *ggufString(what: string | (() => string)): Generator<Need, string, void> {
    const label = typeof what === "string" ? () => what : what;
    yield* this.want(8, () => `the length of ${label()}`);
    const at = this.pos;
    const n = this.sizeChecked(() => `the length of ${label()}`);
    if (n > this.remaining) this.fail(`${label()} claims ${n} bytes but only ${this.remaining} remain`, at);
    yield* this.want(n, label);
    const j = this.at(n);
    const s = decode(this.buf, j, n);
    this.charge(stringCost(s, n), label, at);
    return s;
  }

  /**
   * In a parser: `count` GGUF strings, read in one loop (no generator per string); `label(i)` names string i
   * in an error and is only called then.
   */
  *ggufStrings(count: number, label: (i: number) => string): Generator<Need, string[], void> {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      if (!this.has(8)) yield* this.want(8, `the length of ${label(i)}`);
      const at = this.pos;
      const n = this.sizeNow();
      if (n > this.remaining) this.fail(`${label(i)} claims ${n} bytes but only ${this.remaining} remain`, at);
      if (!this.has(n)) yield* this.want(n, label(i));
      const s = decode(this.buf, this.at(n), n);
      const cost = stringCost(s, n);
      if (this.heapCost + cost <= this.heapBudget) this.heapCost += cost;
      else this.charge(cost, label(i), at);
      out.push(s);
    }
    return out;
  }

  /** Fail unless `count` items of at least `minBytes` each can fit in what is left of the file. */
  checkCount(count: number, minBytes: number, what: string, at: number): void {
    if (count * minBytes > this.remaining) {
      this.fail(`${what} is ${count}, but ${count} x ${minBytes} bytes exceed the ${this.remaining} bytes left`, at);
    }
  }
}

/** Run a parser to its end, refilling the reader's window whenever it asks. */
export async function drive<T>(r: HeaderReader, parser: Generator<Need, T, void>): Promise<T> {
  for (let step = parser.next(); ; step = parser.next()) {
    if (step.done) return step.value;
    await r.need(step.value.n, step.value.what);
  }
}

// Most vocabulary strings are short ASCII: build those directly (in one call: a string grown a character at a
// time becomes a chain of cons strings, ~30 bytes per character, until something flattens it), hand the rest to
// TextDecoder.
function decode(buf: Uint8Array, at: number, n: number): string {
  if (n <= 24) {
    let ascii = true;
    for (let i = 0; i < n; i++) if (buf[at + i] > 0x7f) ascii = false;
    if (ascii) return String.fromCharCode.apply(null, buf.subarray(at, at + n) as unknown as number[]);
  }
  return utf8.decode(buf.subarray(at, at + n));
}

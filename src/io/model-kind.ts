// What a model file is, from its first bytes: GGUF (magic), safetensors (a little-endian u64 header length that
// fits the file, then "{"), word-vector JSON or text. Anything else is refused, named for what it is:
// "model.gguf is not a GGUF file: it starts with 3c 21 64 6f ...: this is HTML".
import { errors } from "../core/errors.js";
import { startsWith } from "../core/sniff.js";

export type ModelKind = "gguf" | "safetensors" | "json" | "text";

/** How many leading bytes `modelKind` looks at. */
export const MODEL_HEAD_BYTES = 16;

export function isGGUF(head: Uint8Array): boolean {
  return head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46; // "GGUF"
}

export function isSafetensors(head: Uint8Array, size: number): boolean {
  if (head.length < 9 || head[8] !== 0x7b /* { */) return false;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  return n >= 2 && n <= size - 8;
}

// printable ASCII, tabs and line ends, and UTF-8 lead/continuation bytes: word vectors in any language
function isText(head: Uint8Array): boolean {
  return head.length > 0 && head.every((b) => b >= 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) && head[0] !== 0x7f;
}

/** The kind of a model file, or undefined when its bytes are none of them. */
export function modelKind(head: Uint8Array, size: number): ModelKind | undefined {
  if (isGGUF(head)) return "gguf";
  if (isSafetensors(head, size)) return "safetensors";
  if (!isText(head)) return undefined;
  return /^\s*[{[]/.test(new TextDecoder().decode(head)) ? "json" : "text";
}

/** The error for a file that is not the `expected` kind. */
export function notModelFile(name: string, head: Uint8Array, expected: string, hint = ""): Error {
  return errors.notModelFile(name, expected, startsWith(head), hint);
}

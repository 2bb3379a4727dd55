// Names what a few leading bytes are, for error messages: "starts with 3c 21 64 6f 63 74 79 70
// ("<!doctyp"): this is HTML, not wasm". Used where bytes of one kind were expected and others came back
// (an SPA's index.html served for a missing .wasm, a text file given as a model).

const KINDS: [test: (b: Uint8Array, text: string) => boolean, what: string][] = [
  [(b) => b.length === 0, "empty"],
  [(_, t) => /^\s*<(!doctype\s+html|html|head|body|script|title)/i.test(t), "this is HTML"],
  [(_, t) => /^\s*<\?xml/i.test(t), "this is XML"],
  [(b) => b[0] === 0x00 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d, "this is WebAssembly"],
  [(_, t) => t.startsWith("GGUF"), "this is GGUF"],
  [(b) => b[0] === 0x1f && b[1] === 0x8b, "this is gzip-compressed"],
  [(b) => b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd, "this is zstd-compressed"],
  [(b) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04, "this is a zip archive (a PyTorch .bin/.pt?)"],
  [(b) => b[0] === 0x80 && (b[1] === 0x02 || b[1] === 0x03 || b[1] === 0x04 || b[1] === 0x05), "this is a Python pickle"],
  [(_, t) => /^\s*[{[]/.test(t), "this looks like JSON"],
  [(_, t) => /^(version https:\/\/git-lfs)/.test(t), "this is a Git LFS pointer, not the file itself"],
  [(_, t) => /^[\x09\x0a\x0d\x20-\x7e]+$/.test(t), "this is text"],
];

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** "3c 21 64 6f (\"<!do\")": the first `n` bytes in hex, and as text when printable. */
export function leadingBytes(bytes: Uint8Array, n = 8): string {
  const head = bytes.subarray(0, n);
  if (head.length === 0) return "no bytes";
  const hex = Array.from(head, (b) => b.toString(16).padStart(2, "0")).join(" ");
  const text = latin1(head);
  return /^[\x20-\x7e]+$/.test(text) ? `${hex} (${JSON.stringify(text)})` : hex;
}

/** What `bytes` look like ("this is HTML", "this is gzip-compressed", ...), or undefined when unknown. */
export function sniff(bytes: Uint8Array): string | undefined {
  const text = latin1(bytes.subarray(0, 64));
  for (const [test, what] of KINDS) if (test(bytes, text)) return what;
  return undefined;
}

/** `starts with <hex> ("<text>"): this is HTML` (or `is empty`): for "it ..." in messages about wrong bytes. */
export function startsWith(bytes: Uint8Array): string {
  if (bytes.length === 0) return "is empty";
  const what = sniff(bytes);
  return `starts with ${leadingBytes(bytes)}${what ? `: ${what}` : ""}`;
}

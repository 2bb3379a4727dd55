// JSON from files (a safetensors header, a config.json), checked before JSON.parse sees it: valid UTF-8 (the
// byte of the first bad sequence named), nesting no deeper than serde_json's default limit (128, what the
// reference safetensors reader inherits), and a bound on the JS heap the parsed values can take.
// see: RFC 3629 §4 (UTF-8 syntax); serde_json `Deserializer::recursion_limit` (128).

/** serde_json's default recursion limit. */
export const MAX_JSON_DEPTH = 128;

/** Offset of the first byte that starts an invalid UTF-8 sequence, or -1 when all of `b` is valid. */
export function invalidUtf8At(b: Uint8Array): number {
  const n = b.length;
  for (let i = 0; i < n; ) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c === 0xe0) lo = 0xa0; // no overlong forms
      if (c === 0xed) hi = 0x9f; // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f; // nothing past U+10FFFF
    } else return i;
    if (i + len > n) return i;
    if (b[i + 1] < lo || b[i + 1] > hi) return i;
    for (let k = 2; k < len; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    i += len;
  }
  return -1;
}

/**
 * Scan JSON text for what JSON.parse would build: the deepest nesting (outside strings) and an estimate of
 * the JS heap of the values (64 bytes per object or array, 16 per member or element, 2 per character).
 * Returns the offset where nesting first passes `maxDepth` (or -1) and the estimate.
 */
export function scanJSON(text: string, maxDepth = MAX_JSON_DEPTH): { tooDeepAt: number; heap: number } {
  let depth = 0;
  let containers = 0;
  let members = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      containers++;
      if (++depth > maxDepth) return { tooDeepAt: i, heap: Infinity };
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c || c === 0x3a) members++;
  }
  return { tooDeepAt: -1, heap: 64 * containers + 16 * members + 2 * text.length };
}

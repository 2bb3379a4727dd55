// Text from files on the terminal. Metadata keys, tensor names and tokens come from the file: a control
// character in them could retitle the window, clear the screen, move the cursor to forge lines, or hide a
// hyperlink (OSC 8), and a bidi override could reorder what is shown. Every line the command prints with such
// text goes through `say`/`warn`, which show those characters escaped (\u001b, \u202e...); `clip` cuts long
// strings so one key cannot flood the screen.
import { escapeControls } from "../core/errors.js";

/** `s` cut to `max` characters, with how long it was. */
export function clip(s: string, max = 120): string {
  return s.length <= max ? s : `${s.slice(0, max)}... (${s.length} characters)`;
}

/** Print a line on stdout, controls escaped. */
export function say(line: string): void {
  console.log(escapeControls(line));
}

/** Print a line on stderr, controls escaped. */
export function warn(line: string): void {
  console.error(escapeControls(line));
}

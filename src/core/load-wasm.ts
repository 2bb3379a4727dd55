// Every way a runtime hands over wasm, turned into an instance; every way that can fail, turned into one
// message that names the source (URL or path), what came back (status, content type, first bytes: "this is
// HTML", an SPA's index.html served for a missing file) and the fix.
import { errors } from "./errors.js";
import { fileSystem, filePath, hasFileSystem, hasScheme } from "./file-system.js";
import { startsWith } from "./sniff.js";

/** What to do when the packaged wasm did not come back. */
export const PACKAGED_FIX =
  "bitembed loads bitembed.wasm (and bitembed.relaxed.wasm) from beside its own module, " +
  '`new URL("./bitembed.wasm", import.meta.url)`: the bundler or server did not provide it there. ' +
  "Vite and webpack 5 emit it by themselves, Rollup with @web/rollup-plugin-import-meta-assets; with esbuild copy " +
  "node_modules/bitembed/build/*.wasm beside the bundle; or pass its URL, `init(new URL(\"/bitembed.wasm\", location.href))`, " +
  "or import `bitembed/inline` (README: Bundlers)";
/** What to do when the package's own file is missing in Node, Deno or Bun. */
export const INSTALL_FIX = "The package looks incomplete: reinstall bitembed (its build/ directory holds the wasm)";
/** What to do when a source the caller chose is wrong. */
export const SOURCE_FIX = "Pass bitembed's own build/bitembed.wasm (or bitembed.relaxed.wasm), unchanged";

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** A string or URL source: read as a file where the runtime has files, else fetched. */
export async function resolveLocation(source: string | URL): Promise<{ wasm: Uint8Array | Response; from: string }> {
  const href = source instanceof URL ? source.href : source;
  const isFile = source instanceof URL ? source.protocol === "file:" : !hasScheme(source) || /^file:/i.test(source);
  if (isFile && hasFileSystem()) {
    const { path, name } = filePath(source);
    const fs = (await fileSystem())!;
    try {
      return { wasm: await fs.readFile(path), from: name };
    } catch (e) {
      throw errors.wasmRead(name, e, SOURCE_FIX);
    }
  }
  try {
    return { wasm: await fetch(source), from: href };
  } catch (e) {
    throw errors.wasmFetch(href, e, SOURCE_FIX);
  }
}

/**
 * Fetch the packaged wasm at `locate()`: a literal `new URL("./x.wasm", import.meta.url)` in the entry, which
 * bundlers see and emit (`metaUrl` is that import.meta.url, for the message when it is not a URL).
 */
export async function fetchPackaged(locate: () => URL, metaUrl: unknown): Promise<Response> {
  let url: URL;
  try {
    url = locate();
  } catch (e) {
    throw errors.badImportMetaUrl(metaUrl, e);
  }
  try {
    return await fetch(url);
  } catch (e) {
    throw errors.wasmFetch(url.href, e, PACKAGED_FIX);
  }
}

/** Read the packaged wasm at `locate()` with `read` (Node, Deno, Bun), naming the path when it fails. */
export async function readPackaged(locate: () => URL, metaUrl: unknown, read: (url: URL) => Promise<ArrayBuffer | Uint8Array>): Promise<Uint8Array> {
  let url: URL;
  try {
    url = locate();
  } catch (e) {
    throw errors.badImportMetaUrl(metaUrl, e);
  }
  try {
    const bytes = await read(url);
    return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  } catch (e) {
    throw errors.wasmRead(decodeURIComponent(url.pathname), e, INSTALL_FIX);
  }
}

/** Instantiate a module, bytes or a Response; `from` and `fix` go into any error. */
export async function instantiateFrom(resolved: unknown, from: string, fix: string): Promise<WebAssembly.Instance> {
  if (resolved instanceof WebAssembly.Module) return WebAssembly.instantiate(resolved, {});
  let contentType: string | null | undefined;
  if (typeof Response !== "undefined" && resolved instanceof Response) {
    from = resolved.url || from;
    contentType = resolved.headers.get("content-type");
    if (!resolved.ok) {
      await resolved.body?.cancel().catch(() => {});
      throw errors.wasmHttp(from, resolved.status, resolved.statusText, contentType, fix);
    }
    if (contentType?.startsWith("application/wasm") && typeof WebAssembly.instantiateStreaming === "function") {
      try {
        return (await WebAssembly.instantiateStreaming(resolved, {})).instance;
      } catch (e) {
        throw errors.wasmCompile(from, e, fix);
      }
    }
    resolved = await resolved.arrayBuffer();
  }
  if (!(resolved instanceof ArrayBuffer || ArrayBuffer.isView(resolved))) throw errors.badSource(resolved);
  const bytes =
    resolved instanceof ArrayBuffer ? new Uint8Array(resolved) : new Uint8Array(resolved.buffer, resolved.byteOffset, resolved.byteLength);
  if (bytes.length < 4 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw errors.notWasm(from, startsWith(bytes), contentType, fix);
  }
  try {
    return (await WebAssembly.instantiate(bytes as BufferSource, {})).instance;
  } catch (e) {
    throw errors.wasmCompile(from, e, fix);
  }
}

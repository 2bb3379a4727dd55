// The file system, where the runtime has one. The node, deno and bun entries provide node:fs/promises;
// the browser, worker and inline bundles carry no `node:` import at all (bundlers for the web choke on it,
// and a browser would try to fetch it).

export interface FileHandleLike {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** The part of node:fs/promises bitembed uses. */
export interface FileSystem {
  readFile(path: string | URL): Promise<Uint8Array>;
  stat(path: string | URL): Promise<{ size: number; isDirectory(): boolean; isFile(): boolean }>;
  open(path: string | URL, flags: "r"): Promise<FileHandleLike>;
}

let provider: (() => Promise<FileSystem>) | undefined;

/** Called by the entries of runtimes that have files (Node, Deno, Bun). */
export function provideFileSystem(load: () => Promise<FileSystem>): void {
  provider = load;
}

export function hasFileSystem(): boolean {
  return provider !== undefined;
}

/** The file system, or undefined in browsers and workers. */
export async function fileSystem(): Promise<FileSystem | undefined> {
  return provider?.();
}

/** A string with a URL scheme (two letters or more, so "C:\\..." stays a path). */
export function hasScheme(s: string): boolean {
  return /^[a-z][a-z0-9+.-]+:/i.test(s);
}

/** A file: URL or a path as the file system takes it, with the name to show in messages. */
export function filePath(path: string | URL): { path: string | URL; name: string } {
  if (path instanceof URL) return { path, name: decodeURIComponent(path.pathname) };
  if (/^file:/i.test(path)) return filePath(new URL(path));
  return { path, name: path };
}

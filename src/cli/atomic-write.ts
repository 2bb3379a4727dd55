// Writing the command's output without ever losing data. OUT is written to a temporary file beside it, flushed
// to disk, then renamed over OUT in one step: a failure at any point (a full disk, an error halfway through a
// conversion, a crash) leaves OUT as it was, absent or whole, and the temporary file is removed. IN and OUT
// that name one file (the same path, a symlink, a hard link) are refused before any work is done.
import { lstat, open, realpath, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Whether two paths name one existing file: by real path, or by device and inode (hard links). */
export async function sameFile(a: string, b: string): Promise<boolean> {
  const [ra, rb] = await Promise.all([realpath(a).catch(() => undefined), realpath(b).catch(() => undefined)]);
  if (ra === undefined || rb === undefined) return false;
  if (ra === rb) return true;
  const [sa, sb] = await Promise.all([stat(ra), stat(rb)]);
  return sa.dev === sb.dev && sa.ino === sb.ino;
}

/** Write `data` to `path` through a temporary file and a rename (see above). Returns the path written. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<string> {
  // an existing symlink is written through, as a plain write would
  const target = await lstat(path).then(
    (s) => (s.isSymbolicLink() ? realpath(path) : path),
    () => path,
  );
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  const fh = await open(tmp, "wx");
  let renamed = false;
  try {
    try {
      for (let at = 0; at < data.byteLength; ) {
        const { bytesWritten } = await fh.write(data, at, Math.min(data.byteLength - at, 1 << 24));
        at += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
    renamed = true;
  } finally {
    if (!renamed) await unlink(tmp).catch(() => {});
  }
  return target;
}

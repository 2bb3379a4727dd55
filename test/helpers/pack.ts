// The package as users get it: `npm pack` of this checkout (after `npm run build`), unpacked or installed
// into a scratch project under build/ (no registry: the tarball is a local file).
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { built, root } from "../runtimes/harness.js";

export interface Packed {
  tarball: string;
  files: { path: string; size: number }[];
  size: number;
  unpackedSize: number;
}

/** `npm pack` into `dir` (emptied first); the tarball's path and what it holds. */
export function pack(dir: string): Packed {
  built("build/node.js");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // --ignore-scripts: `npm test` has just built; prepack would build again
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { cwd: root, encoding: "utf8" });
  const [info] = JSON.parse(out.slice(out.indexOf("[")));
  return { tarball: join(dir, info.filename), files: info.files, size: info.size, unpackedSize: info.unpackedSize };
}

/** A scratch project in `dir` with the packed package unpacked as node_modules/bitembed (no npm involved). */
export function scratchWithPackage(dir: string): Packed {
  const packed = pack(join(dir, "tarball"));
  const target = join(dir, "node_modules", "bitembed");
  mkdirSync(target, { recursive: true });
  execFileSync("tar", ["-xzf", packed.tarball, "-C", target, "--strip-components=1"]);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }, null, 2));
  return packed;
}

// Run by `npm test` before the suites: installs the test tools (test/package.json: Node 24, Deno, Bun, workerd,
// Chromium's driver, the bundlers, the real tables) into test/node_modules when they are missing or not the
// versions test/package-lock.json pins. The root package keeps only what building needs, so that
// `npm ci && npm run demo` installs ~190 MB instead of ~1.1 GB.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const test = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "test");
const lock = JSON.parse(readFileSync(join(test, "package-lock.json"), "utf8"));
const stale = Object.entries(lock.packages)
  .filter(([path]) => path.startsWith("node_modules/"))
  .filter(([path, info]) => {
    const file = join(test, path, "package.json");
    return !info.optional && (!existsSync(file) || JSON.parse(readFileSync(file, "utf8")).version !== info.version);
  });
if (stale.length > 0) {
  console.log(`test tools: installing into test/node_modules (${stale.length} packages missing or stale, e.g. ${stale[0][0]})`);
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: test, stdio: "inherit" });
}

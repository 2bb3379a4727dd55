// Copies a few of llama.cpp's vocabulary GGUFs (models/ggml-vocab-*.gguf, written by llama.cpp's own
// convert scripts) into test/fixtures/vocab/. They ship inside the node-llama-cpp npm package, whose
// llama/gitRelease.bundle is a git bundle of the llama.cpp source (3.22.1 bundles tag v0.5.0's
// llama.cpp, commit de3ff815ea7d559ee917f063901b8986f038abc6). node-llama-cpp is NOT a dependency:
//
//   node scripts/extract-vocab-fixtures.mjs            # npm pack node-llama-cpp@3.22.1 into a temp dir
//   node scripts/extract-vocab-fixtures.mjs FILE.tgz   # or use a tarball you already have
//
// Needs npm (for pack), tar and git on PATH.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const VERSION = "3.22.1";
// small ones covering three tokenizer families: SentencePiece (llama), WordPiece (bert), SPM with phi-3 extras
const PICK = ["ggml-vocab-llama-spm.gguf", "ggml-vocab-bert-bge.gguf", "ggml-vocab-phi-3.gguf"];

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "test", "fixtures", "vocab");
const work = mkdtempSync(join(tmpdir(), "bitembed-vocab-"));
const run = (cmd, args, cwd = work) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "inherit"] }).toString();

let tarball = process.argv[2] && resolve(process.argv[2]);
if (!tarball) {
  run("npm", ["pack", `node-llama-cpp@${VERSION}`, "--silent"]);
  tarball = join(work, readdirSync(work).find((f) => f.endsWith(".tgz")));
}
run("tar", ["xzf", tarball, "package/llama/gitRelease.bundle"]);
run("git", ["-c", "advice.detachedHead=false", "clone", "--quiet", join(work, "package/llama/gitRelease.bundle"), "llama.cpp"]);
const models = join(work, "llama.cpp", "models");
const commit = run("git", ["rev-parse", "HEAD"], join(work, "llama.cpp")).trim();
for (const name of PICK) {
  copyFileSync(join(models, name), join(out, name));
  console.log(`${name}: ${statSync(join(out, name)).size} bytes (llama.cpp ${commit})`);
}
console.log(`work files left in ${work}`);

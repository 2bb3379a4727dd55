// File reading: GGUF headers (llama.cpp's vocabulary files: 30-32k tokens of metadata each) parsed by
// bitembed's readGGUF and by @huggingface/gguf, and a 64 MiB f16 token table loaded from a file path into
// wasm memory (chunked reads straight into the table) against reading the whole file then copying it in.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gguf as hfGguf } from "@huggingface/gguf";
import { init, readGGUF, writeGGUF } from "../build/node.js";
import { fmt, machineLine, medianAsync, table } from "./harness.mjs";

const VOCAB = ["ggml-vocab-llama-spm.gguf", "ggml-vocab-bert-bge.gguf", "ggml-vocab-phi-3.gguf"];

export async function run(report) {
  const rt = await init();
  const rows = [];
  for (const name of VOCAB) {
    const path = fileURLToPath(new URL(`../test/fixtures/vocab/${name}`, import.meta.url));
    const ours = await medianAsync(() => readGGUF(path), { runs: 9, warmup: 2 });
    const hf = await medianAsync(() => hfGguf(path, { allowLocalFile: true }), { runs: 9, warmup: 2 });
    rows.push([name, fmt(ours), fmt(hf), fmt(hf / ours)]);
  }

  // a 32000 x 1024 f16 table (64 MiB) behind 8 MiB of other tensors
  const dir = mkdtempSync(join(tmpdir(), "bitembed-bench-io-"));
  const path = join(dir, "model.gguf");
  const vocab = 32000;
  const dim = 1024;
  writeFileSync(
    path,
    writeGGUF({
      metadata: { "general.architecture": "llama" },
      tensors: [
        { name: "blk.0.attn_q.weight", format: "f32", dims: [1024, 2048], data: new Uint8Array(8 << 20) },
        { name: "token_embd.weight", format: "f16", dims: [dim, vocab], data: new Uint8Array(vocab * dim * 2).fill(0x3c) },
      ],
    }),
  );
  const g = await readGGUF(path);
  const lazy = await medianAsync(async () => (await g.loadTable(rt, "token_embd.weight")).dispose(), { runs: 7, warmup: 1 });
  const whole = await medianAsync(
    async () => {
      const t = g.tensor("token_embd.weight");
      const file = readFileSync(path);
      rt.table({ vocab, dim, format: "f16", data: file.subarray(t.offset, t.offset + t.byteLength) }).dispose();
    },
    { runs: 7, warmup: 1 },
  );
  rmSync(dir, { recursive: true });
  const mib = (vocab * dim * 2) / 2 ** 20;
  const md = [
    "### Reading files",
    "",
    "GGUF header parse (all metadata, 30-32k token strings), median ms of 9 runs, file already in the page cache:",
    "",
    table(["file", "bitembed readGGUF", "@huggingface/gguf", "ratio"], rows),
    "",
    `Loading a ${mib} MiB f16 token table from a file path (7 runs): chunked reads into wasm memory ${fmt(lazy)} ms ` +
      `(${fmt(mib / (lazy / 1000))} MiB/s), whole file read then copied in ${fmt(whole)} ms; the chunked path holds at most ` +
      "4 MiB of the table in JS at once and never reads the other tensors.",
  ].join("\n");
  if (typeof report === "function") report(md);
  return md;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(machineLine());
  console.log(await run());
}

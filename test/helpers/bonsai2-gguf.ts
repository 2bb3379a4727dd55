// A GGUF built like a Ternary Bonsai 2 file (docs/BONSAI2.md §4): qwen35 metadata, `prism.hadamard.*` with
// explicit signs for two widths (the model width D and an FFN width F), token_embd.weight as PTQ1_0 in the latent
// basis, output.weight as PQ2_0 folded (untied, version 1), or the tied version 2 without output.weight, and one
// small layer tensor of width F (so the widths check has a second tensor to look at).
// The values come with their float64 meaning, made by the plain references (no bitembed kernel involved):
//   tokens: latent rows z exactly ternary (codes times an f16 scale per 128-block, as Bonsai 2 stores them), so
//           the real rows e = s * H(z) are known exactly (sums of few-bit values: exact in f32 too);
//   head:   real rows w (random), stored = PQ2_0 of H(s * w): the fold then the quantization a converter makes.
import { writeGGUF, type MetadataValue } from "../../src/index.js";
import { reference as pq2Ref } from "../reference/formats/pq2_0.js";
import { reference as ptq1Ref } from "../reference/formats/ptq1_0.js";
import { fwhtRef } from "../reference/hadamard.js";
import { randomValues } from "./values.js";

export interface Bonsai2Options {
  vocab?: number;
  dim?: number;
  ffn?: number;
  block?: number;
  /** version 2: tied output, no output.weight. */
  tied?: boolean;
  signMode?: "explicit" | "identity";
  /** Metadata to set (undefined deletes the key) and stored types to force, after the defaults. */
  metadata?: Record<string, MetadataValue | undefined>;
  types?: Record<string, string>;
  /** Leave out output.weight even in version 1. */
  noOutput?: boolean;
}

export interface Bonsai2File {
  bytes: Uint8Array;
  vocab: number;
  dim: number;
  block: number;
  /** The sign vector of width D (undefined in identity mode). */
  signs?: Float32Array;
  /** Real token rows e = s * H(z) (V x D, float64) and the stored latent rows z (the PTQ1_0 values). */
  tokens: Float64Array;
  tokensLatent: Float32Array;
  tokenBytes: Uint8Array;
  /** Real head rows w (float64), their fold H(s * w) before quantization, the PQ2_0 bytes and values. */
  head: Float64Array;
  headFolded: Float64Array;
  headBytes: Uint8Array;
  headLatent: Float32Array;
}

const signsOf = (n: number, seed: number) => Float32Array.from(randomValues(n, seed), (v) => (v < 0 ? -1 : 1));

type Tables = Omit<Bonsai2File, "bytes" | "vocab" | "dim" | "block">;
const made = new Map<string, Tables>();

// The rows and their bytes for one shape (the slow part, float64 in JS: made once per shape and sign mode).
function tables(vocab: number, dim: number, block: number, explicit: boolean): Tables {
  const key = `${vocab} ${dim} ${block} ${explicit}`;
  const cached = made.get(key);
  if (cached) return cached;
  const signs = explicit ? signsOf(dim, 11) : undefined;
  // latent token rows: ternary codes (each block has a +-1, so d = max|z| is the block's scale) times an f16 scale
  const codes = randomValues(vocab * dim, 13, 3);
  const scales = randomValues(vocab * (dim / 128), 14, 1);
  const tokensLatent = new Float32Array(vocab * dim);
  for (let i = 0; i < tokensLatent.length; i++) {
    const c = i % 128 === 5 ? 1 : Math.round(codes[i]) === 0 ? 0 : Math.sign(codes[i]);
    const d = 2 ** -6 * (1 + Math.round((scales[Math.floor(i / 128)] + 0.5) * 1023) / 1024);
    tokensLatent[i] = c * d;
  }
  const tokenBytes = ptq1Ref.quantize(tokensLatent);
  const tokens = fwhtRef(tokensLatent, dim, block, signs, true);
  // the head: real rows, folded, quantized
  const head = Float64Array.from(randomValues(vocab * dim, 15, 2));
  const headFolded = fwhtRef(head, dim, block, signs, false);
  const headBytes = pq2Ref.quantize(Float32Array.from(headFolded));
  const headLatent = pq2Ref.dequantize(headBytes);
  const t = { signs, tokens, tokensLatent, tokenBytes, head, headFolded, headBytes, headLatent };
  made.set(key, t);
  return t;
}

export function bonsai2Gguf(options: Bonsai2Options = {}): Bonsai2File {
  const { vocab = 100, dim = 2048, ffn = 3072, block = 1024, tied = false, signMode = "explicit" } = options;
  const explicit = signMode === "explicit";
  const t = tables(vocab, dim, block, explicit);
  const { signs, tokenBytes, headBytes } = t;
  const ffnSigns = signsOf(ffn, 12);
  const weightNames = ["blk.0.attn_qkv.weight", "blk.0.attn_gate.weight", "blk.0.ffn_up.weight", "blk.0.ffn_down.weight", "blk.0.ssm_out.weight"];
  if (!tied) weightNames.push("output.weight");
  const metadata: Record<string, MetadataValue> = {
    "general.architecture": "qwen35",
    "qwen35.embedding_length": dim,
    "qwen35.feed_forward_length": ffn,
    "qwen35.block_count": 1,
    "qwen35.attention.head_count": 16,
    "qwen35.rope.freq_base": 10000000,
    "tokenizer.ggml.tokens": Array.from({ length: vocab }, (_, i) => `t${i}`),
    "prism.hadamard.version": tied ? 2 : 1,
    "prism.hadamard.block_size": block,
    "prism.hadamard.transform": "normalized-sylvester-walsh-hadamard",
    "prism.hadamard.axis": "input-last-dimension",
    "prism.hadamard.sign_mode": signMode,
    "prism.hadamard.weight_names": weightNames,
    "prism.hadamard.inverse_weight_names": ["token_embd.weight"],
    "prism.hadamard.gdn_v_grouped": true,
  };
  if (explicit) {
    metadata["prism.hadamard.sign_widths"] = Int32Array.from([dim, ffn]);
    metadata["prism.hadamard.sign_values"] = Int32Array.from([...signs!, ...ffnSigns]);
  }
  if (tied) metadata["prism.hadamard.tied_output"] = true;
  const types: Record<string, string> = { "qwen35.rope.freq_base": "f32", ...(options.types ?? {}) };
  for (const [k, v] of Object.entries(options.metadata ?? {})) {
    if (v === undefined) delete metadata[k];
    else metadata[k] = v;
  }
  const tensors = [
    { name: "token_embd.weight", format: "ptq1_0", dims: [dim, vocab], data: tokenBytes },
    { name: "blk.0.ffn_down.weight", format: "f32", dims: [ffn, 4], data: new Float32Array(ffn * 4) },
  ];
  if (!tied && !options.noOutput) tensors.push({ name: "output.weight", format: "pq2_0", dims: [dim, vocab], data: headBytes });
  const bytes = writeGGUF({ metadata, types, tensors });
  return { bytes, vocab, dim, block, ...t };
}

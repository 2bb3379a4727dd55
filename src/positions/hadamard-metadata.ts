// The `prism.hadamard.*` keys of a Ternary Bonsai 2 GGUF: read with the fork loader's strict types and checked
// against the file's tensors, or refused with an error that names the key and what was expected.
// A file without `prism.hadamard.version` is not rotated (the fork then reads none of the other keys).
// see: docs/BONSAI2.md §4.1 (keys, types, checks), §4.3 (which tensors), §4.5 (untied v1 and tied v2 heads).

import { errors } from "../core/errors.js";
import type { MetadataValue } from "../io/gguf-values.js";

/** A file's rotation, checked: which stored tensors are in the rotated basis and the sign vector of each width. */
export interface HadamardRotation {
  /** 1: untied head (Bonsai 2 27B); 2: the latent token table is also the head (`tied_output`). */
  version: 1 | 2;
  /** B, a power of two dividing the width of every rotated tensor. */
  block: number;
  transform: "normalized-sylvester-walsh-hadamard";
  axis: "input-last-dimension";
  signMode: "identity" | "explicit";
  /** Sign vectors (+-1, as f32) by the input width they apply to; empty in "identity" mode. */
  signs: ReadonlyMap<number, Float32Array>;
  /** Folded weights: their activations get y = H(s * x) (forward). */
  weightNames: readonly string[];
  /** Latent lookup tables: their rows get y = s * H(z) (inverse). */
  inverseWeightNames: readonly string[];
  /** `ssm_out` activations are permuted first (not used by an embedding layer; kept for callers). */
  gdnVGrouped: boolean;
  tiedOutput: boolean;
}

const P = "prism.hadamard.";
const KEYS = ["version", "block_size", "transform", "axis", "sign_mode", "sign_widths", "sign_values", "weight_names", "inverse_weight_names", "gdn_v_grouped", "tied_output"];
const TRANSFORM = "normalized-sylvester-walsh-hadamard";
const AXIS = "input-last-dimension";
// see: §4.1, the names the fork routes (`…exps` and `…shexp` are the ffn_{gate,up,down} MoE variants)
const WEIGHT_NAME = /^(output\.weight|blk\.\d+\.(attn_q|attn_k|attn_v|attn_qkv|attn_gate|attn_output|ffn_gate|ffn_up|ffn_down|ffn_(gate|up|down)_(exps|shexp)|ssm_out)\.weight)$/;
const INVERSE_NAME = "token_embd.weight";

interface TensorShape {
  name: string;
  dims: readonly number[];
}

/**
 * The rotation a GGUF's metadata declares, or undefined when it declares none. `types` are the stored GGUF types
 * by key (readGGUF's `types`); `tensors` the file's tensors (their names and ggml dims, dims[0] the input width).
 */
export function readRotation(
  metadata: Record<string, MetadataValue>,
  types: Record<string, string>,
  tensors: readonly TensorShape[],
): HadamardRotation | undefined {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(metadata, P + k);
  const bad = (k: string, expected: string): never => {
    throw errors.rotationKey(P + k, has(k) ? metadata[P + k] : undefined, has(k) ? types[P + k] : undefined, expected);
  };
  if (!has("version")) {
    if (has("tied_output") && metadata[P + "tied_output"] === true) bad("version", "2 when `prism.hadamard.tied_output` is true");
    return undefined;
  }
  for (const key of Object.keys(metadata)) {
    if (key.startsWith(P) && !KEYS.includes(key.slice(P.length))) throw errors.rotationUnknownKey(key, KEYS.map((k) => P + k));
  }
  // strict scalar types, as the fork's loader reads them
  const u32 = (k: string, expected: string): number => {
    const v = metadata[P + k];
    if (types[P + k] !== "u32" || typeof v !== "number") bad(k, `a u32: ${expected}`);
    return v as number;
  };
  const str = (k: string, expected: string): string => {
    const v = metadata[P + k];
    if (types[P + k] !== "string" || typeof v !== "string") bad(k, `a string: ${expected}`);
    return v as string;
  };
  const bool = (k: string): boolean => {
    if (!has(k)) return false;
    if (types[P + k] !== "bool" || typeof metadata[P + k] !== "boolean") bad(k, "a bool");
    return metadata[P + k] as boolean;
  };
  const names = (k: string, required: boolean): string[] => {
    if (!has(k) && !required) return [];
    const v = metadata[P + k];
    if (types[P + k] !== "array<string>" || !Array.isArray(v) || (required && v.length === 0)) bad(k, `a${required ? " non-empty" : "n"} array of tensor names`);
    const list = v as string[];
    if (new Set(list).size !== list.length) bad(k, "tensor names without repeats");
    return list;
  };

  const version = u32("version", "1 or 2");
  if (version !== 1 && version !== 2) bad("version", "a u32: 1 or 2");
  const block = u32("block_size", "a power of two");
  if (!(block >= 1 && (block & (block - 1)) === 0)) bad("block_size", "a u32: a power of two");
  if (str("transform", JSON.stringify(TRANSFORM)) !== TRANSFORM) bad("transform", `a string: ${JSON.stringify(TRANSFORM)}`);
  if (str("axis", JSON.stringify(AXIS)) !== AXIS) bad("axis", `a string: ${JSON.stringify(AXIS)}`);
  const signMode = str("sign_mode", '"identity" or "explicit"');
  if (signMode !== "identity" && signMode !== "explicit") bad("sign_mode", 'a string: "identity" or "explicit"');

  const signs = new Map<number, Float32Array>();
  if (signMode === "identity") {
    for (const k of ["sign_widths", "sign_values"]) if (has(k)) bad(k, 'no sign vectors when `prism.hadamard.sign_mode` is "identity"');
  } else {
    const widths = metadata[P + "sign_widths"];
    if (!((types[P + "sign_widths"] === "array<i32>" || types[P + "sign_widths"] === "array<u32>") && ArrayBuffer.isView(widths) && (widths as Int32Array).length > 0)) {
      bad("sign_widths", 'a non-empty array of i32 (or u32) widths when `prism.hadamard.sign_mode` is "explicit"');
    }
    const values = metadata[P + "sign_values"];
    if (!(types[P + "sign_values"] === "array<i32>" && values instanceof Int32Array)) {
      bad("sign_values", 'an array of i32 (+1 and -1) when `prism.hadamard.sign_mode` is "explicit"');
    }
    const w = Array.from(widths as Int32Array);
    const total = w.reduce((a, b) => a + b, 0);
    w.forEach((width, i) => {
      if (!(width > 0 && width % block === 0)) throw errors.rotationKey(`${P}sign_widths[${i}]`, width, undefined, `a positive multiple of \`${P}block_size\` (${block})`);
      if (signs.has(width)) throw errors.rotationKey(`${P}sign_widths[${i}]`, width, undefined, "a width not listed before");
      signs.set(width, new Float32Array(width));
    });
    const v = values as Int32Array;
    if (v.length !== total) bad("sign_values", `${total} values (the sum of \`${P}sign_widths\`)`);
    let at = 0;
    for (const [width, s] of signs) {
      for (let j = 0; j < width; j++, at++) {
        if (v[at] !== 1 && v[at] !== -1) throw errors.rotationKey(`${P}sign_values[${at}]`, v[at], undefined, "+1 or -1");
        s[j] = v[at];
      }
    }
  }

  const weightNames = names("weight_names", true);
  weightNames.forEach((n, i) => {
    if (!WEIGHT_NAME.test(n)) throw errors.rotationKey(`${P}weight_names[${i}]`, n, undefined, "output.weight or blk.N.{attn_q, attn_k, attn_v, attn_qkv, attn_gate, attn_output, ffn_gate, ffn_up, ffn_down, ffn_*_exps, ffn_*_shexp, ssm_out}.weight");
  });
  const inverseWeightNames = names("inverse_weight_names", false);
  inverseWeightNames.forEach((n, i) => {
    if (n !== INVERSE_NAME) throw errors.rotationKey(`${P}inverse_weight_names[${i}]`, n, undefined, JSON.stringify(INVERSE_NAME));
  });
  const gdnVGrouped = bool("gdn_v_grouped");
  const tiedOutput = bool("tied_output");

  // the head: v2 is exactly the tied contract, v1 needs its own output.weight when the token table is latent
  const present = new Map(tensors.map((t) => [t.name, t]));
  const latentTokens = inverseWeightNames.includes(INVERSE_NAME);
  if ((version === 2) !== tiedOutput) bad(version === 2 ? "tied_output" : "version", version === 2 ? "true in version 2" : "2 when `prism.hadamard.tied_output` is true");
  if (version === 2) {
    if (!latentTokens) bad("inverse_weight_names", `to hold ${JSON.stringify(INVERSE_NAME)} in version 2 (tied output)`);
    if (weightNames.includes("output.weight")) bad("weight_names", "no output.weight in version 2 (the token table is the head)");
    if (present.has("output.weight")) bad("tied_output", "false: the file has an output.weight tensor, which version 2 (tied output) forbids");
  } else if (latentTokens && !present.has("output.weight")) {
    bad("version", "2 with `prism.hadamard.tied_output`: version 1 needs an output.weight beside a latent token_embd.weight, and this file has none");
  }

  // every rotated tensor in the file: whole blocks, and a sign vector for its width
  for (const name of [...weightNames, ...inverseWeightNames]) {
    const t = present.get(name);
    if (t === undefined) continue; // an embedding-only file lists the layers it does not carry
    const width = t.dims[0];
    if (width % block !== 0) bad("block_size", `a divisor of the width of ${name} (${width})`);
    if (signMode === "explicit" && !signs.has(width)) bad("sign_widths", `a sign vector of width ${width} (for ${name})`);
  }

  return {
    version: version as 1 | 2,
    block,
    transform: TRANSFORM,
    axis: AXIS,
    signMode: signMode as "identity" | "explicit",
    signs,
    weightNames,
    inverseWeightNames,
    gdnVGrouped,
    tiedOutput,
  };
}

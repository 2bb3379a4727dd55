// Text -> token ids for static models. bitembed writes no tokenizer of its own: a model's tokenizer.json runs
// in @huggingface/tokenizers (pure JS, no dependencies), an optional peer dependency imported only when text
// is encoded without a tokenizer given. Word tables (GloVe, word2vec) split on whitespace and look words up.
import { errors } from "../core/errors.js";

/** Anything with `encode(text) -> { ids }` or `-> ids`: a @huggingface/tokenizers Tokenizer, or your own. */
export interface TokenizerLike {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: ArrayLike<number> } | ArrayLike<number>;
}

/** The @huggingface/tokenizers module (or one shaped like it): `new Tokenizer(tokenizerJson, tokenizerConfig)`. */
export interface TokenizerModule {
  Tokenizer: new (tokenizerJson: object, tokenizerConfig: object) => TokenizerLike;
}

export function isTokenizerLike(x: unknown): x is TokenizerLike {
  return typeof x === "object" && x !== null && typeof (x as TokenizerLike).encode === "function";
}

export function isTokenizerModule(x: unknown): x is TokenizerModule {
  return typeof x === "object" && x !== null && typeof (x as TokenizerModule).Tokenizer === "function";
}

/**
 * A tokenizer for `tokenizerJson` from the given module, or from @huggingface/tokenizers imported now.
 * Returns the reason instead when neither is available (encoding ids still works then).
 */
export async function tokenizerFromJSON(tokenizerJson: object, module?: TokenizerModule): Promise<TokenizerLike | string> {
  let mod = module;
  if (mod === undefined) {
    // a specifier in a variable, marked for Vite and webpack to leave alone (webpack warns on an expression
    // otherwise; test/bundlers.test.ts checks): pass the module in `tokenizer` where a bundler must see it
    const specifier = "@huggingface/tokenizers";
    try {
      mod = (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as TokenizerModule;
    } catch (e) {
      return `@huggingface/tokenizers could not be imported (${(e as Error)?.message ?? String(e)})`;
    }
  }
  try {
    return new mod.Tokenizer(tokenizerJson, {});
  } catch (e) {
    throw errors.badFile("tokenizer.json", "tokenizer.json", 0, `the tokenizer library refused it (${(e as Error)?.message ?? String(e)})`);
  }
}

/** Ids of one text, special tokens left out (model2vec encodes without them). */
export function encodeText(tokenizer: TokenizerLike, text: string): ArrayLike<number> {
  const e = tokenizer.encode(text, { add_special_tokens: false });
  return "ids" in (e as object) && !ArrayBuffer.isView(e) && !Array.isArray(e) ? (e as { ids: ArrayLike<number> }).ids : (e as ArrayLike<number>);
}

/** The unknown token's id, where the tokenizer says (tokenizers.js models keep `unk_token_id`). */
export function unknownId(tokenizer: TokenizerLike): number | undefined {
  const id = (tokenizer as { model?: { unk_token_id?: unknown } }).model?.unk_token_id;
  return typeof id === "number" && Number.isInteger(id) && id >= 0 ? id : undefined;
}

/** Whitespace words looked up in a word table: exact first, then lower case; the rest are unknown. */
export class WordTokenizer {
  private readonly index = new Map<string, number>();

  constructor(words: readonly string[]) {
    // the first occurrence wins (files list words by frequency)
    words.forEach((w, i) => {
      if (!this.index.has(w)) this.index.set(w, i);
    });
  }

  /** Ids of the known words and how many words were not found. */
  words(text: string): { ids: number[]; unknown: number } {
    const ids: number[] = [];
    let unknown = 0;
    for (const word of text.split(/\s+/)) {
      if (word === "") continue;
      const id = this.index.get(word) ?? this.index.get(word.toLowerCase());
      if (id === undefined) unknown++;
      else ids.push(id);
    }
    return { ids, unknown };
  }
}

/**
 * A byte-level BPE tokenizer as GPT-2 builds it: text is split by GPT-2's pre-tokenisation pattern,
 * each piece's UTF-8 bytes become characters of GPT-2's byte-to-unicode alphabet, and merges join
 * the most frequent adjacent pair until the vocabulary is full. Written as Hugging Face
 * `tokenizer.json` (ByteLevel pre-tokenizer and decoder, BPE model) and `tokenizer_config.json`.
 *
 * Vocabulary layout: ids 0-255 the bytes in byte order, then one id per merge in merge order, then
 * the special tokens.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** GPT-2's pre-tokenisation pattern, as Hugging Face's ByteLevel pre-tokenizer applies it. */
export const PRE_TOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export const ENDOFTEXT = '<|endoftext|>';
export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';
export const SPECIAL_TOKENS = [ENDOFTEXT, IM_START, IM_END] as const;

/** ChatML for any role; the generation prompt opens an assistant turn. */
export const CHAT_TEMPLATE =
  '{%- for message in messages %}' +
  "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}" +
  '{%- endfor %}' +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/** GPT-2's bijection from bytes to characters: printable Latin-1 bytes stand for themselves, the rest for U+0100 upwards. */
export const BYTE_ALPHABET: readonly string[] = (() => {
  const alphabet: string[] = [];
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
    alphabet.push(String.fromCodePoint(printable ? byte : next++));
  }
  return alphabet;
})();

export class BpeError extends Error {
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, message: string) {
    super(message);
    this.name = 'BpeError';
    this.field = field;
    this.value = value;
  }
}

/** GPT-2's pre-tokens of a text. */
export function preTokenize(text: string): string[] {
  return text.match(PRE_TOKENIZE) ?? [];
}

/** How often each pre-token occurs in the texts. */
export function countPreTokens(texts: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of preTokenize(text)) counts.set(piece, (counts.get(piece) ?? 0) + 1);
  }
  return counts;
}

const encoder = new TextEncoder();

/** A pre-token's bytes as byte ids (0-255). */
function byteIds(piece: string): number[] {
  return Array.from(encoder.encode(piece));
}

export interface BpeModel {
  /** Token strings by id: the 256 byte characters, then one per merge. Special tokens are not included. */
  readonly tokens: readonly string[];
  /** Merges in priority order, as pairs of token strings. */
  readonly merges: readonly (readonly [string, string])[];
}

// Token ids stay below 2^16, so a pair packs into one number.
const PAIR_BASE = 65536;

/**
 * Learns merges until `tokenCount` tokens (bytes plus merges) exist or no pair occurs twice. Each
 * merge takes the pair with the highest count; ties go to the pair whose left token, then right
 * token, sorts first by UTF-16 code units. Only the words a merge touches are recounted.
 */
export function trainBpe(preTokenCounts: ReadonlyMap<string, number>, tokenCount: number): BpeModel {
  if (!Number.isInteger(tokenCount) || tokenCount < 256 || tokenCount > PAIR_BASE) {
    throw new BpeError(
      'tokenCount',
      tokenCount,
      `tokenCount must be an integer from 256 to ${PAIR_BASE}, got ${tokenCount}`,
    );
  }
  const tokens = [...BYTE_ALPHABET];
  const merges: [string, string][] = [];
  // Sorted, so that the result does not depend on the map's insertion order.
  const pieces = [...preTokenCounts.keys()].sort();
  const words = pieces.map(byteIds);
  const frequencies = pieces.map((piece) => preTokenCounts.get(piece) as number);
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();

  const addPairs = (index: number, sign: 1 | -1): void => {
    const word = words[index] as number[];
    const frequency = (frequencies[index] as number) * sign;
    for (let i = 0; i + 1 < word.length; i++) {
      const pair = (word[i] as number) * PAIR_BASE + (word[i + 1] as number);
      const count = (pairCounts.get(pair) ?? 0) + frequency;
      if (count === 0) pairCounts.delete(pair);
      else pairCounts.set(pair, count);
      if (sign === 1) {
        let holders = pairWords.get(pair);
        if (!holders) {
          holders = new Set();
          pairWords.set(pair, holders);
        }
        holders.add(index);
      }
    }
  };
  for (let index = 0; index < words.length; index++) addPairs(index, 1);

  while (tokens.length < tokenCount) {
    let best = -1;
    let bestCount = 1;
    for (const [pair, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== -1 && comesFirst(tokens, pair, best))) {
        best = pair;
        bestCount = count;
      }
    }
    if (best === -1) break;
    const left = Math.floor(best / PAIR_BASE);
    const right = best % PAIR_BASE;
    const merged = tokens.length;
    tokens.push((tokens[left] as string) + (tokens[right] as string));
    merges.push([tokens[left] as string, tokens[right] as string]);
    const holders = [...(pairWords.get(best) ?? [])].sort((a, b) => a - b);
    pairWords.delete(best);
    for (const index of holders) {
      const word = words[index] as number[];
      if (!containsPair(word, left, right)) continue;
      addPairs(index, -1);
      words[index] = mergePair(word, left, right, merged);
      addPairs(index, 1);
    }
    pairCounts.delete(best);
  }
  return { tokens, merges };
}

function comesFirst(tokens: readonly string[], pair: number, other: number): boolean {
  const order = compareStrings(
    tokens[Math.floor(pair / PAIR_BASE)] as string,
    tokens[Math.floor(other / PAIR_BASE)] as string,
  );
  if (order !== 0) return order < 0;
  return compareStrings(tokens[pair % PAIR_BASE] as string, tokens[other % PAIR_BASE] as string) < 0;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function containsPair(word: readonly number[], left: number, right: number): boolean {
  for (let i = 0; i + 1 < word.length; i++) if (word[i] === left && word[i + 1] === right) return true;
  return false;
}

/** Replaces each occurrence of (left, right), scanning left to right without overlaps, by `merged`. */
function mergePair(word: readonly number[], left: number, right: number, merged: number): number[] {
  const result: number[] = [];
  for (let i = 0; i < word.length; i++) {
    if (i + 1 < word.length && word[i] === left && word[i + 1] === right) {
      result.push(merged);
      i += 1;
    } else result.push(word[i] as number);
  }
  return result;
}

/**
 * Encodes text without special tokens as Hugging Face's BPE model does with these merges: in each
 * pre-token, the pair of lowest merge rank is merged at every occurrence, left to right, until none
 * is left. Pre-tokens are cached.
 */
export class BpeEncoder {
  readonly #ranks = new Map<number, number>();
  /** The pair each merge joins, by merge id. */
  readonly #pairs: number[] = [];
  readonly #cache = new Map<string, readonly number[]>();

  constructor(model: BpeModel) {
    const ids = new Map(model.tokens.map((token, id) => [token, id]));
    for (const [rank, [left, right]] of model.merges.entries()) {
      const pair = (ids.get(left) as number) * PAIR_BASE + (ids.get(right) as number);
      this.#ranks.set(pair, 256 + rank);
      this.#pairs[256 + rank] = pair;
    }
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const piece of preTokenize(text)) {
      let cached = this.#cache.get(piece);
      if (!cached) {
        cached = this.#encodePiece(piece);
        this.#cache.set(piece, cached);
      }
      for (const id of cached) ids.push(id);
    }
    return ids;
  }

  #encodePiece(piece: string): number[] {
    let word = byteIds(piece);
    for (;;) {
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.#ranks.get((word[i] as number) * PAIR_BASE + (word[i + 1] as number));
        if (rank !== undefined && rank < bestRank) bestRank = rank;
      }
      if (bestRank === Number.POSITIVE_INFINITY) return word;
      // A merge's id is its rank: ids 256 upwards in merge order.
      const pair = this.#pairs[bestRank] as number;
      word = mergePair(word, Math.floor(pair / PAIR_BASE), pair % PAIR_BASE, bestRank);
    }
  }
}

export interface TokenizerFiles {
  readonly tokenizer: Record<string, unknown>;
  readonly config: Record<string, unknown>;
  /** Tokens plus special tokens. */
  readonly vocabSize: number;
}

/** The Hugging Face tokenizer.json and tokenizer_config.json of a model, with the special tokens after its tokens. */
export function tokenizerFiles(model: BpeModel, modelMaxLength: number): TokenizerFiles {
  const vocab: Record<string, number> = {};
  for (const [id, token] of model.tokens.entries()) vocab[token] = id;
  const addedTokens = SPECIAL_TOKENS.map((content, index) => ({
    id: model.tokens.length + index,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: model.merges.map(([left, right]) => `${left} ${right}`),
    },
  };
  const config = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(addedTokens.map(({ id, ...token }) => [String(id), token])),
    bos_token: null,
    chat_template: CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: IM_END,
    pad_token: ENDOFTEXT,
    unk_token: null,
    model_max_length: modelMaxLength,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
  return { tokenizer, config, vocabSize: model.tokens.length + SPECIAL_TOKENS.length };
}

export function writeTokenizerFiles(dir: string, files: TokenizerFiles): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), `${JSON.stringify(files.tokenizer)}\n`);
  writeFileSync(join(dir, 'tokenizer_config.json'), `${JSON.stringify(files.config, null, 2)}\n`);
}

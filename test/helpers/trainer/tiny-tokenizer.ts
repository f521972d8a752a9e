/**
 * A tiny byte-level BPE tokenizer in Hugging Face layout, for tiny test models: the 256 byte tokens
 * (ids 0-255 in byte order, in GPT-2's byte-to-unicode alphabet), a few merges of common English pieces
 * (ids from 256), then the special tokens. tokenizer_config.json has a ChatML chat template, eos
 * `<|im_end|>` and pad `<|endoftext|>`, as Qwen's instruct models do.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TinyTokenizerOptions {
  /** tokenizer_config's chat template; null leaves it out. Default `tinyChatMlTemplate`. */
  readonly chatTemplate?: string | null;
  /**
   * Make `<|begin_of_text|>` the bos token and have the post-processor put it in front of every encoding
   * with special tokens, as Llama 2's does. Default false: no bos token, as Qwen.
   */
  readonly addBosToken?: boolean;
}

export const tinyChatMlTemplate =
  '{%- for message in messages %}' +
  "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}" +
  '{%- endfor %}' +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/** Merges in priority order, in the byte-level alphabet (`Ġ` is a space, `Ċ` a newline). */
export const tinyMerges: readonly (readonly [string, string])[] = [
  ['Ġ', 't'],
  ['h', 'e'],
  ['Ġt', 'he'],
  ['i', 'n'],
  ['e', 'r'],
  ['a', 'n'],
  ['o', 'u'],
  ['Ġ', 'a'],
  ['Ġ', 'w'],
  ['Ġ', 's'],
  ['o', 'n'],
  ['l', 'l'],
  ['e', 's'],
  ['i', 's'],
  ['o', 'r'],
  ['Ġ', 'i'],
  ['Ġi', 's'],
  ['Ċ', 'Ċ'],
  ['H', 'e'],
  ['He', 'll'],
  ['Hell', 'o'],
  ['Ġ', 'h'],
  ['Ġh', 'i'],
  ['Ġ', 'y'],
  ['Ġy', 'ou'],
  ['a', 't'],
  ['Ġ', 'c'],
  ['Ġc', 'at'],
];

export const tinySpecialTokens: readonly string[] = [
  '<|begin_of_text|>',
  '<|endoftext|>',
  '<|im_start|>',
  '<|im_end|>',
  '<|start_header_id|>',
  '<|end_header_id|>',
  '<|eot_id|>',
  '<|pad|>',
];

// GPT-2's bijection: printable Latin-1 bytes stand for themselves, the rest for U+0100 upwards.
function byteAlphabet(): string[] {
  const alphabet: string[] = [];
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
    alphabet.push(String.fromCodePoint(printable ? byte : next++));
  }
  return alphabet;
}

/** Writes tokenizer.json and tokenizer_config.json into `dir` (created if missing); returns the vocabulary size. */
export function writeTinyTokenizer(dir: string, options: TinyTokenizerOptions = {}): number {
  const vocab: Record<string, number> = {};
  for (const [byte, char] of byteAlphabet().entries()) vocab[char] = byte;
  for (const [left, right] of tinyMerges) vocab[left + right] = Object.keys(vocab).length;
  const firstSpecialId = Object.keys(vocab).length;
  const addedTokens = tinySpecialTokens.map((content, index) => ({
    id: firstSpecialId + index,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const bos = '<|begin_of_text|>';
  const bosId = firstSpecialId + tinySpecialTokens.indexOf(bos);
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true };
  const postProcessor = options.addBosToken
    ? {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [
          { SpecialToken: { id: bos, type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: bos, type_id: 1 } },
          { Sequence: { id: 'B', type_id: 1 } },
        ],
        special_tokens: { [bos]: { id: bos, ids: [bosId], tokens: [bos] } },
      }
    : byteLevel;
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: postProcessor,
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
      merges: tinyMerges.map(([left, right]) => `${left} ${right}`),
    },
  };
  const chatTemplate = options.chatTemplate === undefined ? tinyChatMlTemplate : options.chatTemplate;
  const config: Record<string, unknown> = {
    add_prefix_space: false,
    bos_token: options.addBosToken ? bos : null,
    eos_token: '<|im_end|>',
    pad_token: '<|endoftext|>',
    unk_token: null,
    clean_up_tokenization_spaces: false,
    model_max_length: 2048,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
  if (chatTemplate !== null) config.chat_template = chatTemplate;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), `${JSON.stringify(tokenizer, null, 2)}\n`);
  writeFileSync(join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return firstSpecialId + tinySpecialTokens.length;
}

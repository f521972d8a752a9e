import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import {
  type ApplyChatTemplateOptions,
  type CompiledTemplate,
  compileTemplate,
  fallbackTemplateSource,
  renderTemplate,
  type SpecialTokenStrings,
  type TemplateMessage,
} from './chat-template';
import { TokenizerError, TokenizerFileError } from './errors';
import {
  type AddedTokenSurface,
  alignTokens,
  type CharSpan,
  modelTokenBytes,
  type TokenSurface,
} from './offsets';

export interface EncodeOptions {
  /** Add what the tokenizer's post-processor adds (e.g. Llama 2's `<s>`). Default true, as in Hugging Face. */
  readonly addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (added tokens marked special, and `additional_special_tokens`). Default false. */
  readonly skipSpecialTokens?: boolean;
  /** Remove spaces before punctuation as transformers does; default tokenizer_config's value, else false. */
  readonly cleanUpTokenizationSpaces?: boolean;
}

export interface SpecialToken {
  readonly id: number;
  readonly content: string;
}

export interface EncodingWithOffsets {
  readonly ids: number[];
  /** Character span of each token in the text; null for the tokens the post-processor added. */
  readonly offsets: (CharSpan | null)[];
}

export type UnicodeNormalization = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

const tokenizerFileName = 'tokenizer.json';
const configFileName = 'tokenizer_config.json';
const templateFileName = 'chat_template.jinja';
const generationConfigFileName = 'generation_config.json';

// Split behaviours the tokenizer library reproduces; the others it silently treats as "Isolated".
const supportedSplitBehaviours = new Set(['Isolated', 'Removed']);
const unicodeForms = new Set<string>(['NFC', 'NFD', 'NFKC', 'NFKD']);
const namedSpecialTokens = [
  'bos_token',
  'eos_token',
  'unk_token',
  'sep_token',
  'pad_token',
  'cls_token',
  'mask_token',
] as const;
type NamedSpecialToken = (typeof namedSpecialTokens)[number];
// End-of-sequence tokens of common vocabularies, tried in order when tokenizer_config.json names none.
const eosCandidates = ['</s>', '<|endoftext|>', '<|end_of_text|>', '<|im_end|>', '<|eot_id|>'];

interface ParsedConfig {
  readonly named: Readonly<Partial<Record<NamedSpecialToken, string>>>;
  readonly additionalSpecialTokens: readonly string[];
  readonly cleanUpTokenizationSpaces: boolean;
  readonly raw: Readonly<Record<string, unknown>>;
}

interface TokenizerParts {
  readonly dir: string;
  readonly library: HfTokenizer;
  readonly json: Readonly<Record<string, unknown>>;
  readonly config: ParsedConfig;
  readonly templates: ReadonlyMap<string, CompiledTemplate>;
  readonly generationEosIds: readonly number[];
}

/**
 * A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) with its chat template. Encoding and
 * decoding are `@huggingface/tokenizers`, which reproduces Hugging Face's Rust `tokenizers` for the
 * byte-level BPE (Llama 3, Qwen, GPT-2) and SentencePiece-style BPE (Llama 2, Mistral) vocabularies.
 */
export class Tokenizer {
  readonly dir: string;
  /** Number of token ids: one more than the largest id of the vocabulary and the added tokens. */
  readonly vocabSize: number;
  /** tokenizer_config's `bos_token`; null when it names none (Qwen), since none should then be added. */
  readonly bosTokenId: number | null;
  /**
   * tokenizer_config's `eos_token`; when it names none, the first of `</s>`, `<|endoftext|>`,
   * `<|end_of_text|>`, `<|im_end|>`, `<|eot_id|>` in the vocabulary; else null.
   */
  readonly eosTokenId: number | null;
  /** `eosTokenId` followed by generation_config.json's `eos_token_id`(s), if that file exists: generation stops at any. */
  readonly eosTokenIds: readonly number[];
  /**
   * tokenizer_config's `pad_token`, else the eos token (as fine-tuning recipes set it), else the unk token,
   * else 0. Padded positions carry loss weight 0 and are masked, so any valid id serves.
   */
  readonly padTokenId: number;
  readonly unkTokenId: number | null;
  /** The added tokens marked special, by id. */
  readonly specialTokens: readonly SpecialToken[];
  /** False when the model has no chat template and `chatTemplate` is the ChatML fallback. */
  readonly hasChatTemplate: boolean;
  /** The source of the template `applyChatTemplate` uses when no tools are given. */
  readonly chatTemplate: string;
  /** The Unicode normalization the tokenizer's normalizer applies, if any (Qwen: NFC). */
  readonly unicodeNormalization: UnicodeNormalization | null;

  readonly #library: HfTokenizer;
  readonly #config: ParsedConfig;
  readonly #templates: ReadonlyMap<string, CompiledTemplate>;
  readonly #specialTokenStrings: SpecialTokenStrings;
  readonly #addedTokens: ReadonlyMap<number, AddedTokenSurface>;
  readonly #surface: TokenSurface;
  readonly #tokenBytes = new Map<number, Uint8Array | null>();

  constructor(parts: TokenizerParts) {
    this.dir = parts.dir;
    this.#library = parts.library;
    this.#config = parts.config;
    const file = join(parts.dir, configFileName);
    const model = parts.json.model as Record<string, unknown>;
    const addedTokens = parts.json.added_tokens as readonly Record<string, unknown>[];
    let largestId = -1;
    for (const id of Object.values(model.vocab as Record<string, number>)) {
      largestId = Math.max(largestId, id);
    }
    const added = new Map<number, AddedTokenSurface>();
    const special: SpecialToken[] = [];
    for (const token of addedTokens) {
      const id = token.id as number;
      const content = token.content as string;
      largestId = Math.max(largestId, id);
      added.set(id, { content, lstrip: token.lstrip === true, rstrip: token.rstrip === true });
      if (token.special === true) special.push({ id, content });
    }
    this.vocabSize = largestId + 1;
    this.#addedTokens = added;
    this.specialTokens = special.sort((a, b) => a.id - b.id);
    this.#surface = tokenSurface(parts.json);
    this.unicodeNormalization = unicodeNormalization(parts.json.normalizer);

    const namedId = (name: NamedSpecialToken): number | null => {
      const content = parts.config.named[name];
      if (content === undefined) return null;
      const id = this.tokenToId(content);
      if (id === undefined) {
        throw new TokenizerFileError(
          `"${name}" ${JSON.stringify(content)} is not a token of tokenizer.json`,
          {
            file,
            field: name,
          },
        );
      }
      return id;
    };
    this.bosTokenId = namedId('bos_token');
    this.unkTokenId = namedId('unk_token');
    this.eosTokenId =
      namedId('eos_token') ??
      eosCandidates.map((candidate) => this.tokenToId(candidate)).find((id) => id !== undefined) ??
      null;
    this.padTokenId = namedId('pad_token') ?? this.eosTokenId ?? this.unkTokenId ?? 0;
    const eosIds = this.eosTokenId === null ? [] : [this.eosTokenId];
    for (const id of parts.generationEosIds) if (!eosIds.includes(id)) eosIds.push(id);
    this.eosTokenIds = eosIds;

    const strings: Record<string, string | readonly string[]> = { ...parts.config.named };
    if (parts.config.additionalSpecialTokens.length > 0) {
      strings.additional_special_tokens = parts.config.additionalSpecialTokens;
    }
    this.#specialTokenStrings = strings;

    if (parts.templates.size > 0) {
      this.#templates = parts.templates;
      this.hasChatTemplate = true;
    } else {
      const eos = this.eosTokenId === null ? undefined : this.idToToken(this.eosTokenId);
      const endOfTurn = this.tokenToId('<|im_end|>') !== undefined ? '<|im_end|>' : (eos ?? '<|im_end|>');
      const source = fallbackTemplateSource(endOfTurn);
      this.#templates = new Map([['default', compileTemplate(source, 'fallback', 'chat_template', null)]]);
      this.hasChatTemplate = false;
    }
    this.chatTemplate = (this.#templates.get('default') as CompiledTemplate).source;
  }

  /** Token ids of `text`. Special tokens written in the text (`<|eot_id|>`) become their ids. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.#library.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  /**
   * Token ids of `text` and the character span each came from, as Hugging Face's offsets mapping. Fails
   * with a `TokenizerError` for tokenizers whose normalizer rewrites text other than by prepending a space
   * (lowercasing, stripping accents); pass text already in `unicodeNormalization`'s form.
   */
  encodeWithOffsets(text: string, options: EncodeOptions = {}): EncodingWithOffsets {
    const ids = this.encode(text, { addSpecialTokens: false });
    const spans = alignTokens({
      text,
      ids,
      addedToken: (id) => this.#addedTokens.get(id),
      tokenBytes: (id) => this.#modelTokenBytes(id),
    });
    if (!(options.addSpecialTokens ?? true)) return { ids, offsets: spans };
    const withSpecial = this.encode(text, { addSpecialTokens: true });
    const start = findRun(withSpecial, ids);
    if (start < 0)
      throw new TokenizerError('the post-processor changed the text tokens; offsets cannot be given');
    const offsets: (CharSpan | null)[] = withSpecial.map(() => null);
    for (const [index, span] of spans.entries()) offsets[start + index] = span;
    return { ids: withSpecial, offsets };
  }

  /** Text of `ids`. Ids with no token (beyond the vocabulary, as padded embedding rows give) are skipped. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const known = ids.filter((id) => this.#library.id_to_token(id) !== undefined);
    if (known.length === 0) return '';
    return this.#library.decode(known, {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces:
        options.cleanUpTokenizationSpaces ?? this.#config.cleanUpTokenizationSpaces,
    });
  }

  /** Id of a token string (vocabulary or added token), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.#library.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.#library.id_to_token(id);
  }

  /** `text` in the Unicode form the tokenizer normalizes to (unchanged when it has none). */
  normalizeUnicode(text: string): string {
    return this.unicodeNormalization === null ? text : text.normalize(this.unicodeNormalization);
  }

  /**
   * The conversation rendered by the chat template, as transformers' `apply_chat_template(tokenize=False)`.
   * A named template list uses "tool_use" when tools are given and it has one, else "default". Encode the
   * result with `addSpecialTokens: false`: templates write their own bos token.
   */
  applyChatTemplate(messages: readonly TemplateMessage[], options: ApplyChatTemplateOptions = {}): string {
    const toolTemplate = options.tools === undefined ? undefined : this.#templates.get('tool_use');
    const template = toolTemplate ?? (this.#templates.get('default') as CompiledTemplate);
    return renderTemplate(template, messages, this.#specialTokenStrings, options);
  }

  #modelTokenBytes(id: number): Uint8Array | null {
    let bytes = this.#tokenBytes.get(id);
    if (bytes === undefined) {
      const token = this.#library.id_to_token(id);
      bytes = token === undefined ? null : modelTokenBytes(token, this.#surface);
      this.#tokenBytes.set(id, bytes);
    }
    return bytes;
  }
}

function findRun(haystack: readonly number[], needle: readonly number[]): number {
  for (let start = 0; start + needle.length <= haystack.length; start++) {
    let matches = true;
    for (let index = 0; index < needle.length && matches; index++) {
      matches = haystack[start + index] === needle[index];
    }
    if (matches) return start;
  }
  return -1;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// Components of a tokenizer.json pipeline (normalizer, pre_tokenizer, decoder), flattened out of Sequences.
function components(
  component: unknown,
  path: string,
): { readonly node: Record<string, unknown>; readonly path: string }[] {
  if (!isRecord(component)) return [];
  const children = ['normalizers', 'pretokenizers', 'decoders', 'processors']
    .map((key) => [key, component[key]] as const)
    .find(([, value]) => Array.isArray(value));
  if (children === undefined) return [{ node: component, path }];
  const [key, list] = children;
  return (list as unknown[]).flatMap((child, index) => components(child, `${path}.${key}[${index}]`));
}

function tokenSurface(json: Readonly<Record<string, unknown>>): TokenSurface {
  const parts = [...components(json.pre_tokenizer, 'pre_tokenizer'), ...components(json.decoder, 'decoder')];
  if (parts.some(({ node }) => node.type === 'ByteLevel')) return { kind: 'byte-level' };
  const metaspace = parts.find(({ node }) => node.type === 'Metaspace')?.node;
  const replacement = typeof metaspace?.replacement === 'string' ? metaspace.replacement : '\u2581';
  const model = json.model as Record<string, unknown>;
  return { kind: 'metaspace', replacement, byteFallback: model.byte_fallback === true };
}

function unicodeNormalization(normalizer: unknown): UnicodeNormalization | null {
  const form = components(normalizer, 'normalizer').find(({ node }) => unicodeForms.has(String(node.type)));
  return form === undefined ? null : (form.node.type as UnicodeNormalization);
}

async function readOptionalText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TokenizerFileError(`cannot be read: ${(error as Error).message}`, { file: path, cause: error });
  }
}

async function readJsonObject(
  dir: string,
  name: string,
  required: boolean,
): Promise<Record<string, unknown> | null> {
  const path = join(dir, name);
  const text = await readOptionalText(path);
  if (text === null) {
    if (!required) return null;
    throw new TokenizerFileError(`file not found in ${dir}`, { file: path });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TokenizerFileError(`invalid JSON (${(error as Error).message})`, { file: path, cause: error });
  }
  if (!isRecord(value)) throw new TokenizerFileError('must hold a JSON object', { file: path });
  return value;
}

function checkTokenizerJson(json: Record<string, unknown>, file: string): void {
  const fail = (field: string, message: string): never => {
    throw new TokenizerFileError(`"${field}" ${message}`, { file, field });
  };
  const model = json.model;
  if (!isRecord(model)) fail('model', 'must be an object');
  const { type, vocab, merges } = model as Record<string, unknown>;
  if (type === undefined) fail('model.type', 'is missing');
  if (type !== 'BPE') fail('model.type', `${describe(type)} is not supported (supported: BPE)`);
  if (!isRecord(vocab)) fail('model.vocab', 'must be an object mapping tokens to ids');
  for (const [token, id] of Object.entries(vocab as Record<string, unknown>)) {
    if (!Number.isSafeInteger(id) || (id as number) < 0) {
      fail(`model.vocab.${token}`, `must be a non-negative integer id, got ${describe(id)}`);
    }
  }
  if (!Array.isArray(merges)) fail('model.merges', 'must be a list');
  for (const key of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) json[key] ??= null;
  json.added_tokens ??= [];
  if (!Array.isArray(json.added_tokens)) fail('added_tokens', 'must be a list');
  for (const [index, token] of (json.added_tokens as unknown[]).entries()) {
    if (!isRecord(token)) fail(`added_tokens[${index}]`, 'must be an object');
    const { id, content } = token as Record<string, unknown>;
    if (!Number.isSafeInteger(id) || (id as number) < 0) {
      fail(`added_tokens[${index}].id`, `must be a non-negative integer, got ${describe(id)}`);
    }
    if (typeof content !== 'string' || content.length === 0) {
      fail(`added_tokens[${index}].content`, `must be a non-empty string, got ${describe(content)}`);
    }
  }
  for (const { node, path } of components(json.pre_tokenizer, 'pre_tokenizer')) {
    if (node.type !== 'Split') continue;
    const behaviour = node.behavior ?? 'Isolated';
    if (!supportedSplitBehaviours.has(String(behaviour))) {
      fail(`${path}.behavior`, `${describe(behaviour)} is not supported (supported: Isolated, Removed)`);
    }
  }
}

function specialTokenContent(value: unknown, field: string, file: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.content === 'string') return value.content;
  throw new TokenizerFileError(
    `"${field}" must be a string, null or an object with "content", got ${describe(value)}`,
    {
      file,
      field,
    },
  );
}

function parseConfig(raw: Record<string, unknown>, file: string): ParsedConfig {
  const named: Partial<Record<NamedSpecialToken, string>> = {};
  for (const name of namedSpecialTokens) {
    const content = specialTokenContent(raw[name], name, file);
    if (content !== undefined) named[name] = content;
  }
  const additional = raw.additional_special_tokens ?? [];
  if (!Array.isArray(additional)) {
    throw new TokenizerFileError(`"additional_special_tokens" must be a list, got ${describe(additional)}`, {
      file,
      field: 'additional_special_tokens',
    });
  }
  const additionalSpecialTokens = additional.flatMap((value, index) => {
    const content = specialTokenContent(value, `additional_special_tokens[${index}]`, file);
    return content === undefined ? [] : [content];
  });
  const cleanUp = raw.clean_up_tokenization_spaces ?? false;
  if (typeof cleanUp !== 'boolean') {
    throw new TokenizerFileError(
      `"clean_up_tokenization_spaces" must be a boolean, got ${describe(cleanUp)}`,
      {
        file,
        field: 'clean_up_tokenization_spaces',
      },
    );
  }
  return { named, additionalSpecialTokens, cleanUpTokenizationSpaces: cleanUp, raw };
}

function parseTemplates(raw: Record<string, unknown>, file: string): Map<string, CompiledTemplate> {
  const value = raw.chat_template;
  const templates = new Map<string, CompiledTemplate>();
  if (value === undefined || value === null) return templates;
  if (typeof value === 'string') {
    templates.set('default', compileTemplate(value, file, 'chat_template', null));
    return templates;
  }
  if (!Array.isArray(value)) {
    throw new TokenizerFileError(
      `"chat_template" must be a string or a list of named templates, got ${describe(value)}`,
      {
        file,
        field: 'chat_template',
      },
    );
  }
  for (const [index, entry] of value.entries()) {
    const field = `chat_template[${index}]`;
    if (!isRecord(entry) || typeof entry.name !== 'string' || typeof entry.template !== 'string') {
      throw new TokenizerFileError(`"${field}" must be an object with string "name" and "template"`, {
        file,
        field,
      });
    }
    templates.set(entry.name, compileTemplate(entry.template, file, `${field}.template`, entry.name));
  }
  if (!templates.has('default')) {
    throw new TokenizerFileError(
      `"chat_template" has no template named "default" (names: ${[...templates.keys()].join(', ')})`,
      { file, field: 'chat_template' },
    );
  }
  return templates;
}

function parseGenerationEos(raw: Record<string, unknown> | null, file: string): number[] {
  const value = raw?.eos_token_id;
  if (value === undefined || value === null) return [];
  const ids = Array.isArray(value) ? value : [value];
  if (!ids.every((id) => Number.isSafeInteger(id) && id >= 0)) {
    throw new TokenizerFileError(
      `"eos_token_id" must be a token id or a list of them, got ${describe(value)}`,
      {
        file,
        field: 'eos_token_id',
      },
    );
  }
  return ids as number[];
}

/**
 * Loads the tokenizer of a Hugging Face model directory: `tokenizer.json` and `tokenizer_config.json`
 * (both required), the chat template from `chat_template.jinja` when present (transformers saves it
 * there) else from tokenizer_config's `chat_template`, and extra eos ids from `generation_config.json`
 * when present. Only BPE models are accepted: the Llama-family vocabularies are all BPE.
 */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const tokenizerFile = join(dir, tokenizerFileName);
  const configFile = join(dir, configFileName);
  const json = (await readJsonObject(dir, tokenizerFileName, true)) as Record<string, unknown>;
  checkTokenizerJson(json, tokenizerFile);
  const rawConfig = (await readJsonObject(dir, configFileName, true)) as Record<string, unknown>;
  const config = parseConfig(rawConfig, configFile);

  const templateFile = join(dir, templateFileName);
  const templateText = await readOptionalText(templateFile);
  const templates =
    templateText === null
      ? parseTemplates(rawConfig, configFile)
      : new Map([['default', compileTemplate(templateText, templateFile, 'chat_template', null)]]);

  const generationFile = join(dir, generationConfigFileName);
  const generationEosIds = parseGenerationEos(
    await readJsonObject(dir, generationConfigFileName, false),
    generationFile,
  );

  let library: HfTokenizer;
  try {
    library = new HfTokenizer(json, {
      ...rawConfig,
      additional_special_tokens: config.additionalSpecialTokens,
      clean_up_tokenization_spaces: config.cleanUpTokenizationSpaces,
    });
  } catch (error) {
    throw new TokenizerFileError(`cannot be used: ${(error as Error).message}`, {
      file: tokenizerFile,
      cause: error,
    });
  }
  const tokenizer = new Tokenizer({ dir, library, json, config, templates, generationEosIds });
  for (const id of generationEosIds) {
    if (id >= tokenizer.vocabSize) {
      throw new TokenizerFileError(
        `"eos_token_id" ${id} is not a token id (vocabulary size ${tokenizer.vocabSize})`,
        {
          file: generationFile,
          field: 'eos_token_id',
        },
      );
    }
  }
  return tokenizer;
}

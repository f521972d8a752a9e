import { type CharSpan, ChatTemplateError, type TemplateMessage, type Tokenizer } from '../tokenizer';
import { DataError } from './errors';
import {
  type ChatExample,
  isChatExample,
  type PromptCompletionExample,
  type TrainingExample,
} from './examples';

export interface EncodeExampleOptions {
  /** Longest sequence kept; longer encodings keep their first `maxSeqLen` tokens. */
  readonly maxSeqLen: number;
}

/**
 * An example as token ids with one loss weight per token. `lossWeights[t]` is 1 when token t is a trained
 * token (assistant content of a message with weight 1 and the end-of-turn tokens the template writes after
 * it; a completion and its eos) and 0 elsewhere. Targets are the caller's to build: the loss for predicting
 * `tokens[t + 1]` from the logits at position t uses `lossWeights[t + 1]`, so `lossWeights[0]` is never used.
 */
export interface EncodedExample {
  readonly tokens: Int32Array;
  readonly lossWeights: Float32Array;
  /** The encoding was longer than `maxSeqLen` and lost its tail. */
  readonly truncated: boolean;
}

/** A conversation rendered by the chat template, with the character spans that train. */
export interface RenderedChat {
  readonly text: string;
  /** Sorted, disjoint `[start, end)` spans of `text`. */
  readonly spans: readonly CharSpan[];
}

function checkMaxSeqLen(maxSeqLen: number): void {
  if (!Number.isSafeInteger(maxSeqLen) || maxSeqLen <= 0) {
    throw new DataError(`maxSeqLen must be a positive integer, got ${maxSeqLen}`);
  }
}

function excerpt(text: string, at: number): string {
  return JSON.stringify(text.slice(at, at + 40));
}

function firstDifference(a: string, b: string): number {
  let index = 0;
  while (index < a.length && index < b.length && a[index] === b[index]) index++;
  return index;
}

function requirePrefix(
  prefix: string,
  whole: string,
  describe: string,
  messages: readonly TemplateMessage[],
): void {
  if (whole.startsWith(prefix)) return;
  const at = firstDifference(prefix, whole);
  throw new ChatTemplateError(
    `chat template is not prefix-stable: ${describe} (they differ at character ${at}: ` +
      `${excerpt(prefix, at)} vs ${excerpt(whole, at)}), so the assistant tokens cannot be located`,
    { messages },
  );
}

/**
 * Renders a chat example and finds the characters that train. For each assistant message i with weight 1
 * the template renders messages[0..i) with the generation prompt and then messages[0..i]; what the second
 * adds to the first is the assistant's turn as the model would generate it: content and end-of-turn
 * token(s), less trailing whitespace (ChatML's newline after `<|im_end|>` is never generated) and less what
 * the template writes after every conversation (the rendering of no messages, when both renderings end
 * with it: Llama 3 base's template always appends the assistant header). Both renderings must be
 * prefixes of the whole conversation's rendering, or the template is not prefix-stable (it renders a
 * message differently depending on what follows it) and the example fails with a ChatTemplateError.
 * Message contents are first put in the tokenizer's Unicode normalization form, which the tokenizer
 * applies anyway, so that token offsets map onto the rendered text.
 */
export function renderChatExample(tokenizer: Tokenizer, example: ChatExample): RenderedChat {
  const messages: TemplateMessage[] = example.messages.map(({ weight: _weight, ...message }) => ({
    ...message,
    content: tokenizer.normalizeUnicode(message.content),
  }));
  const tools = example.tools;
  const text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: false, tools });
  const trailer = templateTrailer(tokenizer, tools);
  const spans: CharSpan[] = [];
  for (const [index, message] of example.messages.entries()) {
    if (message.role !== 'assistant' || message.weight === 0) continue;
    const before = tokenizer.applyChatTemplate(messages.slice(0, index), {
      addGenerationPrompt: true,
      tools,
    });
    const through = tokenizer.applyChatTemplate(messages.slice(0, index + 1), {
      addGenerationPrompt: false,
      tools,
    });
    requirePrefix(
      before,
      through,
      `messages[0..${index}) with the generation prompt is not a prefix of messages[0..${index}]`,
      messages,
    );
    requirePrefix(through, text, `messages[0..${index}] is not a prefix of the whole conversation`, messages);
    const turn = through.slice(before.length);
    const end =
      before.length +
      (endsWithTrailer(before, turn, trailer) ? turn.slice(0, -trailer.length) : turn).trimEnd().length;
    if (end > before.length) spans.push([before.length, end]);
  }
  return { text, spans };
}

// What the template writes after every conversation whatever add_generation_prompt says, as Llama 3 base's
// template does with the assistant header: the rendering of no messages, if it also ends the renderings.
// Templates that cannot render an empty conversation have none.
function templateTrailer(tokenizer: Tokenizer, tools: readonly unknown[] | undefined): string {
  try {
    return tokenizer.applyChatTemplate([], { addGenerationPrompt: false, tools });
  } catch {
    return '';
  }
}

function endsWithTrailer(before: string, turn: string, trailer: string): boolean {
  return trailer.length > 0 && before.endsWith(trailer) && turn.endsWith(trailer);
}

function overlaps(offset: CharSpan, spans: readonly CharSpan[]): boolean {
  const [start, end] = offset;
  return spans.some(([spanStart, spanEnd]) =>
    start === end ? spanStart <= start && start < spanEnd : start < spanEnd && end > spanStart,
  );
}

function finish(ids: readonly number[], weights: readonly number[], maxSeqLen: number): EncodedExample {
  const length = Math.min(ids.length, maxSeqLen);
  return {
    tokens: Int32Array.from(ids.slice(0, length)),
    lossWeights: Float32Array.from(weights.slice(0, length)),
    truncated: ids.length > maxSeqLen,
  };
}

/**
 * Encodes a chat example with the tokenizer's chat template (its ChatML fallback when it has none).
 * A token trains when its characters overlap a span of `renderChatExample`; a token that straddles a span
 * boundary trains, as transformers' assistant masks do. The rendering is encoded without added special
 * tokens: templates write their own bos.
 */
export function encodeChatExample(
  tokenizer: Tokenizer,
  example: ChatExample,
  options: EncodeExampleOptions,
): EncodedExample {
  checkMaxSeqLen(options.maxSeqLen);
  const { text, spans } = renderChatExample(tokenizer, example);
  const { ids, offsets } = tokenizer.encodeWithOffsets(text, { addSpecialTokens: false });
  const weights = offsets.map((offset) => (offset !== null && overlaps(offset, spans) ? 1 : 0));
  return finish(ids, weights, options.maxSeqLen);
}

/**
 * Encodes `prompt + completion` as raw text with the tokenizer's special tokens (bos where its
 * post-processor adds one), then the eos token; the completion's tokens and the eos train. A token that
 * straddles the prompt/completion boundary trains.
 */
export function encodePromptCompletionExample(
  tokenizer: Tokenizer,
  example: PromptCompletionExample,
  options: EncodeExampleOptions,
): EncodedExample {
  checkMaxSeqLen(options.maxSeqLen);
  const eos = tokenizer.eosTokenId;
  if (eos === null) {
    throw new DataError(
      'the tokenizer has no eos token, which a prompt-completion example needs to end with',
    );
  }
  const prompt = tokenizer.normalizeUnicode(example.prompt);
  const text = prompt + tokenizer.normalizeUnicode(example.completion);
  const { ids, offsets } = tokenizer.encodeWithOffsets(text, { addSpecialTokens: true });
  const completion: CharSpan[] = [[prompt.length, text.length]];
  const weights = offsets.map((offset) => (offset !== null && overlaps(offset, completion) ? 1 : 0));
  const last = ids.length - 1;
  if (ids[last] === eos && offsets[last] === null) weights[last] = 1;
  else {
    ids.push(eos);
    weights.push(1);
  }
  return finish(ids, weights, options.maxSeqLen);
}

/** `encodeChatExample` or `encodePromptCompletionExample`, by the example's format. */
export function encodeExample(
  tokenizer: Tokenizer,
  example: TrainingExample,
  options: EncodeExampleOptions,
): EncodedExample {
  return isChatExample(example)
    ? encodeChatExample(tokenizer, example, options)
    : encodePromptCompletionExample(tokenizer, example, options);
}

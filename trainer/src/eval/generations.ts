import { isChatExample, type TrainingExample } from '../data';
import type { LlamaModel } from '../model/llama';
import type { Tokenizer } from '../tokenizer';

export interface PromptMessage {
  readonly role: string;
  readonly content: string;
}

/** What the model is asked and what the data says it should answer. */
export interface GenerationPrompt {
  /** The prompt's messages (chat) or text (prompt-completion), as the data gave them. */
  readonly prompt: readonly PromptMessage[] | string;
  readonly promptIds: readonly number[];
  readonly reference: string;
}

/**
 * The prompt a validation example poses: a chat example's messages before its last assistant message,
 * rendered with the generation prompt, and that message as the reference; a prompt-completion example's
 * prompt (with the tokenizer's special tokens, as in training) and its completion. Undefined for a chat
 * example that does not end with an assistant message.
 */
export function generationPrompt(
  tokenizer: Tokenizer,
  example: TrainingExample,
): GenerationPrompt | undefined {
  if (!isChatExample(example)) {
    return {
      prompt: example.prompt,
      promptIds: tokenizer.encode(tokenizer.normalizeUnicode(example.prompt), { addSpecialTokens: true }),
      reference: example.completion,
    };
  }
  const last = example.messages.at(-1);
  if (last?.role !== 'assistant') return undefined;
  const messages = example.messages.slice(0, -1).map(({ weight: _weight, ...message }) => ({
    ...message,
    content: tokenizer.normalizeUnicode(message.content),
  }));
  const text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true, tools: example.tools });
  return {
    prompt: example.messages.slice(0, -1).map(({ role, content }) => ({ role, content })),
    promptIds: tokenizer.encode(text, { addSpecialTokens: false }),
    reference: last.content,
  };
}

/** Answers compare after trimming surrounding white space, as the reference's own newline or a trailing space is no error. */
export function isExactMatch(generated: string, reference: string): boolean {
  return generated.trim() === reference.trim();
}

export interface GenerationOptions {
  /** Tokens generated past the reference's length before giving up on an answer. */
  readonly slackTokens: number;
  /** Prompts longer than this many tokens keep their last tokens (training saw no more). */
  readonly maxPromptTokens: number;
  /** The model's max_position_embeddings: prompt and answer together stay within it. */
  readonly maxPositions: number;
}

/**
 * Greedy answers to each prompt (KV-cached decoding), stopping at an end-of-turn token or once the answer
 * has run `slackTokens` past the reference's length: a longer answer cannot match it.
 */
export async function generateAnswers(
  model: LlamaModel,
  tokenizer: Tokenizer,
  prompts: readonly GenerationPrompt[],
  options: GenerationOptions,
): Promise<string[]> {
  const answers: string[] = [];
  for (const { promptIds, reference } of prompts) {
    const referenceTokens = tokenizer.encode(reference, { addSpecialTokens: false }).length;
    const maxNewTokens = Math.max(
      1,
      Math.min(referenceTokens + options.slackTokens, options.maxPositions - 1),
    );
    const keep = Math.min(options.maxPromptTokens, options.maxPositions - maxNewTokens);
    const ids = promptIds.length > keep ? promptIds.slice(-keep) : promptIds;
    const generated = await model.generate(ids, {
      maxNewTokens,
      stopTokens: tokenizer.eosTokenIds,
    });
    const ended = generated.length > 0 && tokenizer.eosTokenIds.includes(generated.at(-1) as number);
    answers.push(tokenizer.decode(ended ? generated.slice(0, -1) : generated, { skipSpecialTokens: true }));
  }
  return answers;
}

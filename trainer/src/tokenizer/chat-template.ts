import { basename } from 'node:path';
import { Template } from '@huggingface/jinja';
import { ChatTemplateError, TokenizerFileError } from './errors';

/** One message as a chat template sees it: OpenAI's fields, plus whatever else the template reads. */
export interface TemplateMessage {
  readonly role: string;
  readonly content: string;
  readonly [field: string]: unknown;
}

export interface ApplyChatTemplateOptions {
  /** Append the header that opens an assistant turn (`add_generation_prompt`). Default false. */
  readonly addGenerationPrompt?: boolean;
  /** Tool (function) schemas, as `tools` of transformers' `apply_chat_template`. */
  readonly tools?: readonly unknown[];
  /** Further template variables (e.g. Qwen 3's `enable_thinking`), as transformers' `**kwargs`. */
  readonly templateVariables?: Readonly<Record<string, unknown>>;
}

/** A parsed template together with where it came from, for messages. */
export interface CompiledTemplate {
  readonly source: string;
  readonly template: Template;
  /** `tokenizer_config.json`, `chat_template.jinja` or `fallback`. */
  readonly file: string;
  /** The template's name when tokenizer_config.json holds a named list, else null. */
  readonly name: string | null;
}

/** The special-token strings a template may use, as transformers' `special_tokens_map` puts them. */
export type SpecialTokenStrings = Readonly<Record<string, string | readonly string[]>>;

export function compileTemplate(
  source: string,
  file: string,
  field: string,
  name: string | null,
): CompiledTemplate {
  try {
    return { source, template: new Template(source), file, name };
  } catch (error) {
    throw new TokenizerFileError(`"${field}" is not a valid Jinja template: ${errorText(error)}`, {
      file,
      field,
      cause: error,
    });
  }
}

/**
 * ChatML, the fallback for tokenizers without a chat template. Each turn is
 * `<|im_start|>{role}\n{content}{end}\n`, where `end` is `<|im_end|>` when the vocabulary has that token
 * and the eos token otherwise, so that every assistant turn ends in one token the model can learn to
 * stop on; the bos token, if any, opens the conversation.
 */
export function fallbackTemplateSource(endOfTurn: string): string {
  const end = JSON.stringify(endOfTurn);
  return (
    '{%- if bos_token %}{{ bos_token }}{%- endif %}' +
    '{%- for message in messages %}' +
    `{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + ${end} + '\\n' }}` +
    '{%- endfor %}' +
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}"
  );
}

/**
 * Renders as transformers' `apply_chat_template(tokenize=False)` does: the messages, `tools` and
 * `documents` (null when not given), `add_generation_prompt` and the special-token strings; the Jinja
 * library supplies `raise_exception` (the rendering fails with the template's message) and `strftime_now`.
 */
export function renderTemplate(
  compiled: CompiledTemplate,
  messages: readonly TemplateMessage[],
  specialTokens: SpecialTokenStrings,
  options: ApplyChatTemplateOptions,
): string {
  const context: Record<string, unknown> = {
    ...specialTokens,
    ...options.templateVariables,
    messages,
    tools: options.tools ?? null,
    documents: null,
    add_generation_prompt: options.addGenerationPrompt ?? false,
  };
  try {
    return compiled.template.render(context);
  } catch (error) {
    const file = basename(compiled.file);
    const where = compiled.name === null ? file : `${file} template "${compiled.name}"`;
    throw new ChatTemplateError(`chat template (${where}) failed: ${errorText(error)}`, {
      cause: error,
      messages,
    });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

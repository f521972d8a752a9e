import { ExampleError } from './errors';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export const chatRoles: readonly ChatRole[] = ['system', 'user', 'assistant', 'tool'];

/**
 * One message of an OpenAI chat fine-tuning line. `weight` (assistant messages only, default 1) says
 * whether the message trains. Other fields (`tool_calls`, `tool_call_id`, ...) reach the chat template.
 */
export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
  readonly name?: string;
  readonly weight?: 0 | 1;
  readonly [field: string]: unknown;
}

export interface ChatExample {
  readonly messages: readonly ChatMessage[];
  /** Tool schemas the conversation may call, passed to the chat template as `tools`. */
  readonly tools?: readonly unknown[];
}

/** A raw-text example: the model sees `prompt + completion` and trains on the completion. */
export interface PromptCompletionExample {
  readonly prompt: string;
  readonly completion: string;
}

export type TrainingExample = ChatExample | PromptCompletionExample;

export function isChatExample(example: TrainingExample): example is ChatExample {
  return 'messages' in example;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  const text = value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function fieldError(field: string, message: string): ExampleError {
  return new ExampleError(`"${field}" ${message}`, { field });
}

function checkMessage(value: unknown, index: number): ChatMessage {
  const at = `messages[${index}]`;
  if (!isRecord(value)) throw fieldError(at, `must be an object, got ${describe(value)}`);
  const { role, content, name } = value;
  if (typeof role !== 'string' || !chatRoles.includes(role as ChatRole)) {
    throw fieldError(`${at}.role`, `must be one of ${chatRoles.join(', ')}, got ${describe(role)}`);
  }
  if (typeof content !== 'string')
    throw fieldError(`${at}.content`, `must be a string, got ${describe(content)}`);
  if (name !== undefined && typeof name !== 'string') {
    throw fieldError(`${at}.name`, `must be a string, got ${describe(name)}`);
  }
  if (Object.hasOwn(value, 'weight')) {
    if (role !== 'assistant')
      throw fieldError(`${at}.weight`, `is only allowed on assistant messages, not ${role}`);
    if (value.weight !== 0 && value.weight !== 1) {
      throw fieldError(`${at}.weight`, `must be 0 or 1, got ${describe(value.weight)}`);
    }
  }
  return value as ChatMessage;
}

const chatKeys = new Set(['messages', 'tools', 'parallel_tool_calls']);
const promptCompletionKeys = new Set(['prompt', 'completion']);

/**
 * Checks one parsed JSONL line: a chat example (`messages`, optional `tools`) or a prompt-completion
 * example. Errors name the field, e.g. `"messages[1].weight" must be 0 or 1, got 2`.
 */
export function parseTrainingExample(value: unknown): TrainingExample {
  if (!isRecord(value)) throw new ExampleError(`an example must be a JSON object, got ${describe(value)}`);
  if (Object.hasOwn(value, 'messages')) {
    for (const key of Object.keys(value)) {
      if (!chatKeys.has(key)) throw fieldError(key, 'is not a field of a chat example (messages, tools)');
    }
    const { messages, tools } = value;
    if (!Array.isArray(messages) || messages.length === 0) {
      throw fieldError('messages', `must be a non-empty list, got ${describe(messages)}`);
    }
    const checked = messages.map(checkMessage);
    if (!checked.some((message) => message.role === 'assistant')) {
      throw fieldError('messages', 'has no assistant message to train on');
    }
    if (tools !== undefined && !Array.isArray(tools))
      throw fieldError('tools', `must be a list, got ${describe(tools)}`);
    return tools === undefined ? { messages: checked } : { messages: checked, tools };
  }
  if (Object.hasOwn(value, 'prompt') || Object.hasOwn(value, 'completion')) {
    for (const key of Object.keys(value)) {
      if (!promptCompletionKeys.has(key)) {
        throw fieldError(key, 'is not a field of a prompt-completion example (prompt, completion)');
      }
    }
    const { prompt, completion } = value;
    if (typeof prompt !== 'string') throw fieldError('prompt', `must be a string, got ${describe(prompt)}`);
    if (typeof completion !== 'string' || completion.length === 0) {
      throw fieldError('completion', `must be a non-empty string, got ${describe(completion)}`);
    }
    return { prompt, completion };
  }
  throw new ExampleError('an example needs "messages" (chat) or "prompt" and "completion"');
}

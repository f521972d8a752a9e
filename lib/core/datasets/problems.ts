// Problem codes are part of the public contract: they reach API clients through the file object's
// `status_details` and tests assert them, so the strings must never change once released.
export const DatasetProblemCodes = {
  lineTooLong: 'line_too_long',
  invalidUtf8: 'invalid_utf8',
  invalidJson: 'invalid_json',
  dataType: 'data_type',
  emptyLine: 'empty_line',
  missingMessagesList: 'missing_messages_list',
  messageMissingKey: 'message_missing_key',
  messageUnrecognizedKey: 'message_unrecognized_key',
  unrecognizedRole: 'unrecognized_role',
  missingContent: 'missing_content',
  invalidWeight: 'invalid_weight',
  invalidName: 'invalid_name',
  exampleMissingAssistantMessage: 'example_missing_assistant_message',
  unrecognizedKey: 'unrecognized_key',
  invalidPromptCompletion: 'invalid_prompt_completion',
  mixedFormats: 'mixed_formats',
  insufficientExamples: 'insufficient_examples',
  emptyFile: 'empty_file',
} as const;

export type DatasetProblemCode = (typeof DatasetProblemCodes)[keyof typeof DatasetProblemCodes];

export type DatasetFormat = 'chat' | 'prompt_completion';

export const allowedRoles: readonly string[] = ['system', 'user', 'assistant'];

// Values come from user files and end up in a single status string, so a hostile or accidental
// megabyte-long key must not blow up the summary.
const maxQuotedLength = 40;

export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > maxQuotedLength ? `${value.slice(0, maxQuotedLength)}…` : value;
    return JSON.stringify(shown);
  }
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function describeJsonType(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function formatName(format: DatasetFormat): string {
  return format === 'chat' ? 'chat' : 'prompt/completion';
}

export const problemMessages = {
  lineTooLong: (maxLineBytes: number): string => `line is longer than ${maxLineBytes} bytes`,
  invalidUtf8: (): string => 'line is not valid UTF-8',
  invalidJson: (): string => 'line is not valid JSON',
  dataType: (value: unknown): string => `line is ${describeJsonType(value)}, not a JSON object`,
  emptyLine: (): string => 'line is blank but more examples follow it',
  messagesKeyAbsent: (): string =>
    'line has neither a "messages" list (chat format) nor "prompt" and "completion" (prompt/completion format)',
  messagesNotNonEmptyArray: (value: unknown): string =>
    `"messages" must be a non-empty array, got ${describeValue(value)}`,
  messageNotObject: (index: number, value: unknown): string =>
    `messages[${index}] must be an object with "role" and "content", got ${describeJsonType(value)}`,
  messageMissingKey: (index: number, key: string): string => `messages[${index}] is missing the "${key}" key`,
  messageUnrecognizedKey: (index: number, key: string): string =>
    `messages[${index}] has unrecognized key ${describeValue(key)}; allowed keys are role, content, name, weight`,
  unrecognizedRole: (index: number, role: unknown): string =>
    `messages[${index}].role ${describeValue(role)} is not one of ${allowedRoles.join(', ')}`,
  missingContent: (index: number, content: unknown): string =>
    `messages[${index}].content must be a non-empty string, got ${describeValue(content)}`,
  weightOnNonAssistant: (index: number, role: string): string =>
    `messages[${index}].weight is only allowed on assistant messages, not ${role}`,
  weightNotBinary: (index: number, weight: unknown): string =>
    `messages[${index}].weight must be 0 or 1, got ${describeValue(weight)}`,
  invalidName: (index: number, name: unknown): string =>
    `messages[${index}].name must be a non-empty string, got ${describeValue(name)}`,
  exampleMissingAssistantMessage: (): string => 'example has no assistant message to learn from',
  unrecognizedKey: (key: string, format: DatasetFormat): string =>
    `unrecognized top-level key ${describeValue(key)} in a ${formatName(format)} example`,
  promptNotString: (value: unknown): string =>
    value === undefined ? '"prompt" is missing' : `"prompt" must be a string, got ${describeValue(value)}`,
  completionNotNonEmptyString: (value: unknown): string =>
    value === undefined
      ? '"completion" is missing'
      : `"completion" must be a non-empty string, got ${describeValue(value)}`,
  mixedFormats: (format: DatasetFormat, firstFormat: DatasetFormat, firstLine: number): string =>
    `example is in ${formatName(format)} format but the first example (line ${firstLine}) is in ` +
    `${formatName(firstFormat)} format; a file must use one format`,
  insufficientExamples: (found: number, required: number): string =>
    `at least ${required} examples are required, found ${found}`,
  emptyFile: (): string => 'file contains no examples',
} as const;

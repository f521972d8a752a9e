import {
  allowedRoles,
  type DatasetFormat,
  type DatasetProblemCode,
  DatasetProblemCodes,
  problemMessages,
} from './problems';

export interface DatasetProblem {
  readonly line: number | null;
  readonly code: DatasetProblemCode;
  readonly message: string;
}

export interface DatasetReport {
  readonly format: DatasetFormat | null;
  readonly examples: number;
  readonly lines: number;
  readonly estimatedTokens: number;
  readonly problems: readonly DatasetProblem[];
  readonly problemCount: number;
  readonly valid: boolean;
}

export interface DatasetValidatorOptions {
  readonly minExamples?: number;
  readonly maxReportedProblems?: number;
  /** Longest line accepted, in UTF-8 bytes, not counting its line ending or the file's byte order mark. */
  readonly maxLineBytes?: number;
}

export interface ChatMessage {
  readonly role: string;
  readonly content: string;
  readonly name?: string;
  readonly weight?: number;
}

export interface ChatExample {
  readonly messages: readonly ChatMessage[];
}

export interface PromptCompletionExample {
  readonly prompt: string;
  readonly completion: string;
}

export type DatasetExample = ChatExample | PromptCompletionExample;

// 8 MiB is far beyond any sensible training example yet keeps a newline-free upload from being buffered
// whole and then decoded into a string past V8's length limit.
const defaultOptions: Required<DatasetValidatorOptions> = {
  minExamples: 10,
  maxReportedProblems: 100,
  maxLineBytes: 8 * 1024 * 1024,
};

const allowedMessageKeys: ReadonlySet<string> = new Set(['role', 'content', 'name', 'weight']);

const newlineByte = 0x0a;
const carriageReturnByte = 0x0d;
const utf8ByteOrderMark = [0xef, 0xbb, 0xbf] as const;
// A line may hold up to this many bytes beyond maxLineBytes that do not count towards it: a leading
// byte order mark (3) and the carriage return of a CRLF ending (1). Buffering that little extra is
// what lets the verdict be exact however the input is chunked.
const uncountedLineBytes = utf8ByteOrderMark.length + 1;

type LineVerdict =
  | { readonly kind: 'example'; readonly format: DatasetFormat; readonly example: DatasetExample }
  | { readonly kind: 'problem'; readonly code: DatasetProblemCode; readonly message: string };

function problem(code: DatasetProblemCode, message: string): LineVerdict {
  return { kind: 'problem', code, message };
}

function resolveOptions(options: DatasetValidatorOptions | undefined): Required<DatasetValidatorOptions> {
  if (options === undefined) return defaultOptions;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new Error('Dataset validator options must be an object');
  }
  const resolved = { ...defaultOptions };
  for (const [key, value] of Object.entries(options)) {
    if (!Object.hasOwn(defaultOptions, key)) {
      throw new Error(
        `Unknown dataset validator option "${key}"; known options are ${Object.keys(defaultOptions).join(', ')}`,
      );
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new Error(`Dataset validator option "${key}" must be a positive integer, got ${String(value)}`);
    }
    resolved[key as keyof DatasetValidatorOptions] = value;
  }
  return resolved;
}

// Counting bytes by hand keeps the module free of Node's Buffer and avoids allocating an encoded copy
// of every message just to measure it.
function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        index++;
      } else {
        bytes += 3;
      }
    } else bytes += 3;
  }
  return bytes;
}

function bytesToTokens(text: string): number {
  return Math.ceil(utf8ByteLength(text) / 4);
}

// A deliberately cheap estimate, used for quotas and cost previews rather than billing: about four
// UTF-8 bytes per token, plus the per-message (4) and per-example reply-priming (3) overheads the
// chat format adds, following OpenAI's published counting recipe. Running a real tokenizer over a
// 512 MB upload would cost far more than the precision is worth at this stage.
export function estimateExampleTokens(example: DatasetExample): number {
  if ('messages' in example) {
    let tokens = 3;
    for (const message of example.messages) {
      tokens += 4 + bytesToTokens(message.content);
      if (message.name !== undefined) tokens += bytesToTokens(message.name);
    }
    return tokens;
  }
  return bytesToTokens(example.prompt) + bytesToTokens(example.completion);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validateChatMessage(index: number, message: unknown): LineVerdict | null {
  if (!isPlainObject(message)) {
    return problem(DatasetProblemCodes.messageMissingKey, problemMessages.messageNotObject(index, message));
  }
  for (const requiredKey of ['role', 'content']) {
    if (!Object.hasOwn(message, requiredKey)) {
      return problem(
        DatasetProblemCodes.messageMissingKey,
        problemMessages.messageMissingKey(index, requiredKey),
      );
    }
  }
  for (const key of Object.keys(message)) {
    if (!allowedMessageKeys.has(key)) {
      return problem(
        DatasetProblemCodes.messageUnrecognizedKey,
        problemMessages.messageUnrecognizedKey(index, key),
      );
    }
  }
  const { role, content } = message;
  if (typeof role !== 'string' || !allowedRoles.includes(role)) {
    return problem(DatasetProblemCodes.unrecognizedRole, problemMessages.unrecognizedRole(index, role));
  }
  if (typeof content !== 'string' || content.length === 0) {
    return problem(DatasetProblemCodes.missingContent, problemMessages.missingContent(index, content));
  }
  if (Object.hasOwn(message, 'name')) {
    const { name } = message;
    if (typeof name !== 'string' || name.length === 0) {
      return problem(DatasetProblemCodes.invalidName, problemMessages.invalidName(index, name));
    }
  }
  if (Object.hasOwn(message, 'weight')) {
    if (role !== 'assistant') {
      return problem(DatasetProblemCodes.invalidWeight, problemMessages.weightOnNonAssistant(index, role));
    }
    const { weight } = message;
    if (weight !== 0 && weight !== 1) {
      return problem(DatasetProblemCodes.invalidWeight, problemMessages.weightNotBinary(index, weight));
    }
  }
  return null;
}

function validateChatExample(row: Record<string, unknown>): LineVerdict {
  const { messages } = row;
  if (!Array.isArray(messages) || messages.length === 0) {
    return problem(
      DatasetProblemCodes.missingMessagesList,
      problemMessages.messagesNotNonEmptyArray(messages),
    );
  }
  for (const key of Object.keys(row)) {
    if (key !== 'messages') {
      return problem(DatasetProblemCodes.unrecognizedKey, problemMessages.unrecognizedKey(key, 'chat'));
    }
  }
  let hasAssistantMessage = false;
  for (const [index, message] of messages.entries()) {
    const messageProblem = validateChatMessage(index, message);
    if (messageProblem !== null) return messageProblem;
    if ((message as ChatMessage).role === 'assistant') hasAssistantMessage = true;
  }
  if (!hasAssistantMessage) {
    return problem(
      DatasetProblemCodes.exampleMissingAssistantMessage,
      problemMessages.exampleMissingAssistantMessage(),
    );
  }
  return { kind: 'example', format: 'chat', example: { messages: messages as ChatMessage[] } };
}

function validatePromptCompletionExample(row: Record<string, unknown>): LineVerdict {
  const { prompt, completion } = row;
  if (typeof prompt !== 'string') {
    return problem(DatasetProblemCodes.invalidPromptCompletion, problemMessages.promptNotString(prompt));
  }
  if (typeof completion !== 'string' || completion.length === 0) {
    return problem(
      DatasetProblemCodes.invalidPromptCompletion,
      problemMessages.completionNotNonEmptyString(completion),
    );
  }
  for (const key of Object.keys(row)) {
    if (key !== 'prompt' && key !== 'completion') {
      return problem(
        DatasetProblemCodes.unrecognizedKey,
        problemMessages.unrecognizedKey(key, 'prompt_completion'),
      );
    }
  }
  return { kind: 'example', format: 'prompt_completion', example: { prompt, completion } };
}

function validateRow(row: unknown): LineVerdict {
  if (!isPlainObject(row)) return problem(DatasetProblemCodes.dataType, problemMessages.dataType(row));
  // A row that names `messages` is judged as chat even if it also carries prompt/completion keys,
  // because chat is the format OpenAI recommends and the extra keys are then reported by name.
  if (Object.hasOwn(row, 'messages')) return validateChatExample(row);
  if (Object.hasOwn(row, 'prompt') || Object.hasOwn(row, 'completion')) {
    return validatePromptCompletionExample(row);
  }
  return problem(DatasetProblemCodes.missingMessagesList, problemMessages.messagesKeyAbsent());
}

// Only ASCII whitespace counts as blank: JSON.parse rejects other Unicode spaces, so such a line is
// better reported as invalid JSON than silently skipped.
function isBlank(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0b && byte !== 0x0c) return false;
  }
  return true;
}

function startsWithByteOrderMark(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 3 &&
    bytes[0] === utf8ByteOrderMark[0] &&
    bytes[1] === utf8ByteOrderMark[1] &&
    bytes[2] === utf8ByteOrderMark[2]
  );
}

export class DatasetValidator {
  private readonly options: Required<DatasetValidatorOptions>;
  // ignoreBOM keeps a stray mark inside the file visible to JSON.parse; only the file-leading one is
  // legitimate and it is stripped explicitly.
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  // Copies, not views: callers commonly reuse their read buffer once push returns.
  private pendingParts: Uint8Array[] = [];
  private pendingLength = 0;
  // Set once the line being received has outgrown the cap: its bytes are dropped up to the next newline.
  private discardingLongLine = false;
  private lineCount = 0;
  private exampleCount = 0;
  private estimatedTokens = 0;
  private format: DatasetFormat | null = null;
  private formatLine = 0;
  private sawNonBlankLine = false;
  // Blank lines are only a problem once content follows them, and any content flushes them, so the
  // ones still in doubt are always one contiguous run.
  private firstUnresolvedBlankLine = 0;
  private unresolvedBlankLines = 0;
  private readonly problems: DatasetProblem[] = [];
  private problemCount = 0;
  private finished = false;

  constructor(options?: DatasetValidatorOptions) {
    this.options = resolveOptions(options);
  }

  push(chunk: Uint8Array): void {
    if (this.finished) throw new Error('DatasetValidator.push called after finish');
    let lineStart = 0;
    let newlineAt = chunk.indexOf(newlineByte, lineStart);
    while (newlineAt !== -1) {
      const tail = chunk.subarray(lineStart, newlineAt);
      if (this.exceedsBuffer(tail.length)) this.completeLongLine();
      else this.completeLine(tail);
      lineStart = newlineAt + 1;
      newlineAt = chunk.indexOf(newlineByte, lineStart);
    }
    if (lineStart < chunk.length) this.holdUnfinishedLine(chunk.subarray(lineStart));
  }

  finish(): DatasetReport {
    if (this.finished) throw new Error('DatasetValidator.finish may only be called once');
    this.finished = true;
    if (this.discardingLongLine) this.completeLongLine();
    else if (this.pendingLength > 0) this.completeLine(new Uint8Array(0));

    if (!this.sawNonBlankLine) {
      this.record(null, DatasetProblemCodes.emptyFile, problemMessages.emptyFile());
    } else if (this.exampleCount < this.options.minExamples) {
      this.record(
        null,
        DatasetProblemCodes.insufficientExamples,
        problemMessages.insufficientExamples(this.exampleCount, this.options.minExamples),
      );
    }

    return {
      format: this.format,
      examples: this.exampleCount,
      lines: this.lineCount,
      estimatedTokens: this.estimatedTokens,
      problems: [...this.problems],
      problemCount: this.problemCount,
      valid: this.problemCount === 0,
    };
  }

  private exceedsBuffer(moreBytes: number): boolean {
    return (
      this.discardingLongLine ||
      this.pendingLength + moreBytes > this.options.maxLineBytes + uncountedLineBytes
    );
  }

  private holdUnfinishedLine(part: Uint8Array): void {
    if (this.exceedsBuffer(part.length)) {
      // Drop what is held at once so memory stays bounded by the cap whatever follows.
      this.pendingParts = [];
      this.pendingLength = 0;
      this.discardingLongLine = true;
      return;
    }
    this.pendingParts.push(part.slice());
    this.pendingLength += part.length;
  }

  private completeLongLine(): void {
    this.pendingParts = [];
    this.pendingLength = 0;
    this.discardingLongLine = false;
    this.lineCount++;
    this.reportLongLine(this.lineCount);
  }

  private reportLongLine(line: number): void {
    // Too long wins over blank, so that the verdict never depends on how much of the line was seen.
    this.sawNonBlankLine = true;
    this.reportUnresolvedBlankLines();
    this.record(
      line,
      DatasetProblemCodes.lineTooLong,
      problemMessages.lineTooLong(this.options.maxLineBytes),
    );
  }

  private completeLine(tail: Uint8Array): void {
    let lineBytes = tail;
    if (this.pendingParts.length > 0) {
      lineBytes = new Uint8Array(this.pendingLength + tail.length);
      let offset = 0;
      for (const part of this.pendingParts) {
        lineBytes.set(part, offset);
        offset += part.length;
      }
      lineBytes.set(tail, offset);
      this.pendingParts = [];
      this.pendingLength = 0;
    }
    this.lineCount++;
    if (this.lineCount === 1 && startsWithByteOrderMark(lineBytes)) lineBytes = lineBytes.subarray(3);
    this.checkLine(this.lineCount, lineBytes);
  }

  private checkLine(line: number, bytes: Uint8Array): void {
    const countedLength = bytes.length - (bytes[bytes.length - 1] === carriageReturnByte ? 1 : 0);
    if (countedLength > this.options.maxLineBytes) {
      this.reportLongLine(line);
      return;
    }
    if (isBlank(bytes)) {
      if (this.unresolvedBlankLines === 0) this.firstUnresolvedBlankLine = line;
      this.unresolvedBlankLines++;
      return;
    }
    this.sawNonBlankLine = true;
    this.reportUnresolvedBlankLines();

    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      this.record(line, DatasetProblemCodes.invalidUtf8, problemMessages.invalidUtf8());
      return;
    }
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch {
      this.record(line, DatasetProblemCodes.invalidJson, problemMessages.invalidJson());
      return;
    }

    const verdict = validateRow(row);
    if (verdict.kind === 'problem') {
      this.record(line, verdict.code, verdict.message);
      return;
    }
    if (this.format === null) {
      this.format = verdict.format;
      this.formatLine = line;
    } else if (verdict.format !== this.format) {
      this.record(
        line,
        DatasetProblemCodes.mixedFormats,
        problemMessages.mixedFormats(verdict.format, this.format, this.formatLine),
      );
      return;
    }
    this.exampleCount++;
    this.estimatedTokens += estimateExampleTokens(verdict.example);
  }

  private reportUnresolvedBlankLines(): void {
    const end = this.firstUnresolvedBlankLine + this.unresolvedBlankLines;
    for (let blankLine = this.firstUnresolvedBlankLine; blankLine < end; blankLine++) {
      // Past the cap only the count matters, so a run of a million blank lines stays O(1) per line.
      if (this.problems.length >= this.options.maxReportedProblems) {
        this.problemCount += end - blankLine;
        break;
      }
      this.record(blankLine, DatasetProblemCodes.emptyLine, problemMessages.emptyLine());
    }
    this.unresolvedBlankLines = 0;
  }

  private record(line: number | null, code: DatasetProblemCode, message: string): void {
    this.problemCount++;
    if (this.problems.length < this.options.maxReportedProblems) this.problems.push({ line, code, message });
  }
}

export function validateDataset(bytes: Uint8Array, options?: DatasetValidatorOptions): DatasetReport {
  const validator = new DatasetValidator(options);
  validator.push(bytes);
  return validator.finish();
}

function describeProblem(problem: DatasetProblem): string {
  return problem.line === null ? problem.message : `line ${problem.line}: ${problem.message}`;
}

export function summarizeProblems(report: DatasetReport, maxShown = 5): string {
  if (!Number.isSafeInteger(maxShown) || maxShown < 0) {
    throw new Error(`summarizeProblems maxShown must be a non-negative integer, got ${String(maxShown)}`);
  }
  if (report.problemCount === 0) return 'no problems found';
  const heading = `${report.problemCount} ${report.problemCount === 1 ? 'problem' : 'problems'}`;
  const shown = report.problems.slice(0, maxShown).map(describeProblem);
  const hidden = report.problemCount - shown.length;
  if (shown.length === 0) return heading;
  const more = hidden > 0 ? ` ... and ${hidden} more` : '';
  return `${heading}: ${shown.join('; ')}${more}`;
}

import { describe, expect, it } from 'vitest';
import {
  type DatasetProblem,
  type DatasetProblemCode,
  DatasetValidator,
  type DatasetValidatorOptions,
  estimateExampleTokens,
  summarizeProblems,
  validateDataset,
} from '../../../lib/core/datasets';

const encoder = new TextEncoder();

function encodeLines(lines: readonly string[]): Uint8Array {
  return encoder.encode(`${lines.join('\n')}\n`);
}

function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

function chatRow(question: string, answer: string): string {
  return JSON.stringify({
    messages: [
      { role: 'user', content: question },
      { role: 'assistant', content: answer },
    ],
  });
}

// Each row is 3 + (4 + ceil(12 / 4)) + (4 + ceil(1 / 4)) = 15 tokens by the documented estimate.
const validChatRows: readonly string[] = Array.from({ length: 10 }, (_, index) =>
  chatRow(`What is ${index}+${index}?`.padEnd(12, '!'), String((index * 2) % 10)),
);

function withRowAt(line: number, row: string): string[] {
  const rows = [...validChatRows];
  rows.splice(line - 1, 0, row);
  return rows;
}

function validateWithRowAt(line: number, row: string) {
  return validateDataset(encodeLines(withRowAt(line, row)));
}

function validateInChunks(
  bytes: Uint8Array,
  splitPoints: readonly number[],
  options: DatasetValidatorOptions = { minExamples: 1 },
) {
  const validator = new DatasetValidator(options);
  let start = 0;
  for (const splitPoint of [...splitPoints, bytes.length]) {
    validator.push(bytes.subarray(start, splitPoint));
    start = splitPoint;
  }
  return validator.finish();
}

describe('DatasetValidator options', () => {
  it('rejects an unknown option key by name', () => {
    // Prepare
    const options = { minExamples: 5, maxProblems: 3 } as unknown as { minExamples: number };

    // Act
    const construct = () => new DatasetValidator(options);

    // Assess
    expect(construct).toThrow(
      'Unknown dataset validator option "maxProblems"; known options are minExamples, maxReportedProblems, maxLineBytes',
    );
  });

  it.each([
    ['minExamples', 0, '0'],
    ['minExamples', -3, '-3'],
    ['maxReportedProblems', 2.5, '2.5'],
    ['maxReportedProblems', Number.NaN, 'NaN'],
    ['minExamples', '10', '10'],
    ['maxLineBytes', 0, '0'],
    ['maxLineBytes', 1.5, '1.5'],
    ['maxLineBytes', Number.POSITIVE_INFINITY, 'Infinity'],
    ['maxLineBytes', '1024', '1024'],
  ])('rejects %s = %s as not a positive integer', (key, value, shown) => {
    // Prepare
    const options = { [key]: value } as unknown as { minExamples: number };

    // Act
    const construct = () => new DatasetValidator(options);

    // Assess
    expect(construct).toThrow(`Dataset validator option "${key}" must be a positive integer, got ${shown}`);
  });

  it('applies a custom minimum example count', () => {
    // Prepare
    const bytes = encodeLines(validChatRows.slice(0, 2));

    // Act
    const report = validateDataset(bytes, { minExamples: 2, maxReportedProblems: 1 });

    // Assess
    expect(report.valid).toBe(true);
    expect(report.examples).toBe(2);
  });
});

describe('validateDataset on valid files', () => {
  it('accepts a chat file and estimates its tokens', () => {
    // Prepare
    const bytes = encodeLines(validChatRows);

    // Act
    const report = validateDataset(bytes);

    // Assess
    expect(report).toEqual({
      format: 'chat',
      examples: 10,
      lines: 10,
      estimatedTokens: 150,
      problems: [],
      problemCount: 0,
      valid: true,
    });
  });

  it('accepts chat rows using system messages, names and weights', () => {
    // Prepare
    const row = JSON.stringify({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi', name: 'ada' },
        { role: 'assistant', content: 'Hello', weight: 0 },
        { role: 'user', content: 'Again' },
        { role: 'assistant', content: 'Hello again', weight: 1 },
      ],
    });

    // Act
    const report = validateDataset(encodeLines(Array.from({ length: 10 }, () => row)));

    // Assess
    expect(report.valid).toBe(true);
    expect(report.examples).toBe(10);
  });

  it('accepts a prompt/completion file, including an empty prompt', () => {
    // Prepare
    const rows = Array.from({ length: 10 }, (_, index) =>
      JSON.stringify({ prompt: index === 0 ? '' : 'Translate: cat', completion: ' chat' }),
    );

    // Act
    const report = validateDataset(encodeLines(rows));

    // Assess
    expect(report).toEqual({
      format: 'prompt_completion',
      examples: 10,
      lines: 10,
      estimatedTokens: 2 + 9 * (4 + 2),
      problems: [],
      problemCount: 0,
      valid: true,
    });
  });

  it('ignores a UTF-8 byte order mark at the start of the file', () => {
    // Prepare
    const bytes = concatBytes(new Uint8Array([0xef, 0xbb, 0xbf]), encodeLines(validChatRows));

    // Act
    const report = validateDataset(bytes);

    // Assess
    expect(report.valid).toBe(true);
    expect(report.examples).toBe(10);
  });

  it('accepts CRLF line endings', () => {
    // Prepare
    const bytes = encoder.encode(`${validChatRows.join('\r\n')}\r\n`);

    // Act
    const report = validateDataset(bytes);

    // Assess
    expect(report.valid).toBe(true);
    expect(report.lines).toBe(10);
  });

  it('accepts trailing blank lines and a missing final newline', () => {
    // Prepare
    const withTrailingBlanks = encoder.encode(`${validChatRows.join('\n')}\n\n  \n\t\n`);
    const withoutFinalNewline = encoder.encode(validChatRows.join('\n'));

    // Act
    const trailingReport = validateDataset(withTrailingBlanks);
    const unterminatedReport = validateDataset(withoutFinalNewline);

    // Assess
    expect(trailingReport.valid).toBe(true);
    expect(trailingReport.lines).toBe(13);
    expect(unterminatedReport.valid).toBe(true);
    expect(unterminatedReport.lines).toBe(10);
  });
});

describe('validateDataset line rules', () => {
  const cases: ReadonlyArray<readonly [string, string, DatasetProblemCode, string]> = [
    ['invalid JSON', '{"messages": [', 'invalid_json', 'line is not valid JSON'],
    ['an array row', '[1, 2]', 'data_type', 'line is an array, not a JSON object'],
    ['a string row', '"hello"', 'data_type', 'line is a string, not a JSON object'],
    ['a number row', '42', 'data_type', 'line is a number, not a JSON object'],
    ['a null row', 'null', 'data_type', 'line is null, not a JSON object'],
    [
      'a row without messages or prompt',
      '{"input": "hi"}',
      'missing_messages_list',
      'line has neither a "messages" list (chat format) nor "prompt" and "completion" (prompt/completion format)',
    ],
    [
      'an empty messages list',
      '{"messages": []}',
      'missing_messages_list',
      '"messages" must be a non-empty array, got an empty array',
    ],
    [
      'messages that is not a list',
      '{"messages": "hi"}',
      'missing_messages_list',
      '"messages" must be a non-empty array, got "hi"',
    ],
    [
      'a message that is not an object',
      '{"messages": ["hi", {"role": "assistant", "content": "x"}]}',
      'message_missing_key',
      'messages[0] must be an object with "role" and "content", got a string',
    ],
    [
      'a message without role',
      '{"messages": [{"role": "user", "content": "q"}, {"content": "a"}]}',
      'message_missing_key',
      'messages[1] is missing the "role" key',
    ],
    [
      'a message without content',
      '{"messages": [{"role": "user"}, {"role": "assistant", "content": "a"}]}',
      'message_missing_key',
      'messages[0] is missing the "content" key',
    ],
    [
      'a message with an extra key',
      '{"messages": [{"role": "user", "content": "q", "mood": "sad"}, {"role": "assistant", "content": "a"}]}',
      'message_unrecognized_key',
      'messages[0] has unrecognized key "mood"; allowed keys are role, content, name, weight',
    ],
    [
      'an unknown role',
      '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "bot", "content": "b"}]}',
      'unrecognized_role',
      'messages[2].role "bot" is not one of system, user, assistant',
    ],
    [
      'a non-string role',
      '{"messages": [{"role": 3, "content": "q"}, {"role": "assistant", "content": "a"}]}',
      'unrecognized_role',
      'messages[0].role 3 is not one of system, user, assistant',
    ],
    [
      'empty content',
      '{"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "a"}]}',
      'missing_content',
      'messages[0].content must be a non-empty string, got ""',
    ],
    [
      'non-string content',
      '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": null}]}',
      'missing_content',
      'messages[1].content must be a non-empty string, got null',
    ],
    [
      'a weight on a user message',
      '{"messages": [{"role": "user", "content": "q", "weight": 1}, {"role": "assistant", "content": "a"}]}',
      'invalid_weight',
      'messages[0].weight is only allowed on assistant messages, not user',
    ],
    [
      'a weight that is not 0 or 1',
      '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": 0.5}]}',
      'invalid_weight',
      'messages[1].weight must be 0 or 1, got 0.5',
    ],
    [
      'an empty name',
      '{"messages": [{"role": "user", "content": "q", "name": ""}, {"role": "assistant", "content": "a"}]}',
      'invalid_name',
      'messages[0].name must be a non-empty string, got ""',
    ],
    [
      'no assistant message',
      '{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]}',
      'example_missing_assistant_message',
      'example has no assistant message to learn from',
    ],
    [
      'an extra top-level key in a chat row',
      '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "id": 7}',
      'unrecognized_key',
      'unrecognized top-level key "id" in a chat example',
    ],
    [
      'a prompt without completion',
      '{"prompt": "q"}',
      'invalid_prompt_completion',
      '"completion" is missing',
    ],
    [
      'an empty completion',
      '{"prompt": "q", "completion": ""}',
      'invalid_prompt_completion',
      '"completion" must be a non-empty string, got ""',
    ],
    [
      'a non-string prompt',
      '{"prompt": ["q"], "completion": "a"}',
      'invalid_prompt_completion',
      '"prompt" must be a string, got an array',
    ],
    [
      'a prompt/completion row in a chat file',
      '{"prompt": "q", "completion": "a"}',
      'mixed_formats',
      'example is in prompt/completion format but the first example (line 1) is in chat format; a file must use one format',
    ],
  ];

  it.each(cases)('reports %s', (_description, row, code, message) => {
    // Prepare
    const badLine = 4;

    // Act
    const report = validateWithRowAt(badLine, row);

    // Assess
    expect(report.problems).toEqual([{ line: badLine, code, message }]);
    expect(report.problemCount).toBe(1);
    expect(report.valid).toBe(false);
    expect(report.examples).toBe(10);
    expect(report.lines).toBe(11);
  });

  it('reports an unrecognized key in a prompt/completion file', () => {
    // Prepare
    const rows = Array.from({ length: 10 }, () => JSON.stringify({ prompt: 'q', completion: 'a' }));
    rows.splice(2, 0, '{"prompt": "q", "completion": "a", "label": 1}');

    // Act
    const report = validateDataset(encodeLines(rows));

    // Assess
    expect(report.problems).toEqual([
      {
        line: 3,
        code: 'unrecognized_key',
        message: 'unrecognized top-level key "label" in a prompt/completion example',
      },
    ]);
  });

  it('truncates a very long offending key in the message', () => {
    // Prepare
    const longKey = 'k'.repeat(100);
    const row = JSON.stringify({ messages: [{ role: 'assistant', content: 'a' }], [longKey]: 1 });

    // Act
    const report = validateWithRowAt(1, row);

    // Assess
    expect(report.problems).toEqual([
      {
        line: 1,
        code: 'unrecognized_key',
        message: `unrecognized top-level key "${'k'.repeat(40)}…" in a chat example`,
      },
    ]);
  });

  it('reports a line that is not valid UTF-8', () => {
    // Prepare
    const before = encodeLines(validChatRows.slice(0, 2));
    const invalid = concatBytes(
      encoder.encode('{"prompt": "'),
      new Uint8Array([0xc3, 0x28]),
      encoder.encode('"}\n'),
    );
    const after = encodeLines(validChatRows.slice(2));

    // Act
    const report = validateDataset(concatBytes(before, invalid, after));

    // Assess
    expect(report.problems).toEqual([{ line: 3, code: 'invalid_utf8', message: 'line is not valid UTF-8' }]);
  });

  it('reports a byte order mark that is not at the start of the file as invalid JSON', () => {
    // Prepare
    const bytes = encodeLines(withRowAt(2, `\uFEFF${validChatRows[0]}`));

    // Act
    const report = validateDataset(bytes);

    // Assess
    expect(report.problems).toEqual([{ line: 2, code: 'invalid_json', message: 'line is not valid JSON' }]);
  });

  it('reports every blank line that is followed by content', () => {
    // Prepare
    const rows = [...validChatRows];
    rows.splice(3, 0, '', '   \t');
    rows.push('', '');

    // Act
    const report = validateDataset(encodeLines(rows));

    // Assess
    expect(report.problems).toEqual([
      { line: 4, code: 'empty_line', message: 'line is blank but more examples follow it' },
      { line: 5, code: 'empty_line', message: 'line is blank but more examples follow it' },
    ]);
    expect(report.lines).toBe(14);
  });

  it('reports all problems in line order, not just the first', () => {
    // Prepare
    const rows = [...validChatRows];
    rows.splice(1, 0, 'not json');
    rows.splice(5, 0, '{"messages": [{"role": "bot", "content": "x"}]}');
    rows.push('[]');

    // Act
    const report = validateDataset(encodeLines(rows));

    // Assess
    expect(report.problems).toEqual([
      { line: 2, code: 'invalid_json', message: 'line is not valid JSON' },
      {
        line: 6,
        code: 'unrecognized_role',
        message: 'messages[0].role "bot" is not one of system, user, assistant',
      },
      { line: 13, code: 'data_type', message: 'line is an array, not a JSON object' },
    ]);
    expect(report.problemCount).toBe(3);
    expect(report.examples).toBe(10);
  });

  it('counts a mixed-format row as a problem, not as an example', () => {
    // Prepare
    const rows = [JSON.stringify({ prompt: 'p', completion: 'c' }), ...validChatRows];

    // Act
    const report = validateDataset(encodeLines(rows), { minExamples: 1 });

    // Assess
    expect(report.format).toBe('prompt_completion');
    expect(report.examples).toBe(1);
    expect(report.problemCount).toBe(10);
    expect(report.problems[0]).toEqual({
      line: 2,
      code: 'mixed_formats',
      message:
        'example is in chat format but the first example (line 1) is in prompt/completion format; a file must use one format',
    });
  });
});

describe('validateDataset file rules', () => {
  it('reports too few examples, counting only valid ones', () => {
    // Prepare
    const rows = [...validChatRows.slice(0, 3), '{}'];

    // Act
    const report = validateDataset(encodeLines(rows));

    // Assess
    expect(report.problems).toEqual([
      {
        line: 4,
        code: 'missing_messages_list',
        message:
          'line has neither a "messages" list (chat format) nor "prompt" and "completion" (prompt/completion format)',
      },
      { line: null, code: 'insufficient_examples', message: 'at least 10 examples are required, found 3' },
    ]);
    expect(report.format).toBe('chat');
    expect(report.examples).toBe(3);
    expect(report.estimatedTokens).toBe(45);
  });

  it.each([
    ['no bytes', new Uint8Array(0), 0],
    ['only blank lines', encoder.encode('\n  \n\n'), 3],
    ['only a byte order mark', new Uint8Array([0xef, 0xbb, 0xbf]), 1],
  ])('reports an empty file for %s', (_description, bytes, lines) => {
    // Prepare
    const validator = new DatasetValidator();

    // Act
    validator.push(bytes);
    const report = validator.finish();

    // Assess
    expect(report).toEqual({
      format: null,
      examples: 0,
      lines,
      estimatedTokens: 0,
      problems: [{ line: null, code: 'empty_file', message: 'file contains no examples' }],
      problemCount: 1,
      valid: false,
    });
  });

  it('reports found 0 with format null when no line is a valid example', () => {
    // Prepare
    const bytes = encodeLines(['nope']);

    // Act
    const report = validateDataset(bytes, { minExamples: 2 });

    // Assess
    expect(report.format).toBeNull();
    expect(report.problems).toEqual([
      { line: 1, code: 'invalid_json', message: 'line is not valid JSON' },
      { line: null, code: 'insufficient_examples', message: 'at least 2 examples are required, found 0' },
    ]);
  });
});

describe('problem cap', () => {
  it('reports the first problems up to the cap and counts the rest', () => {
    // Prepare
    const rows = [...validChatRows, ...Array.from({ length: 7 }, () => '42')];

    // Act
    const report = validateDataset(encodeLines(rows), { maxReportedProblems: 3 });

    // Assess
    expect(report.problems.map((problem) => problem.line)).toEqual([11, 12, 13]);
    expect(report.problemCount).toBe(7);
    expect(report.valid).toBe(false);
  });

  it('counts blank lines beyond the cap', () => {
    // Prepare
    const bytes = encoder.encode(`${'\n'.repeat(1000)}${validChatRows.join('\n')}\n`);

    // Act
    const report = validateDataset(bytes, { maxReportedProblems: 2 });

    // Assess
    expect(report.problems).toEqual([
      { line: 1, code: 'empty_line', message: 'line is blank but more examples follow it' },
      { line: 2, code: 'empty_line', message: 'line is blank but more examples follow it' },
    ]);
    expect(report.problemCount).toBe(1000);
    expect(report.examples).toBe(10);
  });

  it('counts a file-level problem beyond the cap', () => {
    // Prepare
    const bytes = encodeLines(['1', '2']);

    // Act
    const report = validateDataset(bytes, { maxReportedProblems: 2 });

    // Assess
    expect(report.problems.map((problem) => problem.code)).toEqual(['data_type', 'data_type']);
    expect(report.problemCount).toBe(3);
  });
});

describe('chunked input', () => {
  const smallFile = encoder.encode(
    [
      JSON.stringify({
        messages: [
          { role: 'user', content: 'café ☕' },
          { role: 'assistant', content: '😀' },
        ],
      }),
      '',
      '{"messages": [{"role": "user", "content": "x"}]}',
      JSON.stringify({ messages: [{ role: 'assistant', content: 'naïve', weight: 1 }] }),
      '{"prompt": "é", "completion": "ü"}',
      '',
    ].join('\n'),
  );
  const expected = validateDataset(smallFile, { minExamples: 1 });

  it('has the expected whole-file report', () => {
    // Prepare
    const expectedProblemLines = [2, 3, 5];

    // Act
    const lines = expected.problems.map((problem) => problem.line);

    // Assess
    expect(lines).toEqual(expectedProblemLines);
    expect(expected.examples).toBe(2);
    expect(expected.lines).toBe(5);
  });

  it('gives the same report for every single split point', () => {
    // Prepare
    const splitPoints = Array.from({ length: smallFile.length + 1 }, (_, index) => index);

    // Act
    const reports = splitPoints.map((splitPoint) => validateInChunks(smallFile, [splitPoint]));

    // Assess
    for (const report of reports) expect(report).toEqual(expected);
  });

  it('gives the same report for every pair of split points', () => {
    // Prepare
    const pairs: Array<[number, number]> = [];
    for (let first = 0; first <= smallFile.length; first++) {
      for (let second = first; second <= smallFile.length; second += 7) pairs.push([first, second]);
    }

    // Act
    const reports = pairs.map((pair) => validateInChunks(smallFile, pair));

    // Assess
    for (const report of reports) expect(report).toEqual(expected);
  });

  it('gives the same report when fed one byte at a time', () => {
    // Prepare
    const splitPoints = Array.from({ length: smallFile.length - 1 }, (_, index) => index + 1);

    // Act
    const report = validateInChunks(smallFile, splitPoints);

    // Assess
    expect(report).toEqual(expected);
  });

  it('strips a byte order mark split across chunks', () => {
    // Prepare
    const bytes = concatBytes(new Uint8Array([0xef, 0xbb, 0xbf]), encodeLines(validChatRows));

    // Act
    const report = validateInChunks(bytes, [1, 2]);

    // Assess
    expect(report.valid).toBe(true);
  });

  it('is unaffected by the caller reusing its buffer after push', () => {
    // Prepare
    const validator = new DatasetValidator({ minExamples: 1 });
    const reusedBuffer = new Uint8Array(16);

    // Act
    for (let offset = 0; offset < smallFile.length; offset += reusedBuffer.length) {
      const piece = smallFile.subarray(offset, offset + reusedBuffer.length);
      reusedBuffer.set(piece);
      validator.push(reusedBuffer.subarray(0, piece.length));
      reusedBuffer.fill(0x7b);
    }
    const report = validator.finish();

    // Assess
    expect(report).toEqual(expected);
  });

  it('refuses to push or finish after finishing', () => {
    // Prepare
    const validator = new DatasetValidator();
    validator.finish();

    // Act
    const pushAgain = () => validator.push(new Uint8Array([0x7b]));
    const finishAgain = () => validator.finish();

    // Assess
    expect(pushAgain).toThrow('DatasetValidator.push called after finish');
    expect(finishAgain).toThrow('DatasetValidator.finish may only be called once');
  });
});

describe('line length cap', () => {
  const lineCap = 32;
  const capOptions: DatasetValidatorOptions = { minExamples: 1, maxLineBytes: lineCap };
  const tooLong = { code: 'line_too_long', message: 'line is longer than 32 bytes' } as const;

  // `{"prompt":"","completion":""}` is 29 bytes, so the completion pads the row to an exact size.
  function rowOfBytes(bytes: number): string {
    return JSON.stringify({ prompt: '', completion: 'x'.repeat(bytes - 29) });
  }

  it('builds rows of the requested size', () => {
    // Prepare
    const sizes = [30, 32, 33];

    // Act
    const lengths = sizes.map((size) => encoder.encode(rowOfBytes(size)).length);

    // Assess
    expect(lengths).toEqual([30, 32, 33]);
  });

  it('defaults to 8 MiB: a line of exactly 8 MiB is accepted and one byte more is not', () => {
    // Prepare
    const eightMiB = 8 * 1024 * 1024;
    const atCap = encodeLines([rowOfBytes(eightMiB)]);
    const overCap = encodeLines([rowOfBytes(eightMiB + 1)]);

    // Act
    const atCapReport = validateDataset(atCap, { minExamples: 1 });
    const overCapReport = validateDataset(overCap, { minExamples: 1 });

    // Assess
    expect(atCapReport.valid).toBe(true);
    expect(overCapReport.problems).toEqual([
      { line: 1, code: 'line_too_long', message: 'line is longer than 8388608 bytes' },
      { line: null, code: 'insufficient_examples', message: 'at least 1 examples are required, found 0' },
    ]);
  });

  it('accepts a line of exactly maxLineBytes', () => {
    // Prepare
    const bytes = encodeLines([rowOfBytes(lineCap), rowOfBytes(30)]);

    // Act
    const report = validateDataset(bytes, capOptions);

    // Assess
    expect(report.valid).toBe(true);
    expect(report.examples).toBe(2);
  });

  it('rejects a line one byte over maxLineBytes and still validates the lines after it', () => {
    // Prepare
    const bytes = encodeLines([rowOfBytes(30), rowOfBytes(lineCap + 1), rowOfBytes(lineCap), '42']);

    // Act
    const report = validateDataset(bytes, capOptions);

    // Assess
    expect(report).toEqual({
      format: 'prompt_completion',
      examples: 2,
      lines: 4,
      estimatedTokens: 1 + 1,
      problems: [
        { line: 2, ...tooLong },
        { line: 4, code: 'data_type', message: 'line is a number, not a JSON object' },
      ],
      problemCount: 2,
      valid: false,
    });
  });

  it('judges the cap before JSON, so a short invalid line is invalid JSON and a long one is too long', () => {
    // Prepare
    const bytes = encodeLines(['a'.repeat(lineCap), 'a'.repeat(lineCap + 1), rowOfBytes(30)]);

    // Act
    const report = validateDataset(bytes, capOptions);

    // Assess
    expect(report.problems).toEqual([
      { line: 1, code: 'invalid_json', message: 'line is not valid JSON' },
      { line: 2, ...tooLong },
    ]);
  });

  it('reports every long line with its own line number, including an unterminated last one', () => {
    // Prepare
    const lines = [
      rowOfBytes(31),
      'a'.repeat(1000),
      rowOfBytes(30),
      '',
      ' '.repeat(lineCap + 1),
      rowOfBytes(lineCap),
      `{"prompt": "${'y'.repeat(5000)}"`,
      rowOfBytes(30),
      'z'.repeat(lineCap + 100),
    ];
    const bytes = encoder.encode(lines.join('\n'));

    // Act
    const report = validateDataset(bytes, capOptions);

    // Assess
    expect(report).toEqual({
      format: 'prompt_completion',
      examples: 4,
      lines: 9,
      estimatedTokens: 4,
      problems: [
        { line: 2, ...tooLong },
        { line: 4, code: 'empty_line', message: 'line is blank but more examples follow it' },
        { line: 5, ...tooLong },
        { line: 7, ...tooLong },
        { line: 9, ...tooLong },
      ],
      problemCount: 5,
      valid: false,
    });
  });

  it('counts neither a CRLF ending nor a leading byte order mark towards the cap', () => {
    // Prepare
    const accepted = concatBytes(
      new Uint8Array([0xef, 0xbb, 0xbf]),
      encoder.encode(`${rowOfBytes(lineCap)}\r\n${rowOfBytes(lineCap)}\r\n`),
    );
    const rejected = encoder.encode(`${rowOfBytes(lineCap)}\r\n${rowOfBytes(lineCap + 1)}\r\n`);

    // Act
    const acceptedReport = validateDataset(accepted, capOptions);
    const rejectedReport = validateDataset(rejected, capOptions);

    // Assess
    expect(acceptedReport.valid).toBe(true);
    expect(acceptedReport.examples).toBe(2);
    expect(rejectedReport.problems).toEqual([{ line: 2, ...tooLong }]);
  });

  describe('chunked', () => {
    const chunkedFile = concatBytes(
      new Uint8Array([0xef, 0xbb, 0xbf]),
      encoder.encode(
        [
          `${rowOfBytes(lineCap)}\r`,
          rowOfBytes(lineCap + 1),
          '',
          `${rowOfBytes(lineCap + 1)}\r`,
          rowOfBytes(30),
          'b'.repeat(lineCap + 5),
          ' '.repeat(lineCap + 1),
          rowOfBytes(lineCap),
          'c'.repeat(lineCap + 3),
        ].join('\n'),
      ),
    );
    const expected = validateDataset(chunkedFile, capOptions);

    it('has the expected whole-file report', () => {
      // Prepare
      const expectedProblems = [
        { line: 2, ...tooLong },
        { line: 3, code: 'empty_line', message: 'line is blank but more examples follow it' },
        { line: 4, ...tooLong },
        { line: 6, ...tooLong },
        { line: 7, ...tooLong },
        { line: 9, ...tooLong },
      ];

      // Act
      const { problems, examples, lines } = expected;

      // Assess
      expect(problems).toEqual(expectedProblems);
      expect(examples).toBe(3);
      expect(lines).toBe(9);
    });

    it('gives the same report for every single split point', () => {
      // Prepare
      const splitPoints = Array.from({ length: chunkedFile.length + 1 }, (_, index) => index);

      // Act
      const reports = splitPoints.map((splitPoint) =>
        validateInChunks(chunkedFile, [splitPoint], capOptions),
      );

      // Assess
      for (const report of reports) expect(report).toEqual(expected);
    });

    it('gives the same report for every pair of split points', () => {
      // Prepare
      const pairs: Array<[number, number]> = [];
      for (let first = 0; first <= chunkedFile.length; first++) {
        for (let second = first; second <= chunkedFile.length; second += 5) pairs.push([first, second]);
      }

      // Act
      const reports = pairs.map((pair) => validateInChunks(chunkedFile, pair, capOptions));

      // Assess
      for (const report of reports) expect(report).toEqual(expected);
    });

    it('gives the same report when fed one byte at a time', () => {
      // Prepare
      const splitPoints = Array.from({ length: chunkedFile.length - 1 }, (_, index) => index + 1);

      // Act
      const report = validateInChunks(chunkedFile, splitPoints, capOptions);

      // Assess
      expect(report).toEqual(expected);
    });

    it('rejects a line of cap + 1 bytes wherever it is split', () => {
      // Prepare
      const bytes = encodeLines(['a'.repeat(lineCap + 1), rowOfBytes(30)]);
      const splitPoints = Array.from({ length: bytes.length + 1 }, (_, index) => index);

      // Act
      const reports = splitPoints.map((splitPoint) => validateInChunks(bytes, [splitPoint], capOptions));

      // Assess
      for (const report of reports) {
        expect(report.problems).toEqual([{ line: 1, ...tooLong }]);
        expect(report.examples).toBe(1);
        expect(report.lines).toBe(2);
      }
    });
  });

  // The timeout is the speed check: skipping the overflowing bytes is a scan, not a copy.
  it('keeps memory bounded by the cap for 64 MiB without a newline', { timeout: 2_000 }, () => {
    // Prepare
    const oneMiB = 1024 * 1024;
    const validator = new DatasetValidator({ minExamples: 1, maxLineBytes: oneMiB });
    const chunk = new Uint8Array(oneMiB).fill(0x61);
    const arrayBuffersBefore = process.memoryUsage().arrayBuffers;

    // Act
    for (let pushed = 0; pushed < 64; pushed++) validator.push(chunk);
    const arrayBuffersGrowth = process.memoryUsage().arrayBuffers - arrayBuffersBefore;
    const report = validator.finish();

    // Assess
    expect(arrayBuffersGrowth).toBeLessThan(8 * oneMiB);
    expect(report).toEqual({
      format: null,
      examples: 0,
      lines: 1,
      estimatedTokens: 0,
      problems: [
        { line: 1, code: 'line_too_long', message: 'line is longer than 1048576 bytes' },
        { line: null, code: 'insufficient_examples', message: 'at least 1 examples are required, found 0' },
      ],
      problemCount: 2,
      valid: false,
    });
  });
});

describe('estimateExampleTokens', () => {
  it('estimates a chat example with names and multi-byte content', () => {
    // Prepare
    const example = {
      messages: [
        { role: 'user', content: 'héllo', name: 'ada' },
        { role: 'assistant', content: '😀😀' },
      ],
    };

    // Act
    const tokens = estimateExampleTokens(example);

    // Assess
    // 3 per example + (4 + ceil(6 / 4) + ceil(3 / 4)) + (4 + ceil(8 / 4))
    expect(tokens).toBe(3 + 7 + 6);
  });

  it('estimates a prompt/completion example', () => {
    // Prepare
    const example = { prompt: 'abcde', completion: '€' };

    // Act
    const tokens = estimateExampleTokens(example);

    // Assess
    expect(tokens).toBe(2 + 1);
  });
});

describe('summarizeProblems', () => {
  function problemReport(problems: readonly DatasetProblem[], problemCount = problems.length) {
    return { ...validateDataset(encodeLines(validChatRows)), problems, problemCount, valid: false };
  }

  it('says so when there are no problems', () => {
    // Prepare
    const report = validateDataset(encodeLines(validChatRows));

    // Act
    const summary = summarizeProblems(report);

    // Assess
    expect(summary).toBe('no problems found');
  });

  it('lists every problem when all fit', () => {
    // Prepare
    const report = validateDataset(encodeLines(['1', '{"prompt": "a", "completion": "b"}', 'x']));

    // Act
    const summary = summarizeProblems(report);

    // Assess
    expect(summary).toBe(
      '3 problems: line 1: line is a number, not a JSON object; line 3: line is not valid JSON; ' +
        'at least 10 examples are required, found 1',
    );
  });

  it('uses the singular for one problem', () => {
    // Prepare
    const report = problemReport([{ line: 2, code: 'invalid_json', message: 'line is not valid JSON' }]);

    // Act
    const summary = summarizeProblems(report);

    // Assess
    expect(summary).toBe('1 problem: line 2: line is not valid JSON');
  });

  it('truncates to maxShown and counts the rest, including unreported ones', () => {
    // Prepare
    const rows = [...validChatRows, ...Array.from({ length: 8 }, () => 'null')];
    const report = validateDataset(encodeLines(rows), { maxReportedProblems: 4 });

    // Act
    const summary = summarizeProblems(report, 2);

    // Assess
    expect(summary).toBe(
      '8 problems: line 11: line is null, not a JSON object; line 12: line is null, not a JSON object ... and 6 more',
    );
  });

  it('gives only the count when maxShown is 0', () => {
    // Prepare
    const report = problemReport([{ line: null, code: 'empty_file', message: 'file contains no examples' }]);

    // Act
    const summary = summarizeProblems(report, 0);

    // Assess
    expect(summary).toBe('1 problem');
  });

  it('rejects a negative maxShown', () => {
    // Prepare
    const report = validateDataset(encodeLines(validChatRows));

    // Act
    const summarize = () => summarizeProblems(report, -1);

    // Assess
    expect(summarize).toThrow('summarizeProblems maxShown must be a non-negative integer, got -1');
  });
});

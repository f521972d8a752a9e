import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError, ExampleError, type JsonlExample, readJsonlExamples } from '../../../trainer/src/data';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'whetstone-jsonl-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function readAll(file: string): Promise<JsonlExample[]> {
  const examples: JsonlExample[] = [];
  for await (const example of readJsonlExamples(file)) examples.push(example);
  return examples;
}

async function readError(file: string): Promise<ExampleError> {
  const error = await readAll(file).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ExampleError);
  return error as ExampleError;
}

const chatLine = JSON.stringify({
  messages: [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello' },
  ],
});

describe('readJsonlExamples', () => {
  it('reads one example per non-blank line with its line number, through a byte order mark and CRLF', async () => {
    // Prepare
    const file = join(root, 'train.jsonl');
    await writeFile(file, `\uFEFF${chatLine}\r\n\r\n  \n{"prompt":"Q","completion":"A"}\n${chatLine}`);

    // Act
    const examples = await readAll(file);

    // Assess
    expect(examples.map(({ line }) => line)).toEqual([1, 4, 5]);
    expect(examples[0]?.example).toEqual(JSON.parse(chatLine));
    expect(examples[1]?.example).toEqual({ prompt: 'Q', completion: 'A' });
  });

  it('names the file and line of a line that is not JSON', async () => {
    // Prepare
    const file = join(root, 'broken.jsonl');
    await writeFile(file, `${chatLine}\n{"messages": [\n`);

    // Act
    const error = await readError(file);

    // Assess
    expect(error.message).toMatch(/^broken\.jsonl:2: invalid JSON \(.+\)$/);
    expect(error.line).toBe(2);
    expect(error.file).toBe(file);
  });

  it('names the file, line and field of an invalid example', async () => {
    // Prepare
    const file = join(root, 'weights.jsonl');
    const bad = JSON.stringify({
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'x', weight: 2 },
      ],
    });
    await writeFile(file, `${chatLine}\n\n${bad}\n`);

    // Act
    const error = await readError(file);

    // Assess
    expect(error.message).toBe('weights.jsonl:3: "messages[1].weight" must be 0 or 1, got 2');
    expect(error.field).toBe('messages[1].weight');
    expect(error.line).toBe(3);
  });

  it('yields the examples before a bad line', async () => {
    // Prepare
    const file = join(root, 'late.jsonl');
    await writeFile(file, `${chatLine}\n${chatLine}\n[]\n`);
    const lines: number[] = [];

    // Act
    const error = await (async () => {
      for await (const { line } of readJsonlExamples(file)) lines.push(line);
    })().catch((caught: unknown) => caught);

    // Assess
    expect(lines).toEqual([1, 2]);
    expect((error as Error).message).toBe('late.jsonl:3: an example must be a JSON object, got []');
  });

  it('fails with a DataError for a file that cannot be opened', async () => {
    // Prepare
    const file = join(root, 'missing.jsonl');

    // Act
    const error = await readAll(file).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe(
      `${file}: cannot be read: ENOENT: no such file or directory, open '${file}'`,
    );
  });
});

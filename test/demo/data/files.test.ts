import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SPLIT,
  LABELS,
  MAX_EXAMPLE_TOKENS,
  MAX_PROMPT_CHARS,
  SYSTEM_PROMPT,
} from '../../../demo/data/dataset';
import { DEMO_OPTIONS, TRAINING_FILE, VALIDATION_FILE } from '../../../demo/run';
import { DEMO_BASE_MODEL } from '../../../lib/local/base-models';
import { encodeExample, parseTrainingExample } from '../../../trainer/src/data';
import { loadTokenizer } from '../../../trainer/src/tokenizer';

interface Line {
  readonly messages: readonly { readonly role: string; readonly content: string }[];
}

function readLines(path: string): Line[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line);
}

const train = readLines(TRAINING_FILE);
const validation = readLines(VALIDATION_FILE);
const manifest = JSON.parse(readFileSync(join(__dirname, '../../../demo/data/manifest.json'), 'utf8')) as {
  files: Record<string, { examples: number; labels: Record<string, number>; sources: string[] }>;
};

function labelCounts(lines: readonly Line[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) {
    const label = line.messages[2]?.content ?? '';
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

/**
 * The committed demo files, as demo/data/build.ts wrote them: what the demo's job trains on and
 * is scored against.
 */
describe('the demo dataset files', () => {
  it('hold 360 training and 80 validation examples, half spam and half ham', () => {
    // Assess
    expect(DEFAULT_SPLIT).toEqual({ trainPerLabel: 180, validationPerLabel: 40 });
    expect(labelCounts(train)).toEqual({ spam: 180, ham: 180 });
    expect(labelCounts(validation)).toEqual({ spam: 40, ham: 40 });
  });

  it('are system, user, assistant chats whose answer is exactly a label', () => {
    // Assess
    for (const line of [...train, ...validation]) {
      expect(Object.keys(line)).toEqual(['messages']);
      expect(line.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant']);
      expect(line.messages[0]?.content).toBe(SYSTEM_PROMPT);
      expect(line.messages[1]?.content.length).toBeGreaterThan(0);
      expect(line.messages[1]?.content.length).toBeLessThanOrEqual(MAX_PROMPT_CHARS);
      expect(LABELS).toContain(line.messages[2]?.content);
      expect(() => parseTrainingExample(line)).not.toThrow();
    }
  });

  it('share no e-mail, within a file or across the two', () => {
    // Prepare
    const prompts = [...train, ...validation].map((line) => line.messages[1]?.content);
    const sources = [
      ...(manifest.files['train.jsonl']?.sources ?? []),
      ...(manifest.files['validation.jsonl']?.sources ?? []),
    ];

    // Assess
    expect(new Set(prompts).size).toBe(440);
    expect(new Set(sources).size).toBe(440);
  });

  it('match the manifest of their build', () => {
    // Assess
    expect(manifest.files['train.jsonl']).toMatchObject({ examples: 360, labels: { spam: 180, ham: 180 } });
    expect(manifest.files['validation.jsonl']).toMatchObject({ examples: 80, labels: { spam: 40, ham: 40 } });
  });

  it("fit the demo job's max_seq_length with the demo model's tokenizer, at 150 to 250 tokens on average", async () => {
    // Prepare
    const tokenizer = await loadTokenizer(DEMO_BASE_MODEL.dir);

    // Act
    const lengths = [...train, ...validation].map(
      (line) =>
        encodeExample(tokenizer, parseTrainingExample(line), { maxSeqLen: Number.MAX_SAFE_INTEGER }).tokens
          .length,
    );

    // Assess
    expect(DEMO_OPTIONS.max_seq_length).toBe(MAX_EXAMPLE_TOKENS);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(MAX_EXAMPLE_TOKENS);
    const mean = lengths.reduce((sum, length) => sum + length, 0) / lengths.length;
    expect(mean).toBeGreaterThanOrEqual(150);
    expect(mean).toBeLessThanOrEqual(250);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChatExample,
  type ChatMessage,
  type DatasetProblemCode,
  DatasetValidator,
  validateDataset,
} from '../../../lib/core/datasets';

const encoder = new TextEncoder();

// Full code point range so multi-byte characters regularly land on chunk boundaries.
const contentArbitrary = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 });

const assistantMessageArbitrary: fc.Arbitrary<ChatMessage> = fc.record(
  { role: fc.constant('assistant'), content: contentArbitrary, weight: fc.constantFrom(0, 1) },
  { requiredKeys: ['role', 'content'] },
);

const userMessageArbitrary: fc.Arbitrary<ChatMessage> = fc.record(
  { role: fc.constant('user'), content: contentArbitrary, name: fc.string({ minLength: 1, maxLength: 6 }) },
  { requiredKeys: ['role', 'content'] },
);

const chatExampleArbitrary: fc.Arbitrary<ChatExample> = fc
  .tuple(
    fc.option(contentArbitrary, { nil: undefined }),
    fc.array(fc.tuple(userMessageArbitrary, assistantMessageArbitrary), { minLength: 1, maxLength: 3 }),
  )
  .map(([systemContent, turns]) => ({
    messages: [
      ...(systemContent === undefined ? [] : [{ role: 'system', content: systemContent }]),
      ...turns.flat(),
    ],
  }));

const chatDatasetArbitrary = fc.array(chatExampleArbitrary, { minLength: 11, maxLength: 25 });

function encodeRows(rows: readonly unknown[]): Uint8Array {
  return encoder.encode(`${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
}

function splitPointsArbitrary(maxPoints: number) {
  return fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: maxPoints });
}

function validateInChunks(bytes: Uint8Array, fractions: readonly number[]) {
  const validator = new DatasetValidator();
  const splitPoints = fractions.map((fraction) => Math.floor(fraction * bytes.length)).sort((a, b) => a - b);
  let start = 0;
  for (const splitPoint of [...splitPoints, bytes.length]) {
    validator.push(bytes.subarray(start, splitPoint));
    start = splitPoint;
  }
  return validator.finish();
}

type Mutation =
  | { readonly kind: 'dropRole' }
  | { readonly kind: 'badRole'; readonly role: string }
  | { readonly kind: 'badContent'; readonly content: unknown }
  | { readonly kind: 'badWeight'; readonly weight: unknown }
  | { readonly kind: 'extraMessageKey'; readonly key: string }
  | { readonly kind: 'extraTopLevelKey'; readonly key: string };

const unusedKeyArbitrary = (taken: readonly string[]) =>
  fc.string({ minLength: 1, maxLength: 8 }).filter((key) => !taken.includes(key) && key !== '__proto__');

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'dropRole' as const }),
  fc
    .string({ maxLength: 8 })
    .filter((role) => !['system', 'user', 'assistant'].includes(role))
    .map((role) => ({ kind: 'badRole' as const, role })),
  fc
    .oneof(
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(''),
      fc.array(fc.nat(), { maxLength: 2 }),
    )
    .map((content) => ({ kind: 'badContent' as const, content })),
  fc
    .oneof(
      fc.integer().filter((weight) => weight !== 0 && weight !== 1),
      fc.constantFrom(0.5, '1', true, null),
    )
    .map((weight) => ({ kind: 'badWeight' as const, weight })),
  unusedKeyArbitrary(['role', 'content', 'name', 'weight']).map((key) => ({
    kind: 'extraMessageKey' as const,
    key,
  })),
  unusedKeyArbitrary(['messages']).map((key) => ({ kind: 'extraTopLevelKey' as const, key })),
);

const expectedCodes: Record<Mutation['kind'], DatasetProblemCode> = {
  dropRole: 'message_missing_key',
  badRole: 'unrecognized_role',
  badContent: 'missing_content',
  badWeight: 'invalid_weight',
  extraMessageKey: 'message_unrecognized_key',
  extraTopLevelKey: 'unrecognized_key',
};

function applyMutation(example: ChatExample, messageIndex: number, mutation: Mutation): unknown {
  const messages: Record<string, unknown>[] = example.messages.map((message) => ({ ...message }));
  const target = messages[messageIndex];
  if (target === undefined) throw new Error('message index out of range');
  switch (mutation.kind) {
    case 'dropRole':
      delete target.role;
      break;
    case 'badRole':
      target.role = mutation.role;
      break;
    case 'badContent':
      target.content = mutation.content;
      break;
    case 'badWeight':
      target.weight = mutation.weight;
      break;
    case 'extraMessageKey':
      target[mutation.key] = 'surprise';
      break;
    case 'extraTopLevelKey':
      return { messages, [mutation.key]: 'surprise' };
  }
  return { messages };
}

describe('DatasetValidator properties', () => {
  it('accepts any valid chat dataset however it is chunked', () => {
    // Prepare
    const property = fc.property(chatDatasetArbitrary, splitPointsArbitrary(8), (examples, fractions) => {
      const bytes = encodeRows(examples);

      // Act
      const chunkedReport = validateInChunks(bytes, fractions);
      const wholeReport = validateDataset(bytes);

      // Assess
      expect(chunkedReport.problems).toEqual([]);
      expect(chunkedReport.valid).toBe(true);
      expect(chunkedReport.examples).toBe(examples.length);
      expect(chunkedReport).toEqual(wholeReport);
    });

    // Act / Assess
    fc.assert(property, { numRuns: 200 });
  });

  it('reports exactly one problem, on the mutated line, for a single mutated field', () => {
    // Prepare
    const scenarioArbitrary = chatDatasetArbitrary.chain((examples) =>
      fc.record({
        examples: fc.constant(examples),
        rowIndex: fc.nat({ max: examples.length - 1 }),
        messageFraction: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        mutation: mutationArbitrary,
        fractions: splitPointsArbitrary(4),
      }),
    );
    const property = fc.property(
      scenarioArbitrary,
      ({ examples, rowIndex, messageFraction, mutation, fractions }) => {
        const original = examples[rowIndex];
        if (original === undefined) throw new Error('row index out of range');
        const messageIndex = Math.floor(messageFraction * original.messages.length);
        const rows: unknown[] = [...examples];
        rows[rowIndex] = applyMutation(original, messageIndex, mutation);

        // Act
        const report = validateInChunks(encodeRows(rows), fractions);

        // Assess
        expect(report.problemCount).toBe(1);
        expect(report.problems).toHaveLength(1);
        expect(report.problems[0]?.line).toBe(rowIndex + 1);
        expect(report.problems[0]?.code).toBe(expectedCodes[mutation.kind]);
        expect(report.examples).toBe(examples.length - 1);
        if (mutation.kind !== 'extraTopLevelKey') {
          expect(report.problems[0]?.message).toMatch(new RegExp(`^messages\\[${messageIndex}\\]`));
        }
      },
    );

    // Act / Assess
    fc.assert(property, { numRuns: 200 });
  });
});

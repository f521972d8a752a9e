import { describe, expect, it } from 'vitest';
import {
  type ChatLine,
  type CorpusEmail,
  chatLine,
  promptOf,
  SYSTEM_PROMPT,
  seededRandom,
  selectSplits,
  shuffled,
  tokenBudget,
} from '../../../demo/data/dataset';
import { NotEnoughExamplesError } from '../../../demo/data/errors';

/** A plain e-mail whose body is long enough to be used, distinct per `n`. */
function email(label: 'spam' | 'ham', n: number, body?: string): CorpusEmail {
  const text =
    body ??
    `Message number ${n} for the ${label} pile, with words enough in it to be worth labelling at all.`;
  return {
    source: `${label}-1/${String(n).padStart(5, '0')}.txt`,
    label,
    raw: `Subject: ${label} ${n}\nContent-Type: text/plain\n\n${text}\n`,
  };
}

function corpus(perLabel: number): CorpusEmail[] {
  return [
    ...Array.from({ length: perLabel }, (_, n) => email('spam', n)),
    ...Array.from({ length: perLabel }, (_, n) => email('ham', n)),
  ];
}

describe('promptOf', () => {
  it('is the subject and body of a usable e-mail', () => {
    // Act
    const prompt = promptOf(email('ham', 7).raw);

    // Assess
    expect(prompt).toBe(
      'Subject: ham 7\n\nMessage number 7 for the ham pile, with words enough in it to be worth labelling at all.',
    );
  });

  it('refuses a body under 80 characters and text that is mostly not ASCII', () => {
    // Prepare
    const short = email('ham', 1, 'Thanks, will do.').raw;
    const foreign = email('spam', 2, '您好'.repeat(60)).raw;

    // Act
    const prompts = [promptOf(short), promptOf(foreign)];

    // Assess
    expect(prompts).toEqual([undefined, undefined]);
  });
});

describe('selectSplits', () => {
  it('draws balanced, disjoint splits, the same for the same seed', () => {
    // Prepare
    const emails = corpus(12);

    // Act
    const first = selectSplits(emails, 7, { trainPerLabel: 5, validationPerLabel: 3 });
    const again = selectSplits([...emails].reverse(), 7, { trainPerLabel: 5, validationPerLabel: 3 });
    const other = selectSplits(emails, 8, { trainPerLabel: 5, validationPerLabel: 3 });

    // Assess
    const count = (examples: readonly { label: string }[], label: string) =>
      examples.filter((example) => example.label === label).length;
    expect([count(first.train, 'spam'), count(first.train, 'ham')]).toEqual([5, 5]);
    expect([count(first.validation, 'spam'), count(first.validation, 'ham')]).toEqual([3, 3]);
    const trainSources = new Set(first.train.map((example) => example.source));
    expect(first.validation.filter((example) => trainSources.has(example.source))).toEqual([]);
    expect(again).toEqual(first);
    expect(other.train.map((example) => example.source)).not.toEqual(first.train.map((e) => e.source));
  });

  it('counts a resent e-mail once', () => {
    // Prepare: the second spam repeats the first one's text under another file name.
    const emails = [email('spam', 1), { ...email('spam', 1), source: 'spam-2/00001.txt' }, ...corpus(3)];

    // Act
    const failure = (() => {
      try {
        selectSplits(emails, 1, { trainPerLabel: 3, validationPerLabel: 1 });
        return undefined;
      } catch (error) {
        return error;
      }
    })();

    // Assess: spam 1 appears in corpus(3) too, so three distinct spam e-mails remain of five files.
    expect(failure).toBeInstanceOf(NotEnoughExamplesError);
    expect((failure as Error).message).toBe('only 3 usable spam e-mails, but the split needs 4');
  });
});

describe('tokenBudget', () => {
  /** One token per word of the user turn, plus ten for the rest of the example. */
  const countWords = (line: ChatLine) => (line.messages[1].content.match(/\S+/g)?.length ?? 0) + 10;
  const example = { source: 'ham-1/00001.txt', label: 'ham' as const, prompt: 'Subject: a b\n\nc d e f g' };

  it('keeps an example that fits and cuts a longer one at the last word that fits', () => {
    // Act
    const kept = tokenBudget(countWords, 18)(example);
    const cut = tokenBudget(countWords, 15)(example);

    // Assess
    expect(kept).toBe(example);
    expect(cut).toEqual({ ...example, prompt: 'Subject: a b\n\nc d' });
  });

  it('refuses an example that cannot keep more than its subject line', () => {
    // Act
    const refused = tokenBudget(countWords, 13)(example);

    // Assess
    expect(refused).toBeUndefined();
  });

  it('shortens every example selectSplits draws', () => {
    // Prepare: three e-mails of each label, one of them 31 words long; the budget leaves 20 of its words.
    const long = `${'word '.repeat(30)}end`;
    const emails = [...corpus(2), email('spam', 90, long), email('ham', 91, long)];
    const budget = tokenBudget(countWords, 10 + 3 + 20);

    // Act
    const splits = selectSplits(emails, 3, { trainPerLabel: 2, validationPerLabel: 1 }, budget);

    // Assess
    const selected = [...splits.train, ...splits.validation];
    expect(selected).toHaveLength(6);
    const cut = selected.filter((example) => /\/0009[01]\.txt$/.test(example.source));
    expect(cut.map((example) => example.prompt)).toEqual(
      expect.arrayContaining([
        `Subject: spam 90\n\n${'word '.repeat(20).trim()}`,
        `Subject: ham 91\n\n${'word '.repeat(20).trim()}`,
      ]),
    );
    expect(cut).toHaveLength(2);
  });
});

describe('chatLine', () => {
  it('is the system prompt, the e-mail as the user turn and the label as the answer', () => {
    // Act
    const line = chatLine({ prompt: 'Subject: hi', label: 'ham' });

    // Assess
    expect(line).toEqual({
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: 'Subject: hi' },
        { role: 'assistant', content: 'ham' },
      ],
    });
  });
});

describe('seededRandom and shuffled', () => {
  it('give a fixed permutation for a fixed seed', () => {
    // Act
    const order = shuffled([1, 2, 3, 4, 5, 6, 7, 8], seededRandom(42));
    const again = shuffled([1, 2, 3, 4, 5, 6, 7, 8], seededRandom(42));

    // Assess
    expect(order).toEqual(again);
    expect([...order].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(order).not.toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

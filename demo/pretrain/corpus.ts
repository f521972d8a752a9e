/**
 * The pre-training corpus: plain English text from two Debian packages, split into documents, with a
 * deterministic held-out share.
 *
 * - King James Bible (public domain), package `bible-kjv-text` (`/usr/lib/bible.data`, a compressed
 *   data file), decoded by the `bible` program of package `bible-kjv`: one document per chapter, one
 *   verse per line, verse references dropped.
 * - WordNet 3.0 glosses (WordNet 3.0 licence), package `wordnet-base`:
 *   `/usr/share/wordnet/data.{noun,verb,adj,adv}`: one line per synset, `lemma, lemma: gloss`, in
 *   documents of {@link SYNSETS_PER_DOCUMENT} consecutive synsets.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const BIBLE_PROGRAM = '/usr/bin/bible';
export const BIBLE_DATA = '/usr/lib/bible.data';
export const WORDNET_FILES = [
  '/usr/share/wordnet/data.noun',
  '/usr/share/wordnet/data.verb',
  '/usr/share/wordnet/data.adj',
  '/usr/share/wordnet/data.adv',
] as const;
export const SYNSETS_PER_DOCUMENT = 16;
/** Document i is held out when i % HELD_OUT_EVERY === HELD_OUT_REMAINDER: 1 in 64, about 1.6%. */
export const HELD_OUT_EVERY = 64;
export const HELD_OUT_REMAINDER = 37;

export interface Document {
  /** Where it comes from, e.g. `kjv:Ge1` or `wordnet:data.noun:3`. */
  readonly source: string;
  readonly text: string;
}

export interface Corpus {
  readonly train: readonly Document[];
  readonly heldOut: readonly Document[];
}

export class CorpusError extends Error {
  readonly file: string;
  constructor(file: string, message: string, options: { cause?: unknown } = {}) {
    super(`${file}: ${message}`, options);
    this.name = 'CorpusError';
    this.file = file;
  }
}

/** NFC, tabs and runs of spaces to one space, lines trimmed, empty lines dropped. */
export function normaliseText(text: string): string {
  return text
    .normalize('NFC')
    .split(/\r?\n/)
    .map((line) => line.replace(/[\t ]+/g, ' ').trim())
    .filter((line) => line.length > 0)
    .join('\n');
}

const VERSE = /^(\d?[A-Za-z]+)(\d+):(\d+) (.*)$/;

/** `bible -f` output (`Ge1:1 In the beginning ...`, one verse a line) as one document per chapter. */
export function bibleChapters(output: string): Document[] {
  const chapters: Document[] = [];
  let chapter: string | null = null;
  let verses: string[] = [];
  const close = () => {
    if (chapter !== null) chapters.push({ source: `kjv:${chapter}`, text: normaliseText(verses.join('\n')) });
  };
  for (const [index, line] of output.split('\n').entries()) {
    if (line.trim() === '') continue;
    const match = VERSE.exec(line);
    if (!match)
      throw new CorpusError(BIBLE_DATA, `line ${index + 1} is not a verse: ${JSON.stringify(line)}`);
    const key = `${match[1]}${match[2]}`;
    if (chapter !== key) {
      close();
      chapter = key;
      verses = [];
    }
    verses.push(match[4] as string);
  }
  close();
  return chapters;
}

export function readBible(): Document[] {
  let output: string;
  try {
    output = execFileSync(BIBLE_PROGRAM, ['-f', 'gen1:1-rev22:21'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, COLUMNS: '100000' },
    });
  } catch (error) {
    throw new CorpusError(
      BIBLE_PROGRAM,
      'cannot decode the King James Bible; install it with `apt-get install -y bible-kjv bible-kjv-text`',
      { cause: error },
    );
  }
  const chapters = bibleChapters(output);
  if (chapters.length !== 1189) {
    throw new CorpusError(
      BIBLE_DATA,
      `expected the 1189 chapters of the King James Bible, got ${chapters.length}`,
    );
  }
  return chapters;
}

/**
 * One synset line of a WordNet data file as `lemma, lemma: gloss`; null for the licence header
 * (lines that start with two spaces).
 */
export function wordnetLine(line: string, file: string): string | null {
  if (line.startsWith('  ') || line.trim() === '') return null;
  const bar = line.indexOf(' | ');
  const fields = line.slice(0, bar === -1 ? line.length : bar).split(' ');
  const wordCount = Number.parseInt(fields[3] ?? '', 16);
  if (bar === -1 || !Number.isInteger(wordCount) || wordCount < 1) {
    throw new CorpusError(file, `not a synset line: ${JSON.stringify(line.slice(0, 80))}`);
  }
  const lemmas: string[] = [];
  for (let i = 0; i < wordCount; i++) {
    const word = fields[4 + 2 * i];
    if (word === undefined)
      throw new CorpusError(file, `synset ${fields[0]} has fewer than ${wordCount} words`);
    // Adjective lemmas may carry a syntactic marker: (a), (p) or (ip).
    const lemma = word.replace(/\((a|p|ip)\)$/, '').replaceAll('_', ' ');
    if (!lemmas.includes(lemma)) lemmas.push(lemma);
  }
  return `${lemmas.join(', ')}: ${line.slice(bar + 3).trim()}`;
}

export function readWordnet(): Document[] {
  const documents: Document[] = [];
  for (const file of WORDNET_FILES) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new CorpusError(file, 'cannot be read; install it with `apt-get install -y wordnet-base`', {
        cause: error,
      });
    }
    const lines = text.split('\n').flatMap((line) => wordnetLine(line, file) ?? []);
    const name = file.slice(file.lastIndexOf('/') + 1);
    for (let start = 0; start < lines.length; start += SYNSETS_PER_DOCUMENT) {
      documents.push({
        source: `wordnet:${name}:${start / SYNSETS_PER_DOCUMENT}`,
        text: normaliseText(lines.slice(start, start + SYNSETS_PER_DOCUMENT).join('\n')),
      });
    }
  }
  return documents;
}

/** Splits documents by position: every HELD_OUT_EVERY-th (from HELD_OUT_REMAINDER) is held out. */
export function splitDocuments(documents: readonly Document[]): Corpus {
  const train: Document[] = [];
  const heldOut: Document[] = [];
  for (const [index, document] of documents.entries()) {
    (index % HELD_OUT_EVERY === HELD_OUT_REMAINDER ? heldOut : train).push(document);
  }
  return { train, heldOut };
}

/** The whole corpus: the Bible's chapters, then WordNet's documents, split. */
export function buildCorpus(): Corpus {
  return splitDocuments([...readBible(), ...readWordnet()]);
}

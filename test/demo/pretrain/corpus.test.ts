import { describe, expect, it } from 'vitest';
import {
  bibleChapters,
  CorpusError,
  normaliseText,
  splitDocuments,
  wordnetLine,
} from '../../../demo/pretrain/corpus';

describe('normaliseText', () => {
  it('composes to NFC, collapses spaces and tabs, trims lines and drops empty ones', () => {
    // Act
    const text = normaliseText('  cafe\u0301\t\tau  lait \r\n\n   \nend ');

    // Assess
    expect(text).toBe('caf\u00e9 au lait\nend');
  });
});

describe('bibleChapters', () => {
  it('groups verses by chapter and drops the references', () => {
    // Prepare
    const output = [
      'Ge1:1 In the beginning God created the heaven and the earth.',
      'Ge1:2 And the earth was without form, and void;',
      'Ge2:1 Thus the heavens and the earth were finished,',
      '1Jo5:21 Little children, keep yourselves from idols. Amen.',
      '',
    ].join('\n');

    // Act
    const chapters = bibleChapters(output);

    // Assess
    expect(chapters).toEqual([
      {
        source: 'kjv:Ge1',
        text: 'In the beginning God created the heaven and the earth.\nAnd the earth was without form, and void;',
      },
      { source: 'kjv:Ge2', text: 'Thus the heavens and the earth were finished,' },
      { source: 'kjv:1Jo5', text: 'Little children, keep yourselves from idols. Amen.' },
    ]);
  });

  it('names a line that is not a verse', () => {
    // Act
    const parse = () => bibleChapters('Ge1:1 In the beginning\nGenesis 1\n');

    // Assess
    expect(parse).toThrow(CorpusError);
    expect(parse).toThrow('/usr/lib/bible.data: line 2 is not a verse: "Genesis 1"');
  });
});

describe('wordnetLine', () => {
  it('writes a synset as its distinct lemmas and gloss, without adjective markers', () => {
    // Prepare
    const line =
      '00001740 00 a 02 able(a) 0 able 1 004 = 05207437 n 0000 | (usually followed by `to\') having the necessary means; "able to swim"  ';

    // Act
    const text = wordnetLine(line, 'data.adj');

    // Assess
    expect(text).toBe('able: (usually followed by `to\') having the necessary means; "able to swim"');
  });

  it('joins multi-word lemmas with spaces', () => {
    // Act
    const text = wordnetLine(
      '00002137 03 n 02 abstraction 0 abstract_entity 0 010 @ 00001740 n 0000 | a general concept  ',
      'data.noun',
    );

    // Assess
    expect(text).toBe('abstraction, abstract entity: a general concept');
  });

  it('skips the licence header and refuses a line without a gloss', () => {
    // Act
    const header = wordnetLine('  1 This software and database is being provided to you', 'data.noun');
    const broken = () => wordnetLine('00001740 03 n 01 entity 0 000', 'data.noun');

    // Assess
    expect(header).toBeNull();
    expect(broken).toThrow('data.noun: not a synset line: "00001740 03 n 01 entity 0 000"');
  });
});

describe('splitDocuments', () => {
  it('holds out one document in 64, from the 38th', () => {
    // Prepare
    const documents = Array.from({ length: 200 }, (_, index) => ({ source: `d${index}`, text: 'x' }));

    // Act
    const { train, heldOut } = splitDocuments(documents);

    // Assess
    expect(heldOut.map((document) => document.source)).toEqual(['d37', 'd101', 'd165']);
    expect(train).toHaveLength(197);
  });
});

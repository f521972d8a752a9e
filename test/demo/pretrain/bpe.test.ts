import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BpeEncoder,
  BpeError,
  countPreTokens,
  preTokenize,
  tokenizerFiles,
  trainBpe,
  writeTokenizerFiles,
} from '../../../demo/pretrain/bpe';
import { encodeExample, parseTrainingExample } from '../../../trainer/src/data';
import { loadTokenizer, type Tokenizer } from '../../../trainer/src/tokenizer';

// Pre-tokens "ab", " ab", " cd", " cd": (a,b), (c,d) and (Ġ,c) all occur twice.
const TIE_TEXT = 'ab ab cd cd';
const MIXED_TEXT =
  "And God said, Let there be light: and there was light.\nThe café's 3 crêpes cost €12 — don't they? 🙂\n\n  tabs\tand  spaces ";

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'whetstone-bpe-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeAndLoad(name: string, model: ReturnType<typeof trainBpe>): Promise<Tokenizer> {
  const dir = join(root, name);
  writeTokenizerFiles(dir, tokenizerFiles(model, 512));
  return loadTokenizer(dir);
}

describe('preTokenize', () => {
  it('splits as GPT-2 does: contractions, a leading space kept with the word, trailing spaces apart', () => {
    // Act
    const pieces = preTokenize("I'll say  it's 42!\n");

    // Assess
    expect(pieces).toEqual(['I', "'ll", ' say', ' ', ' it', "'s", ' 42', '!', '\n']);
  });
});

describe('trainBpe', () => {
  it('merges the most frequent pair first and breaks ties by the left token, then the right', () => {
    // Prepare
    const counts = countPreTokens([TIE_TEXT]);

    // Act
    const model = trainBpe(counts, 1000);

    // Assess
    expect(model.merges).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['Ġ', 'cd'],
    ]);
    expect(model.tokens.slice(256)).toEqual(['ab', 'cd', 'Ġcd']);
    expect(model.tokens[32]).toBe('Ġ');
    expect(model.tokens[10]).toBe('Ċ');
    expect(model.tokens[97]).toBe('a');
  });

  it('stops at the requested number of tokens', () => {
    // Act
    const model = trainBpe(countPreTokens([TIE_TEXT]), 257);

    // Assess
    expect(model.merges).toEqual([['a', 'b']]);
  });

  it('gives the same merges whatever order the counts come in', () => {
    // Prepare
    const texts = ['the cat sat on the mat', 'then the rat ate the oat', 'that hat is the hat'];
    const forward = countPreTokens(texts);
    const backward = new Map([...forward].reverse());

    // Act
    const first = trainBpe(forward, 300);
    const second = trainBpe(backward, 300);

    // Assess
    expect(second.merges).toEqual(first.merges);
    // (a,t) occurs 9 times, (t,h) 7, then (th,e) 6 and (Ġ,the) 4.
    expect(first.merges.slice(0, 4)).toEqual([
      ['a', 't'],
      ['t', 'h'],
      ['th', 'e'],
      ['Ġ', 'the'],
    ]);
  });

  it('refuses a token count below the byte alphabet', () => {
    // Act
    const train = () => trainBpe(new Map(), 100);

    // Assess
    expect(train).toThrow(BpeError);
    expect(train).toThrow('tokenCount must be an integer from 256 to 65536, got 100');
  });
});

describe('the written tokenizer', () => {
  it('encodes through the loader exactly as the trainer does', async () => {
    // Prepare
    const model = trainBpe(countPreTokens([MIXED_TEXT, MIXED_TEXT, 'light and light and there']), 320);
    const tokenizer = await writeAndLoad('mixed', model);
    const encoder = new BpeEncoder(model);

    // Act
    const ours = encoder.encode(MIXED_TEXT);
    const loaded = tokenizer.encode(MIXED_TEXT, { addSpecialTokens: false });

    // Assess
    expect(loaded).toEqual(ours);
    expect(tokenizer.decode(loaded)).toBe(MIXED_TEXT);
    expect(tokenizer.vocabSize).toBe(323);
  });

  it('has the special tokens as single ids after the merges, eos <|im_end|>, pad <|endoftext|>, no bos', async () => {
    // Prepare
    const tokenizer = await writeAndLoad('tie', trainBpe(countPreTokens([TIE_TEXT]), 1000));

    // Act
    const ids = tokenizer.encode('<|im_start|>user\nab cd<|im_end|><|endoftext|>');

    // Assess
    expect(ids).toEqual([260, 117, 115, 101, 114, 10, 256, 258, 261, 259]);
    expect(tokenizer.vocabSize).toBe(262);
    expect(tokenizer.eosTokenId).toBe(261);
    expect(tokenizer.padTokenId).toBe(259);
    expect(tokenizer.bosTokenId).toBeNull();
    expect(tokenizer.hasChatTemplate).toBe(true);
  });

  it('renders ChatML and opens an assistant turn for generation', async () => {
    // Prepare
    const tokenizer = await writeAndLoad('template', trainBpe(countPreTokens([TIE_TEXT]), 1000));
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'ab' },
    ];

    // Act
    const text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });

    // Assess
    expect(text).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nab<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('encodes a chat example with loss only on the assistant content and its <|im_end|>', async () => {
    // Prepare
    const tokenizer = await writeAndLoad('chat', trainBpe(countPreTokens([TIE_TEXT]), 1000));
    const example = parseTrainingExample(
      JSON.parse('{"messages":[{"role":"user","content":"ab"},{"role":"assistant","content":"cd"}]}'),
    );

    // Act
    const encoded = encodeExample(tokenizer, example, { maxSeqLen: 64 });

    // Assess
    const assistant = [97, 115, 115, 105, 115, 116, 97, 110, 116];
    expect(Array.from(encoded.tokens)).toEqual([
      260,
      117,
      115,
      101,
      114,
      10,
      256,
      261,
      10,
      260,
      ...assistant,
      10,
      257,
      261,
      10,
    ]);
    const trained = Array.from(encoded.tokens).filter((_, index) => encoded.lossWeights[index] === 1);
    expect(trained).toEqual([257, 261]);
    expect(encoded.truncated).toBe(false);
  });
});

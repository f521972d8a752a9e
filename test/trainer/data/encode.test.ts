import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChatExample,
  DataError,
  encodeChatExample,
  encodeExample,
  encodePromptCompletionExample,
  renderChatExample,
} from '../../../trainer/src/data';
import { ChatTemplateError, loadTokenizer, type Tokenizer } from '../../../trainer/src/tokenizer';
import { writeTinyTokenizer } from '../../helpers/trainer/tiny-tokenizer';
import { fixtureTokenizerDir, llama3BaseDir } from '../tokenizer/fixture-dirs';

let root: string;
let llama3Base: Promise<Tokenizer> | undefined;
let tiny: Tokenizer;
let tinyWithBos: Tokenizer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'whetstone-encode-'));
  writeTinyTokenizer(join(root, 'tiny'));
  tiny = await loadTokenizer(join(root, 'tiny'));
  writeTinyTokenizer(join(root, 'tiny-bos'), { addBosToken: true });
  tinyWithBos = await loadTokenizer(join(root, 'tiny-bos'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function loadLlama3Base(): Promise<Tokenizer> {
  llama3Base ??= loadTokenizer(llama3BaseDir);
  return llama3Base;
}

function trainedPositions(weights: Float32Array): number[] {
  return Array.from(weights).flatMap((weight, index) => (weight === 1 ? [index] : []));
}

// Ids of the tiny tokenizer: bytes are their own ids, merges 256-283, special tokens 284-291.
const imStart = 286;
const imEnd = 287;
const newline = 10;
const userHeader = [imStart, 117, 115, 260, newline]; // <|im_start|> u s er \n
const assistantHeader = [imStart, 97, 115, 115, 269, 116, 261, 116, newline]; // <|im_start|> a s s is t an t \n

describe('encodeChatExample', () => {
  it('trains on the assistant content and its end-of-turn token only', () => {
    // Prepare
    const example: ChatExample = {
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello the cat' },
      ],
    };

    // Act
    const encoded = encodeChatExample(tiny, example, { maxSeqLen: 64 });

    // Assess
    expect(Array.from(encoded.tokens)).toEqual([
      ...userHeader,
      72, // H
      105, // i
      imEnd,
      newline,
      ...assistantHeader,
      276, // Hello
      258, // " the"
      283, // " cat"
      imEnd,
      newline,
    ]);
    expect(trainedPositions(encoded.lossWeights)).toEqual([18, 19, 20, 21]);
    expect(encoded.lossWeights).toHaveLength(23);
    expect(encoded.truncated).toBe(false);
  });

  it('leaves system and user messages and weight-0 assistant messages untrained', () => {
    // Prepare
    const example: ChatExample = {
      messages: [
        { role: 'system', content: 'Be nice.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
        { role: 'user', content: 'is?' },
        { role: 'assistant', content: 'you', weight: 0 },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'the cat', weight: 1 },
      ],
    };

    // Act
    const encoded = encodeChatExample(tiny, example, { maxSeqLen: 128 });

    // Assess
    expect(encoded.tokens).toHaveLength(84);
    // "Hello" <|im_end|> at 36-37; the weight-0 "you" (57-59) stays untrained; "the cat" <|im_end|> at 79-82.
    expect(Array.from(encoded.tokens.slice(36, 38))).toEqual([276, imEnd]);
    expect(Array.from(encoded.tokens.slice(57, 60))).toEqual([121, 262, imEnd]);
    expect(Array.from(encoded.tokens.slice(79, 83))).toEqual([116, 257, 283, imEnd]);
    expect(trainedPositions(encoded.lossWeights)).toEqual([36, 37, 79, 80, 81, 82]);
  });

  it('trains nothing when every assistant message has weight 0', () => {
    // Prepare
    const example: ChatExample = {
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello', weight: 0 },
      ],
    };

    // Act
    const encoded = encodeChatExample(tiny, example, { maxSeqLen: 64 });

    // Assess
    expect(encoded.tokens).toHaveLength(21);
    expect(trainedPositions(encoded.lossWeights)).toEqual([]);
  });

  it('keeps the first maxSeqLen tokens and says it truncated', () => {
    // Prepare
    const example: ChatExample = {
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello the cat' },
      ],
    };

    // Act
    const truncated = encodeChatExample(tiny, example, { maxSeqLen: 20 });
    const exact = encodeChatExample(tiny, example, { maxSeqLen: 23 });

    // Assess
    expect(Array.from(truncated.tokens)).toEqual(Array.from(exact.tokens.slice(0, 20)));
    expect(trainedPositions(truncated.lossWeights)).toEqual([18, 19]);
    expect(truncated.truncated).toBe(true);
    expect(exact.tokens).toHaveLength(23);
    expect(exact.truncated).toBe(false);
  });

  it('rejects a maxSeqLen that is not a positive integer', () => {
    // Prepare
    const example: ChatExample = { messages: [{ role: 'assistant', content: 'Hello' }] };

    // Act
    const act = () => encodeChatExample(tiny, example, { maxSeqLen: 0 });

    // Assess
    expect(act).toThrow(DataError);
    expect(act).toThrow('maxSeqLen must be a positive integer, got 0');
  });

  it('trains Llama 3 Instruct on each answer and its <|eot_id|>', async () => {
    // Prepare
    const llama3 = await loadTokenizer(await fixtureTokenizerDir('llama3-instruct', root));
    const example: ChatExample = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Capital of France?' },
        { role: 'assistant', content: 'Paris.' },
        { role: 'user', content: 'And Italy?' },
        { role: 'assistant', content: 'Rome.' },
      ],
    };

    // Act
    const encoded = encodeChatExample(llama3, example, { maxSeqLen: 128 });

    // Assess
    expect(Array.from(encoded.tokens)).toEqual([
      128000, 128006, 9125, 128007, 271, 3513, 10015, 13, 128009, 128006, 882, 128007, 271, 64693, 315, 9822,
      30, 128009, 128006, 78191, 128007, 271, 60704, 13, 128009, 128006, 882, 128007, 271, 3112, 15704, 30,
      128009, 128006, 78191, 128007, 271, 49, 638, 13, 128009,
    ]);
    // "Paris" "." <|eot_id|> and "R" "ome" "." <|eot_id|>.
    expect(trainedPositions(encoded.lossWeights)).toEqual([22, 23, 24, 37, 38, 39, 40]);
  });

  it("leaves out the assistant header Llama 3 base's template writes after every conversation", async () => {
    // Prepare
    const llama3 = await loadLlama3Base();
    const example: ChatExample = {
      messages: [
        { role: 'user', content: 'Hi!' },
        { role: 'assistant', content: 'Hello.' },
      ],
    };

    // Act
    const rendered = renderChatExample(llama3, example);
    const encoded = encodeChatExample(llama3, example, { maxSeqLen: 64 });

    // Assess
    expect(rendered.text.slice(...(rendered.spans[0] as [number, number]))).toBe('Hello.<|eot_id|>');
    expect(Array.from(encoded.tokens)).toEqual([
      128000, 128006, 882, 128007, 271, 13347, 0, 128009, 128006, 78191, 128007, 271, 9906, 13, 128009,
      128006, 78191, 128007, 271,
    ]);
    expect(trainedPositions(encoded.lossWeights)).toEqual([12, 13, 14]);
  });

  it('fails clearly when the template is not prefix-stable', async () => {
    // Prepare
    const llama3 = await loadLlama3Base();
    const example: ChatExample = {
      messages: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
        { role: 'assistant', content: 'd' },
      ],
    };

    // Act
    const act = () => encodeChatExample(llama3, example, { maxSeqLen: 64 });

    // Assess
    expect(act).toThrow(ChatTemplateError);
    expect(act).toThrow(
      'chat template is not prefix-stable: messages[0..1] is not a prefix of the whole conversation (they ' +
        'differ at character 147: "assistant<|end_header_id|>\\n\\n" vs "user<|end_header_id|>\\n\\nc<|eot_id|><|star"), ' +
        'so the assistant tokens cannot be located',
    );
  });

  it("trains Qwen 3's single answer with the think block its template writes, and rejects two answers", async () => {
    // Prepare
    const qwen3 = await loadTokenizer(await fixtureTokenizerDir('qwen3', root));
    const single: ChatExample = {
      messages: [
        { role: 'user', content: 'Café?' },
        { role: 'assistant', content: 'Oui, cafe\u0301.' },
      ],
    };
    const twoTurns: ChatExample = {
      messages: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
        { role: 'assistant', content: 'd' },
      ],
    };

    // Act
    const encoded = encodeChatExample(qwen3, single, { maxSeqLen: 64 });
    const act = () => encodeChatExample(qwen3, twoTurns, { maxSeqLen: 64 });

    // Assess
    expect(Array.from(encoded.tokens)).toEqual([
      151644, 872, 198, 34, 2577, 963, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271, 46,
      1963, 11, 51950, 13, 151645, 198,
    ]);
    // <think> \n\n </think> \n\n "O" "ui" "," " café" (the decomposed é in NFC) "." <|im_end|>.
    expect(trainedPositions(encoded.lossWeights)).toEqual([12, 13, 14, 15, 16, 17, 18, 19, 20, 21]);
    expect(act).toThrow(
      'chat template is not prefix-stable: messages[0..1] is not a prefix of the whole conversation (they ' +
        'differ at character 51: "<think>\\n\\n</think>\\n\\nb<|im_end|>\\n" vs "b<|im_end|>\\n<|im_start|>user\\nc<|im_end|>"), ' +
        'so the assistant tokens cannot be located',
    );
  });

  it('trains a SentencePiece tokenizer with the fallback template on the answer and its eos', async () => {
    // Prepare
    const mistral = await loadTokenizer(await fixtureTokenizerDir('mistral', root));
    const example: ChatExample = {
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Bonjour à tous' },
      ],
    };

    // Act
    const encoded = encodeChatExample(mistral, example, { maxSeqLen: 64 });

    // Assess
    expect(Array.from(encoded.tokens)).toEqual([
      1, 523, 28766, 321, 28730, 2521, 28766, 28767, 1838, 13, 23809, 2, 28705, 13, 28789, 28766, 321, 28730,
      2521, 28766, 28767, 489, 11143, 13, 28244, 18777, 1289, 16065, 2, 28705, 13,
    ]);
    // "Bon" "jour" "▁à" "▁tous" </s>; the space SentencePiece prepends after </s> (12, 29) stays untrained.
    expect(trainedPositions(encoded.lossWeights)).toEqual([24, 25, 26, 27, 28]);
  });

  it('passes the example tools to the template', async () => {
    // Prepare
    const dir = join(root, 'tiny-tools');
    writeTinyTokenizer(dir, {
      chatTemplate:
        "{%- if tools %}{{- '<|im_start|>system\\n' + (tools | length | string) + ' tools<|im_end|>\\n' }}{%- endif %}" +
        "{%- for m in messages %}{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endfor %}" +
        "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
    });
    const withTools = await loadTokenizer(dir);
    const example: ChatExample = {
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'the' },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
    };

    // Act
    const rendered = renderChatExample(withTools, example);

    // Assess
    expect(rendered.text).toBe(
      '<|im_start|>system\n1 tools<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nthe<|im_end|>\n',
    );
    expect(rendered.spans).toEqual([[89, 102]]);
  });
});

describe('encodePromptCompletionExample', () => {
  it('trains on the completion and the eos appended after it', () => {
    // Act
    const encoded = encodePromptCompletionExample(
      tinyWithBos,
      { prompt: 'Q: the cat', completion: ' is here' },
      { maxSeqLen: 64 },
    );

    // Assess
    // <|begin_of_text|> Q : " the" " cat" | " " is " " he r e <|im_end|>
    expect(Array.from(encoded.tokens)).toEqual([284, 81, 58, 258, 283, 32, 269, 32, 257, 114, 101, imEnd]);
    expect(trainedPositions(encoded.lossWeights)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(encoded.truncated).toBe(false);
  });

  it('trains a token that straddles the prompt/completion boundary', () => {
    // Act
    const encoded = encodePromptCompletionExample(
      tiny,
      { prompt: 'Hello the c', completion: 'at' },
      { maxSeqLen: 64 },
    );

    // Assess
    expect(Array.from(encoded.tokens)).toEqual([276, 258, 283, imEnd]);
    expect(trainedPositions(encoded.lossWeights)).toEqual([2, 3]);
  });

  it('truncates like chat examples', () => {
    // Act
    const encoded = encodeExample(
      tinyWithBos,
      { prompt: 'Q: the cat', completion: ' is here' },
      { maxSeqLen: 6 },
    );

    // Assess
    expect(Array.from(encoded.tokens)).toEqual([284, 81, 58, 258, 283, 32]);
    expect(trainedPositions(encoded.lossWeights)).toEqual([5]);
    expect(encoded.truncated).toBe(true);
  });

  it('fails when the tokenizer has no eos token', async () => {
    // Prepare
    const dir = join(root, 'no-eos');
    writeTinyTokenizer(dir);
    const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
    const eosCandidates = ['<|endoftext|>', '<|im_end|>', '<|eot_id|>'];
    json.added_tokens = json.added_tokens.filter(
      (token: { content: string }) => !eosCandidates.includes(token.content),
    );
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
    const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'));
    config.eos_token = null;
    config.pad_token = null;
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
    const noEos = await loadTokenizer(dir);

    // Act
    const act = () =>
      encodePromptCompletionExample(noEos, { prompt: 'a', completion: 'b' }, { maxSeqLen: 8 });

    // Assess
    expect(noEos.eosTokenId).toBeNull();
    expect(act).toThrow(DataError);
    expect(act).toThrow(
      'the tokenizer has no eos token, which a prompt-completion example needs to end with',
    );
  });
});

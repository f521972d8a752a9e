import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadTokenizer,
  type Tokenizer,
  TokenizerError,
  TokenizerFileError,
} from '../../../trainer/src/tokenizer';
import { writeTinyTokenizer } from '../../helpers/trainer/tiny-tokenizer';
import { fixtureTokenizerDir, llama3BaseDir } from './fixture-dirs';

// Expected ids. Llama 3: the cases of the llama3-tokenizer-js 1.2.0 npm package's test suite (whose
// "This is a test sentence." case comes from Meta's llama3 repository), extended with further strings.
// GPT-2: "Hello world" and "Hello, my dog is cute" are the ids of Hugging Face's GPT-2 documentation.
// Every array, those included, equals the output of Hugging Face's Rust `tokenizers` 0.22.2 (through its
// Node binding `@anush008/tokenizers` 0.6.0, run once outside this repository) on the same tokenizer.json
// with add_special_tokens=False.
const sharedStrings = [
  'Hello world',
  ' grabbed',
  '           grabbed',
  '\ttabs\t\t\t\tout here',
  'ax\n####\nboo',
  'café naïve résumé',
  'Straße in Zürich',
  '你好，世界！',
  '日本語のテキスト',
  '🦙 and 👍🏽',
  'Ꙋ🦙',
  '12345678901',
  '3.14159 + 2,718',
  'a  b   c',
  'line1\n\n\nline2\r\n',
  "I'm sure they'll",
  'def f(x):\n    return x',
  'Привет, мир',
] as const;

type Cases = readonly (readonly [string, readonly number[]])[];

function withSharedStrings(ids: readonly (readonly number[])[]): Cases {
  return sharedStrings.map((text, index) => [text, ids[index] as readonly number[]] as const);
}

const llama3Cases: Cases = [
  ...withSharedStrings([
    [9906, 1917],
    [30418],
    [1881, 30418],
    [3324, 3518, 573, 14294, 1618],
    [710, 198, 71050, 34093],
    [936, 59958, 95980, 588, 9517, 1264, 978],
    [77414, 24352, 304, 1901, 5297, 718],
    [57668, 53901, 3922, 102616, 6447],
    [102433, 102158, 16144, 57933, 62903, 71634],
    [9468, 99, 247, 323, 62904, 235, 9468, 237, 121],
    [166, 247, 232, 9468, 99, 247],
    [4513, 10961, 16474, 1721],
    [18, 13, 9335, 2946, 489, 220, 17, 11, 21982],
    [64, 220, 293, 256, 272],
    [1074, 16, 1432, 1074, 17, 319],
    [40, 2846, 2771, 814, 3358],
    [755, 282, 2120, 997, 262, 471, 865],
    [54745, 28089, 8341, 11, 115388],
  ]),
  ['This is a test sentence.', [2028, 374, 264, 1296, 11914, 13]],
  ['镇', [104643]],
  ['🦙Ꙋ', [9468, 99, 247, 166, 247, 232]],
  ['\n', [198]],
  [' \n', [720]],
];

// Mistral 7B's SentencePiece-style BPE with byte fallback (as Llama 2's): a space is prepended.
const mistralCases: Cases = withSharedStrings([
  [22557, 1526],
  [28705, 13300],
  [17422, 13300],
  [28705, 12, 24856, 12, 12, 12, 12, 406, 1236],
  [6056, 13, 2000, 13, 1798, 28709],
  [28345, 1879, 28920, 333, 11310, 383, 28797],
  [12360, 9526, 297, 1054, 2355, 539],
  [28705, 29383, 29530, 28924, 30050, 29822, 29267],
  [28705, 29142, 29119, 30321, 28993, 29610, 29753, 29109, 29123],
  [28705, 243, 162, 169, 156, 304, 28705, 30195, 31007],
  [28705, 237, 156, 141, 243, 162, 169, 156],
  [28705, 28740, 28750, 28770, 28781, 28782, 28784, 28787, 28783, 28774, 28734, 28740],
  [28705, 28770, 28723, 28740, 28781, 28740, 28782, 28774, 648, 28705, 28750, 28725, 28787, 28740, 28783],
  [264, 28705, 287, 259, 277],
  [1407, 28740, 13, 13, 13, 1081, 28750, 28801, 13],
  [315, 28742, 28719, 1864, 590, 28742, 584],
  [801, 285, 28732, 28744, 1329, 13, 2287, 604, 1318],
  [11824, 8496, 28725, 6589, 28785],
]);

const gpt2Cases: Cases = [
  ...withSharedStrings([
    [15496, 995],
    [13176],
    [220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 13176],
    [197, 8658, 82, 197, 197, 197, 197, 448, 994],
    [897, 198, 4242, 198, 2127, 78],
    [66, 1878, 2634, 41492, 40560, 16345, 2634],
    [41347, 39683, 68, 287, 1168, 9116, 7527],
    [19526, 254, 25001, 121, 171, 120, 234, 10310, 244, 45911, 234, 171, 120, 223],
    [33768, 98, 17312, 105, 45739, 252, 5641, 24336, 25084, 43302],
    [8582, 99, 247, 290, 50169, 235, 8582, 237, 121],
    [166, 247, 232, 8582, 99, 247],
    [10163, 2231, 3134, 4531, 486],
    [18, 13, 1415, 19707, 1343, 362, 11, 45720],
    [64, 220, 275, 220, 220, 269],
    [1370, 16, 628, 198, 1370, 17, 201, 198],
    [40, 1101, 1654, 484, 1183],
    [4299, 277, 7, 87, 2599, 198, 220, 220, 220, 1441, 2124],
    [140, 253, 21169, 18849, 38857, 16843, 20375, 11, 12466, 120, 18849, 21169],
  ]),
  ['Hello, my dog is cute', [15496, 11, 616, 3290, 318, 13779]],
];

// Qwen 3: byte-level BPE with NFC normalization and single-digit splitting.
const qwen3Cases: Cases = withSharedStrings([
  [9707, 1879],
  [29318],
  [1843, 29318],
  [3244, 3435, 571, 13967, 1588],
  [706, 198, 69950, 32993],
  [924, 58858, 94880, 586, 9333, 1242, 963],
  [76314, 23455, 304, 1863, 5186, 713],
  [108386, 3837, 99489, 6313],
  [101059, 102819, 15767, 56833, 61803, 70534],
  [149955, 323, 61804, 235, 145375],
  [125001, 232, 149955],
  [16, 17, 18, 19, 20, 21, 22, 23, 24, 15, 16],
  [18, 13, 16, 19, 16, 20, 24, 488, 220, 17, 11, 22, 16, 23],
  [64, 220, 293, 256, 272],
  [1056, 16, 1406, 1056, 17, 319],
  [40, 2776, 2704, 807, 3278],
  [750, 282, 2075, 982, 262, 470, 856],
  [53645, 26991, 8178, 11, 137144],
]);

// biome-ignore lint/suspicious/noExplicitAny: the error tests edit parsed tokenizer files at any depth.
type JsonObject = Record<string, any>;

let root: string;
const tokenizers: Record<'llama3' | 'llama3-instruct' | 'mistral' | 'gpt2' | 'qwen3', Tokenizer> =
  {} as never;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'whetstone-tokenizer-'));
  tokenizers.llama3 = await loadTokenizer(llama3BaseDir);
  tokenizers['llama3-instruct'] = await loadTokenizer(await fixtureTokenizerDir('llama3-instruct', root));
  tokenizers.mistral = await loadTokenizer(await fixtureTokenizerDir('mistral', root));
  tokenizers.gpt2 = await loadTokenizer(await fixtureTokenizerDir('gpt2', root));
  tokenizers.qwen3 = await loadTokenizer(await fixtureTokenizerDir('qwen3', root));
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.each([
  ['llama3', llama3Cases],
  ['mistral', mistralCases],
  ['gpt2', gpt2Cases],
  ['qwen3', qwen3Cases],
] as const)('%s tokenizer', (name, cases) => {
  it.each(cases)('encodes %j as Hugging Face does', (text, expected) => {
    // Act
    const ids = tokenizers[name].encode(text, { addSpecialTokens: false });

    // Assess
    expect(ids).toEqual(expected);
  });

  it.each(cases)('decodes the ids of %j back to the text', (text, expected) => {
    // Act
    const decoded = tokenizers[name].decode(expected, { cleanUpTokenizationSpaces: false });

    // Assess
    expect(decoded).toBe(text);
  });
});

describe('special tokens', () => {
  it('recognises special tokens written in the text', () => {
    // Prepare
    const llama3 = tokenizers.llama3;

    // Act
    const header = llama3.encode('<|begin_of_text|>Hi<|eot_id|>', { addSpecialTokens: false });
    const inline = llama3.encode('x <|eot_id|> y', { addSpecialTokens: false });
    const chatMl = tokenizers.qwen3.encode('<|im_start|>user\nhi<|im_end|>', { addSpecialTokens: false });
    const mistral = tokenizers.mistral.encode('<s>[INST] hi [/INST] Hello </s>', { addSpecialTokens: false });

    // Assess
    expect(llama3.tokenToId('<|eot_id|>')).toBe(128009);
    expect(header).toEqual([128000, 13347, 128009]);
    expect(inline).toEqual([87, 220, 128009, 379]);
    expect(chatMl).toEqual([151644, 872, 198, 6023, 151645]);
    expect(mistral).toEqual([1, 733, 16289, 28793, 12014, 733, 28748, 16289, 28793, 22557, 28705, 2]);
  });

  it('adds what the post-processor adds only when asked', () => {
    // Act
    const mistralWith = tokenizers.mistral.encode('Hello world');
    const mistralWithout = tokenizers.mistral.encode('Hello world', { addSpecialTokens: false });
    const llama3With = tokenizers.llama3.encode('Hello world', { addSpecialTokens: true });

    // Assess
    expect(mistralWith).toEqual([1, 22557, 1526]);
    expect(mistralWithout).toEqual([22557, 1526]);
    // This Llama 3 tokenizer.json (the first release) has a ByteLevel post-processor, which adds nothing.
    expect(llama3With).toEqual([9906, 1917]);
  });

  it('drops special tokens from decoded text when asked', () => {
    // Prepare
    const ids = [128000, 13347, 128009];

    // Act
    const kept = tokenizers.llama3.decode(ids);
    const skipped = tokenizers.llama3.decode(ids, { skipSpecialTokens: true });

    // Assess
    expect(kept).toBe('<|begin_of_text|>Hi<|eot_id|>');
    expect(skipped).toBe('Hi');
  });

  it.each([
    ['llama3', 128256, 128000, 128001, [128001], 128001, null, true, null],
    ['llama3-instruct', 128256, 128000, 128009, [128009, 128001], 128009, null, true, null],
    ['mistral', 32000, 1, 2, [2], 2, 0, false, null],
    ['gpt2', 50257, 50256, 50256, [50256], 50256, 50256, false, null],
    ['qwen3', 151669, null, 151645, [151645], 151643, null, true, 'NFC'],
  ] as const)(
    '%s has vocabulary size %i, bos %s, eos %s (all %j), pad %s, unk %s',
    (name, vocabSize, bos, eos, eosIds, pad, unk, hasChatTemplate, normalization) => {
      // Act
      const tokenizer = tokenizers[name];

      // Assess
      expect(tokenizer.vocabSize).toBe(vocabSize);
      expect(tokenizer.bosTokenId).toBe(bos);
      expect(tokenizer.eosTokenId).toBe(eos);
      expect(tokenizer.eosTokenIds).toEqual(eosIds);
      expect(tokenizer.padTokenId).toBe(pad);
      expect(tokenizer.unkTokenId).toBe(unk);
      expect(tokenizer.hasChatTemplate).toBe(hasChatTemplate);
      expect(tokenizer.unicodeNormalization).toBe(normalization);
    },
  );

  it('lists the added tokens marked special', () => {
    // Act
    const gpt2 = tokenizers.gpt2.specialTokens;
    const qwen3 = tokenizers.qwen3.specialTokens;

    // Assess
    expect(gpt2).toEqual([{ id: 50256, content: '<|endoftext|>' }]);
    expect(qwen3).toHaveLength(14);
    expect(qwen3[0]).toEqual({ id: 151643, content: '<|endoftext|>' });
    expect(qwen3[13]).toEqual({ id: 151656, content: '<|video_pad|>' });
    expect(tokenizers.qwen3.tokenToId('<think>')).toBe(151667);
    expect(tokenizers.qwen3.idToToken(151667)).toBe('<think>');
    expect(tokenizers.qwen3.tokenToId('<|no such token|>')).toBeUndefined();
  });
});

describe('decode', () => {
  it("cleans up spaces before punctuation when tokenizer_config's clean_up_tokenization_spaces says so", () => {
    // Prepare
    const ids = tokenizers.gpt2.encode('Hello , world .');

    // Act
    const cleaned = tokenizers.gpt2.decode(ids);
    const raw = tokenizers.gpt2.decode(ids, { cleanUpTokenizationSpaces: false });
    const qwen = tokenizers.qwen3.decode(tokenizers.qwen3.encode('Hello , world .'));

    // Assess
    expect(ids).toEqual([15496, 837, 995, 764]);
    expect(cleaned).toBe('Hello, world.');
    expect(raw).toBe('Hello , world .');
    expect(qwen).toBe('Hello , world .');
  });

  it('skips ids beyond the vocabulary and decodes nothing to the empty string', () => {
    // Act
    const padded = tokenizers.qwen3.decode([9707, 151900, 1879]);
    const empty = tokenizers.qwen3.decode([]);

    // Assess
    expect(padded).toBe('Hello world');
    expect(empty).toBe('');
  });
});

describe('encodeWithOffsets', () => {
  it('gives byte-level tokens the characters they came from, whole characters for split ones', () => {
    // Prepare
    const text = 'Hello  world 🦙 café';

    // Act
    const { ids, offsets } = tokenizers.llama3.encodeWithOffsets(text, { addSpecialTokens: false });

    // Assess
    expect(ids).toEqual([9906, 220, 1917, 11410, 99, 247, 53050]);
    expect(offsets).toEqual([
      [0, 5],
      [5, 6],
      [6, 12],
      [12, 15],
      [13, 15],
      [13, 15],
      [15, 20],
    ]);
  });

  it('finds special tokens in the text', () => {
    // Act
    const { offsets } = tokenizers.qwen3.encodeWithOffsets('<|im_start|>user\nhi<|im_end|>');

    // Assess
    expect(offsets).toEqual([
      [0, 12],
      [12, 16],
      [16, 17],
      [17, 19],
      [19, 29],
    ]);
  });

  it('gives the prepended SentencePiece space no characters and post-processor tokens no span', () => {
    // Act
    const plain = tokenizers.mistral.encodeWithOffsets('Hello world');
    const spaced = tokenizers.mistral.encodeWithOffsets(' grabbed', { addSpecialTokens: false });
    const bytes = tokenizers.mistral.encodeWithOffsets('a🦙', { addSpecialTokens: false });

    // Assess
    expect(plain).toEqual({ ids: [1, 22557, 1526], offsets: [null, [0, 5], [5, 11]] });
    expect(spaced).toEqual({
      ids: [28705, 13300],
      offsets: [
        [0, 0],
        [0, 8],
      ],
    });
    expect(bytes).toEqual({
      ids: [264, 243, 162, 169, 156],
      offsets: [
        [0, 1],
        [1, 3],
        [1, 3],
        [1, 3],
        [1, 3],
      ],
    });
  });

  it('gives an added token with lstrip and rstrip the whitespace it swallows, as Rust tokenizers do', async () => {
    // Prepare
    const dir = join(root, 'stripping');
    writeTinyTokenizer(dir);
    const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
    const pad = json.added_tokens.find((token: { content: string }) => token.content === '<|pad|>');
    Object.assign(pad, { lstrip: true, rstrip: true });
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
    const tokenizer = await loadTokenizer(dir);

    // Act
    const spaced = tokenizer.encodeWithOffsets('a  <|pad|>  b');
    const newline = tokenizer.encodeWithOffsets('the<|pad|>\ncat');

    // Assess
    expect(spaced).toEqual({
      ids: [97, 291, 98],
      offsets: [
        [0, 1],
        [1, 12],
        [12, 13],
      ],
    });
    expect(newline).toEqual({
      ids: [116, 257, 291, 99, 281],
      offsets: [
        [0, 1],
        [1, 3],
        [3, 11],
        [11, 12],
        [12, 14],
      ],
    });
  });

  it('refuses a normalizer that rewrites the text', async () => {
    // Prepare
    const dir = join(root, 'lowercase');
    writeTinyTokenizer(dir);
    const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
    json.normalizer = { type: 'Lowercase' };
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
    const tokenizer = await loadTokenizer(dir);

    // Act
    const act = () => tokenizer.encodeWithOffsets('Hi');

    // Assess
    expect(tokenizer.encode('Hi')).toEqual([104, 105]);
    expect(act).toThrow(TokenizerError);
    expect(act).toThrow(
      'cannot map tokens to character offsets: token bytes differ from the text at character 0 (offsets allow a ' +
        'tokenizer to prepend a space and nothing else: normalize text to its Unicode form first, and lowercasing ' +
        'or stripping normalizers are not supported)',
    );
  });
});

describe('loadTokenizer errors', () => {
  async function tinyDir(name: string, edit: (json: JsonObject, config: JsonObject) => void) {
    const dir = join(root, name);
    writeTinyTokenizer(dir);
    const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
    const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'));
    edit(json, config);
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
    return dir;
  }

  async function loadError(dir: string): Promise<TokenizerFileError> {
    const error = await loadTokenizer(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenizerFileError);
    return error as TokenizerFileError;
  }

  it('names a missing tokenizer.json and a missing tokenizer_config.json', async () => {
    // Prepare
    const empty = join(root, 'empty');
    await mkdir(empty, { recursive: true });
    const noConfig = await tinyDir('no-config', () => {});
    await rm(join(noConfig, 'tokenizer_config.json'));

    // Act
    const missingJson = await loadError(empty);
    const missingConfig = await loadError(noConfig);

    // Assess
    expect(missingJson.message).toBe(`tokenizer.json: file not found in ${empty}`);
    expect(missingJson.file).toBe(join(empty, 'tokenizer.json'));
    expect(missingConfig.message).toBe(`tokenizer_config.json: file not found in ${noConfig}`);
  });

  it('names a file that is not JSON', async () => {
    // Prepare
    const dir = await tinyDir('bad-json', () => {});
    await writeFile(join(dir, 'tokenizer.json'), '{"model": ');

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/^tokenizer\.json: invalid JSON \(.+\)$/);
    expect(error.field).toBeUndefined();
  });

  it.each([
    [
      'a Unigram model',
      (json: JsonObject) => {
        json.model = { type: 'Unigram', vocab: [['a', 0]] };
      },
      'model.type',
      'tokenizer.json: "model.type" "Unigram" is not supported (supported: BPE)',
    ],
    [
      'a model without a type',
      (json: JsonObject) => {
        delete json.model.type;
      },
      'model.type',
      'tokenizer.json: "model.type" is missing',
    ],
    [
      'a vocabulary that is a list',
      (json: JsonObject) => {
        json.model.vocab = [];
      },
      'model.vocab',
      'tokenizer.json: "model.vocab" must be an object mapping tokens to ids',
    ],
    [
      'a negative added token id',
      (json: JsonObject) => {
        json.added_tokens[1].id = -4;
      },
      'added_tokens[1].id',
      'tokenizer.json: "added_tokens[1].id" must be a non-negative integer, got -4',
    ],
    [
      'a Split behaviour the library does not reproduce',
      (json: JsonObject) => {
        json.pre_tokenizer = {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: '\\d' }, behavior: 'MergedWithPrevious', invert: false },
            json.pre_tokenizer,
          ],
        };
      },
      'pre_tokenizer.pretokenizers[0].behavior',
      'tokenizer.json: "pre_tokenizer.pretokenizers[0].behavior" "MergedWithPrevious" is not supported ' +
        '(supported: Isolated, Removed)',
    ],
  ])('rejects %s', async (_, edit, field, message) => {
    // Prepare
    const dir = await tinyDir(`bad-${field}`, edit);

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toBe(message);
    expect(error.field).toBe(field);
  });

  it('rejects a component the library does not know', async () => {
    // Prepare
    const dir = await tinyDir('unknown-pre-tokenizer', (json) => {
      json.pre_tokenizer = { type: 'Shuffle' };
    });

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toBe('tokenizer.json: cannot be used: Unknown PreTokenizer type: Shuffle');
  });

  it.each([
    [
      'a special token missing from the vocabulary',
      (config: JsonObject) => {
        config.eos_token = '<|nope|>';
      },
      'eos_token',
      'tokenizer_config.json: "eos_token" "<|nope|>" is not a token of tokenizer.json',
    ],
    [
      'a special token of the wrong type',
      (config: JsonObject) => {
        config.pad_token = 7;
      },
      'pad_token',
      'tokenizer_config.json: "pad_token" must be a string, null or an object with "content", got 7',
    ],
    [
      'a chat template that does not parse',
      (config: JsonObject) => {
        config.chat_template = '{% for message in messages %}{{ message.content }}{% endfor %}{{ 1 + }}';
      },
      'chat_template',
      'tokenizer_config.json: "chat_template" is not a valid Jinja template: Unexpected token: CloseExpression',
    ],
    [
      'named chat templates without a default',
      (config: JsonObject) => {
        config.chat_template = [{ name: 'rag', template: '{{ messages[0].content }}' }];
      },
      'chat_template',
      'tokenizer_config.json: "chat_template" has no template named "default" (names: rag)',
    ],
  ])('rejects %s', async (_, edit, field, message) => {
    // Prepare
    const dir = await tinyDir(`bad-config-${field}-${message.length}`, (_json, config) => edit(config));

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toBe(message);
    expect(error.field).toBe(field);
  });

  it('rejects a generation_config.json eos id outside the vocabulary', async () => {
    // Prepare
    const dir = await tinyDir('bad-generation-config', () => {});
    await writeFile(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: [287, 4000] }));

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toBe(
      'generation_config.json: "eos_token_id" 4000 is not a token id (vocabulary size 292)',
    );
    expect(error.field).toBe('eos_token_id');
  });
});

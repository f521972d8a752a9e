import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatTemplateError, loadTokenizer, type Tokenizer } from '../../../trainer/src/tokenizer';
import { writeTinyTokenizer } from '../../helpers/trainer/tiny-tokenizer';
import { fixtureTokenizerDir, llama3BaseDir } from './fixture-dirs';

let root: string;
let llama3Instruct: Tokenizer;
let qwen3: Tokenizer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'whetstone-chat-template-'));
  llama3Instruct = await loadTokenizer(await fixtureTokenizerDir('llama3-instruct', root));
  qwen3 = await loadTokenizer(await fixtureTokenizerDir('qwen3', root));
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function tinyWithConfig(
  name: string,
  edit: (config: Record<string, unknown>) => void,
): Promise<Tokenizer> {
  const dir = join(root, name);
  writeTinyTokenizer(dir);
  const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'));
  edit(config);
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return loadTokenizer(dir);
}

const conversation = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: ' Hi! \n' },
  { role: 'assistant', content: 'Hello.' },
];

describe('Llama 3 Instruct template', () => {
  it('renders a conversation as transformers does, contents trimmed', () => {
    // Act
    const text = llama3Instruct.applyChatTemplate(conversation);

    // Assess
    expect(text).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>',
    );
  });

  it('appends the assistant header as the generation prompt', () => {
    // Act
    const text = llama3Instruct.applyChatTemplate(conversation.slice(0, 2), { addGenerationPrompt: true });

    // Assess
    expect(text).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('encodes the rendering with the special token ids', () => {
    // Prepare
    const text = llama3Instruct.applyChatTemplate([{ role: 'user', content: 'Hi!' }], {
      addGenerationPrompt: true,
    });

    // Act
    const ids = llama3Instruct.encode(text, { addSpecialTokens: false });

    // Assess
    expect(ids).toEqual([128000, 128006, 882, 128007, 271, 13347, 0, 128009, 128006, 78191, 128007, 271]);
  });

  it("keeps the base model's template, which always ends with the assistant header", async () => {
    // Prepare
    const base = await loadTokenizer(llama3BaseDir);

    // Act
    const text = base.applyChatTemplate([{ role: 'user', content: 'Hi!' }]);

    // Assess
    expect(text).toBe(
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });
});

describe('Qwen 3 template', () => {
  it('renders the last assistant turn with an empty think block', () => {
    // Act
    const text = qwen3.applyChatTemplate([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
    ]);

    // Assess
    expect(text).toBe(
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello<|im_end|>\n',
    );
  });

  it('passes template variables such as enable_thinking', () => {
    // Act
    const thinking = qwen3.applyChatTemplate([{ role: 'user', content: 'Hi' }], {
      addGenerationPrompt: true,
    });
    const notThinking = qwen3.applyChatTemplate([{ role: 'user', content: 'Hi' }], {
      addGenerationPrompt: true,
      templateVariables: { enable_thinking: false },
    });

    // Assess
    expect(thinking).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    expect(notThinking).toBe(
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
    );
  });

  it('renders tools, tool calls and tool results, JSON as Python json.dumps writes it', () => {
    // Prepare
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    const messages = [
      { role: 'user', content: 'Weather in Zürich?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: { city: 'Zürich' } } }],
      },
      { role: 'tool', content: '{"temp": 21}' },
      { role: 'assistant', content: 'It is 21 °C.' },
    ];

    // Act
    const text = qwen3.applyChatTemplate(messages, { tools });

    // Assess
    expect(text).toBe(
      '<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n' +
        'You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n' +
        '{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", ' +
        '"parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}\n' +
        '</tools>\n\nFor each function call, return a json object with function name and arguments within ' +
        '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n' +
        '</tool_call><|im_end|>\n' +
        '<|im_start|>user\nWeather in Zürich?<|im_end|>\n' +
        '<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Zürich"}}\n</tool_call>' +
        '<|im_end|>\n' +
        '<|im_start|>user\n<tool_response>\n{"temp": 21}\n</tool_response><|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\nIt is 21 °C.<|im_end|>\n',
    );
  });
});

describe('templates from other places', () => {
  it("renders the tiny tokenizer's ChatML template", async () => {
    // Prepare
    const dir = join(root, 'tiny');
    writeTinyTokenizer(dir);
    const tiny = await loadTokenizer(dir);

    // Act
    const text = tiny.applyChatTemplate(conversation.slice(1), { addGenerationPrompt: true });

    // Assess
    expect(tiny.hasChatTemplate).toBe(true);
    expect(text).toBe(
      '<|im_start|>user\n Hi! \n<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('falls back to ChatML ending turns with the eos token when the vocabulary has no <|im_end|>', async () => {
    // Prepare
    const mistral = await loadTokenizer(await fixtureTokenizerDir('mistral', root));

    // Act
    const text = mistral.applyChatTemplate(
      [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'yo' },
      ],
      { addGenerationPrompt: false },
    );

    // Assess
    expect(mistral.hasChatTemplate).toBe(false);
    expect(text).toBe('<s><|im_start|>user\nhi</s>\n<|im_start|>assistant\nyo</s>\n');
  });

  it('falls back to ChatML with <|im_end|> when the vocabulary has it', async () => {
    // Prepare
    const tiny = await tinyWithConfig('tiny-no-template', (config) => {
      delete config.chat_template;
    });

    // Act
    const text = tiny.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true });

    // Assess
    expect(tiny.hasChatTemplate).toBe(false);
    expect(text).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
  });

  it('uses the "default" named template, and "tool_use" when tools are given', async () => {
    // Prepare
    const tiny = await tinyWithConfig('tiny-named', (config) => {
      config.chat_template = [
        { name: 'default', template: 'plain:{{ messages[0].content }}' },
        { name: 'tool_use', template: 'tools:{{ tools | length }}:{{ messages[0].content }}' },
      ];
    });
    const messages = [{ role: 'user', content: 'hi' }];

    // Act
    const plain = tiny.applyChatTemplate(messages);
    const withTools = tiny.applyChatTemplate(messages, { tools: [{ type: 'function' }] });

    // Assess
    expect(plain).toBe('plain:hi');
    expect(withTools).toBe('tools:1:hi');
  });

  it('prefers chat_template.jinja to the template in tokenizer_config.json', async () => {
    // Prepare
    const dir = join(root, 'tiny-jinja-file');
    writeTinyTokenizer(dir);
    await writeFile(
      join(dir, 'chat_template.jinja'),
      '{{ bos_token }}[{{ messages[0].role }}] {{ eos_token }}',
    );

    // Act
    const text = (await loadTokenizer(dir)).applyChatTemplate([{ role: 'user', content: 'hi' }]);

    // Assess
    expect(text).toBe('[user] <|im_end|>');
  });
});

describe('template failures', () => {
  it('fails with the message a template raises', async () => {
    // Prepare
    const tiny = await tinyWithConfig('tiny-raising', (config) => {
      config.chat_template =
        "{% if messages[0].role != 'user' %}{{ raise_exception('Conversations must start with a user message') }}" +
        '{% endif %}{{ messages[0].content }}';
    });

    // Act
    const act = () => tiny.applyChatTemplate([{ role: 'assistant', content: 'hi' }]);

    // Assess
    expect(act).toThrow(ChatTemplateError);
    expect(act).toThrow(
      'chat template (tokenizer_config.json) failed: Conversations must start with a user message',
    );
  });

  it('names the template that failed at run time', async () => {
    // Prepare
    const tiny = await tinyWithConfig('tiny-broken', (config) => {
      config.chat_template = [
        { name: 'default', template: '{{ messages[0].content.upper() }}{{ 1 / none }}' },
      ];
    });

    // Act
    const error = (() => {
      try {
        tiny.applyChatTemplate([{ role: 'user', content: 'hi' }]);
      } catch (caught) {
        return caught as ChatTemplateError;
      }
      throw new Error('expected a failure');
    })();

    // Assess
    expect(error).toBeInstanceOf(ChatTemplateError);
    expect(error.message).toMatch(/^chat template \(tokenizer_config\.json template "default"\) failed: .+/);
    expect(error.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });
});

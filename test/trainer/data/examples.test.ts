import { describe, expect, it } from 'vitest';
import { ExampleError, isChatExample, parseTrainingExample } from '../../../trainer/src/data';

describe('parseTrainingExample', () => {
  it('accepts a chat example with weights, names, tool fields and tools', () => {
    // Prepare
    const line = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather?', name: 'ann' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ type: 'function', function: { name: 'w' } }],
          weight: 0,
        },
        { role: 'tool', content: '21', tool_call_id: 'call_1' },
        { role: 'assistant', content: 'It is 21.', weight: 1 },
      ],
      tools: [{ type: 'function', function: { name: 'w' } }],
    };

    // Act
    const example = parseTrainingExample(line);

    // Assess
    expect(example).toEqual(line);
    expect(isChatExample(example)).toBe(true);
  });

  it('accepts a prompt-completion example with an empty prompt', () => {
    // Act
    const example = parseTrainingExample({ prompt: '', completion: 'Hello' });

    // Assess
    expect(example).toEqual({ prompt: '', completion: 'Hello' });
    expect(isChatExample(example)).toBe(false);
  });

  it.each([
    ['a list', [1], undefined, 'an example must be a JSON object, got [1]'],
    [
      'no format',
      { text: 'hi' },
      undefined,
      'an example needs "messages" (chat) or "prompt" and "completion"',
    ],
    ['empty messages', { messages: [] }, 'messages', '"messages" must be a non-empty list, got []'],
    [
      'a message that is a string',
      { messages: ['hi'] },
      'messages[0]',
      '"messages[0]" must be an object, got "hi"',
    ],
    [
      'an unknown role',
      { messages: [{ role: 'robot', content: 'hi' }] },
      'messages[0].role',
      '"messages[0].role" must be one of system, user, assistant, tool, got "robot"',
    ],
    [
      'content that is not a string',
      { messages: [{ role: 'assistant', content: null }] },
      'messages[0].content',
      '"messages[0].content" must be a string, got null',
    ],
    [
      'a weight on a user message',
      { messages: [{ role: 'user', content: 'hi', weight: 1 }] },
      'messages[0].weight',
      '"messages[0].weight" is only allowed on assistant messages, not user',
    ],
    [
      'a weight that is not 0 or 1',
      { messages: [{ role: 'assistant', content: 'hi', weight: 0.5 }] },
      'messages[0].weight',
      '"messages[0].weight" must be 0 or 1, got 0.5',
    ],
    [
      'no assistant message',
      { messages: [{ role: 'user', content: 'hi' }] },
      'messages',
      '"messages" has no assistant message to train on',
    ],
    [
      'an unknown chat field',
      { messages: [{ role: 'assistant', content: 'hi' }], prompt: 'x' },
      'prompt',
      '"prompt" is not a field of a chat example (messages, tools)',
    ],
    [
      'tools that are not a list',
      { messages: [{ role: 'assistant', content: 'hi' }], tools: {} },
      'tools',
      '"tools" must be a list, got {}',
    ],
    ['a missing prompt', { completion: 'x' }, 'prompt', '"prompt" must be a string, got nothing'],
    [
      'an empty completion',
      { prompt: 'x', completion: '' },
      'completion',
      '"completion" must be a non-empty string, got ""',
    ],
    [
      'an unknown prompt-completion field',
      { prompt: 'x', completion: 'y', weight: 1 },
      'weight',
      '"weight" is not a field of a prompt-completion example (prompt, completion)',
    ],
  ])('rejects %s', (_, value, field, message) => {
    // Act
    const error = (() => {
      try {
        parseTrainingExample(value);
      } catch (caught) {
        return caught as ExampleError;
      }
      throw new Error('expected a failure');
    })();

    // Assess
    expect(error).toBeInstanceOf(ExampleError);
    expect(error.message).toBe(message);
    expect(error.field).toBe(field);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../lib/core/ids';
import type { ErrorBody, FileObject, ListEnvelope } from '../../../lib/core/schemas';
import { chatDataset, fileForm, startTestPlatform, type TestPlatform } from '../../helpers/platform';

const MiB = 1024 * 1024;
/** API Gateway's payload limit, which the local gateway holds to. */
const GATEWAY_MAX_BODY_BYTES = 10 * MiB;

/** Tokens `chatDataset` rows 0-9 are estimated at: 3 + (4 + 5) + (4 + 4) + (4 + 1) each. */
const CHAT_DATASET_10_TOKENS = 250;

function promptCompletionDataset(rows: number): string {
  return Array.from(
    { length: rows },
    () => `${JSON.stringify({ prompt: '2 + 2 =', completion: ' 4' })}\n`,
  ).join('');
}

function secondsNow(): number {
  return Math.floor(Date.now() / 1000);
}

describe('Files API', () => {
  let p: TestPlatform;

  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => p?.stop());

  const upload = (key: string, form: FormData, headers: Record<string, string> = {}) =>
    p.call(key, 'POST', '/v1/files', { body: form, headers });
  const uploadOk = async (key: string, content: string, filename = 'train.jsonl') => {
    const response = await upload(key, fileForm(content, filename));
    expect(response.status).toBe(200);
    return (await response.json()) as FileObject;
  };
  const fileCount = async () => (await p.countRecords()).file ?? 0;

  describe('POST /v1/files', () => {
    it('stores a valid chat file as processed, with its validation summary', async () => {
      // Prepare
      const content = chatDataset(10);
      const before = secondsNow();

      // Act
      const response = await upload(p.ownerKey, fileForm(content, 'chat.jsonl'));
      const after = secondsNow();

      // Assess
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      const file = (await response.json()) as FileObject;
      expect(file.id).toMatch(/^file-[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(file.created_at).toBeGreaterThanOrEqual(before);
      expect(file.created_at).toBeLessThanOrEqual(after);
      expect(file).toEqual({
        id: file.id,
        object: 'file',
        bytes: Buffer.byteLength(content),
        created_at: file.created_at,
        expires_at: null,
        filename: 'chat.jsonl',
        purpose: 'fine-tune',
        status: 'processed',
        status_details: null,
        whetstone: {
          validation: {
            format: 'chat',
            examples: 10,
            estimated_tokens: CHAT_DATASET_10_TOKENS,
            problem_count: 0,
            problems: [],
          },
        },
      });
      expect(await p.listObjects()).toContain(`files/default/${file.id}`);
    });

    it('recognises a prompt/completion file', async () => {
      // Prepare
      const content = promptCompletionDataset(12);

      // Act
      const file = await uploadOk(p.ownerKey, content, 'legacy.jsonl');

      // Assess
      expect(file.status).toBe('processed');
      expect(file.status_details).toBeNull();
      // Each row: ceil(7 / 4) prompt tokens + ceil(2 / 4) completion tokens.
      expect(file.whetstone.validation).toEqual({
        format: 'prompt_completion',
        examples: 12,
        estimated_tokens: 36,
        problem_count: 0,
        problems: [],
      });
    });

    it('stores a file with problems as status error, naming each problem by line', async () => {
      // Prepare
      const valid = chatDataset(10).trimEnd().split('\n');
      const lines = [
        valid[0],
        '{not json',
        valid[1],
        JSON.stringify({
          messages: [
            { role: 'user', content: 'Hi' },
            { role: 'robot', content: 'Beep' },
          ],
        }),
        valid[2],
        JSON.stringify({ messages: [{ role: 'user', content: 'Anyone there?' }] }),
        ...valid.slice(3),
      ];
      const content = `${lines.join('\n')}\n`;

      // Act
      const file = await uploadOk(p.ownerKey, content, 'broken.jsonl');

      // Assess
      expect(file.status).toBe('error');
      expect(file.status_details).toBe(
        '3 problems: line 2: line is not valid JSON; ' +
          'line 4: messages[1].role "robot" is not one of system, user, assistant; ' +
          'line 6: example has no assistant message to learn from',
      );
      expect(file.whetstone.validation).toEqual({
        format: 'chat',
        examples: 10,
        estimated_tokens: CHAT_DATASET_10_TOKENS,
        problem_count: 3,
        problems: [
          { line: 2, code: 'invalid_json', message: 'line is not valid JSON' },
          {
            line: 4,
            code: 'unrecognized_role',
            message: 'messages[1].role "robot" is not one of system, user, assistant',
          },
          {
            line: 6,
            code: 'example_missing_assistant_message',
            message: 'example has no assistant message to learn from',
          },
        ],
      });
      // A file in error is still stored, so its owner can download it and see what was sent.
      const stored = await p.call(p.ownerKey, 'GET', `/v1/files/${file.id}`);
      expect(stored.status).toBe(200);
      expect(await stored.json()).toEqual(file);
    });

    const invalidForms: readonly {
      readonly name: string;
      readonly form: () => FormData;
      readonly error: ErrorBody['error'];
    }[] = [
      {
        name: 'a missing purpose',
        form: () => {
          const form = new FormData();
          form.set('file', new Blob([chatDataset(10)]), 'train.jsonl');
          return form;
        },
        error: {
          message: "Missing required body parameter: 'purpose'.",
          type: 'invalid_request_error',
          param: 'purpose',
          code: 'missing_required_parameter',
        },
      },
      {
        name: 'a purpose other than fine-tune',
        form: () => fileForm(chatDataset(10), 'train.jsonl', 'assistants'),
        error: {
          message: `Invalid body parameter 'purpose': Invalid input: expected "fine-tune".`,
          type: 'invalid_request_error',
          param: 'purpose',
          code: 'invalid_value',
        },
      },
      {
        name: 'a missing file',
        form: () => {
          const form = new FormData();
          form.set('purpose', 'fine-tune');
          return form;
        },
        error: {
          message: "Missing required body parameter: 'file'.",
          type: 'invalid_request_error',
          param: 'file',
          code: 'missing_required_parameter',
        },
      },
      {
        name: 'the file sent as a plain field',
        form: () => {
          const form = new FormData();
          form.set('purpose', 'fine-tune');
          form.set('file', chatDataset(10));
          return form;
        },
        error: {
          message: "Invalid body parameter 'file': must be a file part (with a filename), not a plain field.",
          type: 'invalid_request_error',
          param: 'file',
          code: 'invalid_value',
        },
      },
      {
        name: 'an unknown extra field',
        form: () => {
          const form = fileForm(chatDataset(10));
          form.set('model', 'gpt-4o-mini');
          return form;
        },
        error: {
          message: "Unrecognized body parameter: 'model'.",
          type: 'invalid_request_error',
          param: 'model',
          code: 'unknown_parameter',
        },
      },
      {
        name: 'the purpose sent twice',
        form: () => {
          const form = fileForm(chatDataset(10));
          form.append('purpose', 'fine-tune');
          return form;
        },
        error: {
          message: "The form field 'purpose' was sent more than once.",
          type: 'invalid_request_error',
          param: 'purpose',
          code: null,
        },
      },
      {
        // The second purpose ends the parse while the file parts are pending; the duplicate file's
        // own failure then has nobody waiting for it and must not crash the process.
        name: 'both purpose and file sent twice',
        form: () => {
          const form = new FormData();
          form.append('purpose', 'fine-tune');
          form.append('purpose', 'fine-tune');
          form.append('file', new Blob([chatDataset(10)]), 'a.jsonl');
          form.append('file', new Blob([chatDataset(10)]), 'b.jsonl');
          return form;
        },
        error: {
          message: "The form field 'purpose' was sent more than once.",
          type: 'invalid_request_error',
          param: 'purpose',
          code: null,
        },
      },
    ];

    for (const { name, form, error } of invalidForms) {
      it(`refuses ${name} with 400 and stores nothing`, async () => {
        // Prepare
        const filesBefore = await fileCount();
        const objectsBefore = (await p.listObjects()).length;

        // Act
        const response = await upload(p.ownerKey, form());

        // Assess
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({ error });
        expect(await fileCount()).toBe(filesBefore);
        expect((await p.listObjects()).length).toBe(objectsBefore);
      });
    }

    it('refuses a JSON body with 415', async () => {
      // Act
      const response = await p.call(p.ownerKey, 'POST', '/v1/files', {
        body: JSON.stringify({ purpose: 'fine-tune', file: chatDataset(10) }),
        headers: { 'Content-Type': 'application/json' },
      });

      // Assess
      expect(response.status).toBe(415);
      expect(await response.json()).toEqual({
        error: {
          message: "Content-Type must be multipart/form-data, not 'application/json'.",
          type: 'invalid_request_error',
          param: 'Content-Type',
          code: 'unsupported_media_type',
        },
      });
    });

    it('refuses a body over 10 MiB with 413 and stores neither record nor object', async () => {
      // Prepare
      const filesBefore = await fileCount();
      const objectsBefore = await p.listObjects();
      const oversized = new Uint8Array(GATEWAY_MAX_BODY_BYTES + 1).fill(0x61);

      // Act
      const response = await upload(p.ownerKey, fileForm(oversized, 'huge.jsonl'));

      // Assess
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({
        error: {
          message: `The request body is larger than ${GATEWAY_MAX_BODY_BYTES} bytes. Send large files with the Uploads API.`,
          type: 'invalid_request_error',
          param: null,
          code: 'payload_too_large',
        },
      });
      expect(await fileCount()).toBe(filesBefore);
      expect(await p.listObjects()).toEqual(objectsBefore);
    });

    it('takes 12 uploads at once, each its own record and object', async () => {
      // Prepare
      const key = await p.createTeamKey('concurrent');
      const filesBefore = await fileCount();

      // Act
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          upload(key, fileForm(chatDataset(10 + index), `part-${index}.jsonl`)),
        ),
      );

      // Assess
      expect(responses.map((response) => response.status)).toEqual(Array(12).fill(200));
      const files = (await Promise.all(responses.map((response) => response.json()))) as FileObject[];
      const ids = files.map((file) => file.id);
      expect(new Set(ids).size).toBe(12);
      expect(files.map((file) => file.whetstone.validation?.examples)).toEqual(
        Array.from({ length: 12 }, (_, index) => 10 + index),
      );
      expect(await fileCount()).toBe(filesBefore + 12);
      const objects = (await p.listObjects()).filter((object) => object.startsWith('files/concurrent/'));
      expect(objects.sort()).toEqual(ids.map((id) => `files/concurrent/${id}`).sort());
    });
  });

  describe('GET /v1/files', () => {
    let key: string;
    let oldest: FileObject;
    let middle: FileObject;
    let newest: FileObject;

    beforeAll(async () => {
      // A team of its own, so the listing holds exactly the files made here.
      key = await p.createTeamKey('listing');
      oldest = await uploadOk(key, chatDataset(10), 'a.jsonl');
      middle = await uploadOk(key, chatDataset(11), 'b.jsonl');
      newest = await uploadOk(key, chatDataset(12), 'c.jsonl');
    });

    const list = async (query = '') => {
      const response = await p.call(key, 'GET', `/v1/files${query}`);
      expect(response.status).toBe(200);
      return (await response.json()) as ListEnvelope<FileObject>;
    };

    it('lists the team files newest first', async () => {
      // Act
      const page = await list();

      // Assess
      expect(page).toEqual({
        object: 'list',
        data: [newest, middle, oldest],
        first_id: newest.id,
        last_id: oldest.id,
        has_more: false,
      });
    });

    it('pages with limit and after', async () => {
      // Act
      const first = await list('?limit=2');
      const second = await list(`?limit=2&after=${first.last_id}`);

      // Assess
      expect(first.data.map((file) => file.id)).toEqual([newest.id, middle.id]);
      expect(first).toMatchObject({ first_id: newest.id, last_id: middle.id, has_more: true });
      expect(second).toEqual({
        object: 'list',
        data: [oldest],
        first_id: oldest.id,
        last_id: oldest.id,
        has_more: false,
      });
    });

    it('answers an empty page after the oldest file', async () => {
      // Act
      const page = await list(`?after=${oldest.id}`);

      // Assess
      expect(page).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });
    });

    it('lists oldest first with order=asc', async () => {
      // Act
      const page = await list('?order=asc');

      // Assess
      expect(page.data.map((file) => file.id)).toEqual([oldest.id, middle.id, newest.id]);
    });

    it('refuses an after that is not a file id, and an unknown query parameter', async () => {
      // Act
      const badAfter = await p.call(key, 'GET', '/v1/files?after=nope');
      const unknown = await p.call(key, 'GET', '/v1/files?colour=red');
      const badLimit = await p.call(key, 'GET', '/v1/files?limit=0');

      // Assess
      expect(badAfter.status).toBe(400);
      expect(await badAfter.json()).toEqual({
        error: {
          message: "after must be a file id, not 'nope'.",
          type: 'invalid_request_error',
          param: 'after',
          code: null,
        },
      });
      expect(unknown.status).toBe(400);
      expect(((await unknown.json()) as ErrorBody).error).toMatchObject({
        param: 'colour',
        code: 'unknown_parameter',
      });
      expect(badLimit.status).toBe(400);
      expect(((await badLimit.json()) as ErrorBody).error).toMatchObject({
        param: 'limit',
        code: 'invalid_value',
      });
    });
  });

  describe('GET /v1/files/{file_id} and its content', () => {
    it('answers the file object as created', async () => {
      // Prepare
      const created = await uploadOk(p.ownerKey, chatDataset(10));

      // Act
      const response = await p.call(p.ownerKey, 'GET', `/v1/files/${created.id}`);

      // Assess
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(created);
    });

    it('gives back the exact bytes uploaded, multi-byte characters and CRLF included', async () => {
      // Prepare
      const rows = chatDataset(10)
        .replace('You answer briefly.', 'Réponds brièvement 🙂')
        .replaceAll('\n', '\r\n');
      // A byte order mark, as some editors write; the validator skips it but the content keeps it.
      const sent = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(rows)]);
      const response = await upload(p.ownerKey, fileForm(sent, 'données.jsonl'));
      expect(response.status).toBe(200);
      const created = (await response.json()) as FileObject;

      // Act
      const content = await p.call(p.ownerKey, 'GET', `/v1/files/${created.id}/content`);

      // Assess
      expect(created).toMatchObject({ status: 'processed', bytes: sent.length, filename: 'données.jsonl' });
      expect(content.status).toBe(200);
      expect(content.headers.get('content-type')).toBe('application/octet-stream');
      expect(content.headers.get('content-disposition')).toBe(
        `attachment; filename="donn_es.jsonl"; filename*=UTF-8''donn%C3%A9es.jsonl`,
      );
      expect(Buffer.from(await content.arrayBuffer()).equals(sent)).toBe(true);
    });

    it('answers 404 naming file_id for an id that is not a file id, on every file route', async () => {
      // Act
      const responses = await Promise.all([
        p.call(p.ownerKey, 'GET', '/v1/files/not-a-file'),
        p.call(p.ownerKey, 'GET', '/v1/files/not-a-file/content'),
        p.call(p.ownerKey, 'DELETE', '/v1/files/not-a-file'),
      ]);

      // Assess
      for (const response of responses) {
        expect(response.status).toBe(404);
        expect(await response.json()).toEqual({
          error: {
            message: 'No such File object: not-a-file',
            type: 'invalid_request_error',
            param: 'file_id',
            code: 'not_found',
          },
        });
      }
    });

    it('answers 400 naming file_id for a path that is not valid percent-encoding', async () => {
      // Act
      const response = await p.call(p.ownerKey, 'GET', '/v1/files/%E0%A4');

      // Assess
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: {
          message: 'The path parameter file_id is not valid percent-encoding.',
          type: 'invalid_request_error',
          param: 'file_id',
          code: 'invalid_path',
        },
      });
    });

    it('answers 404 for a well-formed id that was never created', async () => {
      // Prepare
      const missing = newId('file');

      // Act
      const response = await p.call(p.ownerKey, 'GET', `/v1/files/${missing}`);

      // Assess
      expect(response.status).toBe(404);
      expect(((await response.json()) as ErrorBody).error).toEqual({
        message: `No such File object: ${missing}`,
        type: 'invalid_request_error',
        param: 'file_id',
        code: 'not_found',
      });
    });
  });

  describe('DELETE /v1/files/{file_id}', () => {
    it('deletes the record and the object, after which the file is 404 everywhere', async () => {
      // Prepare
      const created = await uploadOk(p.ownerKey, chatDataset(10));
      const filesBefore = await fileCount();

      // Act
      const response = await p.call(p.ownerKey, 'DELETE', `/v1/files/${created.id}`);

      // Assess
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id: created.id, object: 'file', deleted: true });
      expect(await fileCount()).toBe(filesBefore - 1);
      expect(await p.listObjects()).not.toContain(`files/default/${created.id}`);
      const notFound = {
        error: {
          message: `No such File object: ${created.id}`,
          type: 'invalid_request_error',
          param: 'file_id',
          code: 'not_found',
        },
      };
      for (const [method, path] of [
        ['GET', `/v1/files/${created.id}`],
        ['GET', `/v1/files/${created.id}/content`],
        ['DELETE', `/v1/files/${created.id}`],
      ] as const) {
        const after = await p.call(p.ownerKey, method, path);
        expect(after.status).toBe(404);
        expect(await after.json()).toEqual(notFound);
      }
      const listed = (await (
        await p.call(p.ownerKey, 'GET', '/v1/files')
      ).json()) as ListEnvelope<FileObject>;
      expect(listed.data.map((file) => file.id)).not.toContain(created.id);
    });
  });
});

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatDataset, startTestPlatform, type TestPlatform } from './platform';

/**
 * Every POST route, fuzzed one field at a time: a request with exactly one field made invalid
 * must get a 4xx whose `error.param` names that field, and must leave the stored records and
 * objects as they were. Valid requests drawn from the same generators must succeed, so the
 * rejections are known to come from the mutated field alone. Audit and idempotency records
 * are left out of the count: recording refused calls is the audit trail's job.
 */

type Body = Record<string, unknown>;
interface RouteUnderTest {
  readonly name: string;
  readonly valid: fc.Arbitrary<Body>;
  /** For each field, values that field must refuse. */
  readonly invalid: Readonly<Record<string, fc.Arbitrary<unknown>>>;
  /** Makes what the request refers to (an upload, its part) and the body fields that name it. */
  prepare?(platform: TestPlatform): Promise<Prepared>;
  send(platform: TestPlatform, body: Body, prepared: Prepared): Promise<Response>;
}

interface Prepared {
  readonly path?: string;
  readonly fields?: Body;
}

const ABSENT = Symbol('absent');
const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.nat(), { maxLength: 2 }),
);
const notAnInteger = fc.oneof(
  fc.string(),
  fc.constant(null),
  fc.double({ noInteger: true, noNaN: true }),
  fc.boolean(),
);
const unknownKey = fc.stringMatching(/^[a-z][a-z_]{2,12}$/).map((key) => `x_${key}`);
const json = { 'Content-Type': 'application/json' };

/** JSON drops the ABSENT symbol by itself. */
function postJson(path: (prepared: Prepared) => string) {
  return (platform: TestPlatform, body: Body, prepared: Prepared) =>
    platform.call(platform.ownerKey, 'POST', path(prepared), { body: JSON.stringify(body), headers: json });
}

/** `{filename}` values become file parts, `{plainField}` values plain fields holding a file's place. */
function postForm(path: (prepared: Prepared) => string) {
  return (platform: TestPlatform, body: Body, prepared: Prepared) => {
    const form = new FormData();
    for (const [field, value] of Object.entries(body)) {
      if (value === ABSENT) continue;
      if (typeof value === 'object' && value && 'filename' in value) {
        form.set(field, new Blob([chatDataset(10)]), String(value.filename));
      } else if (typeof value === 'object' && value && 'plainField' in value) {
        form.set(field, String(value.plainField));
      } else {
        form.set(field, String(value));
      }
    }
    return platform.call(platform.ownerKey, 'POST', path(prepared), { body: form });
  };
}

/** An upload with room for one dataset-sized part, and, when asked, that part already sent. */
async function openUpload(
  platform: TestPlatform,
  withPart: boolean,
): Promise<{ uploadId: string; partId?: string }> {
  const bytes = Buffer.byteLength(chatDataset(10));
  const created = await platform.call(platform.ownerKey, 'POST', '/v1/uploads', {
    body: JSON.stringify({
      bytes,
      filename: 'fuzz.jsonl',
      mime_type: 'application/jsonl',
      purpose: 'fine-tune',
    }),
    headers: json,
  });
  const uploadId = ((await created.json()) as { id: string }).id;
  if (!withPart) return { uploadId };
  const form = new FormData();
  form.set('data', new Blob([chatDataset(10)]), 'blob');
  const part = await platform.call(platform.ownerKey, 'POST', `/v1/uploads/${uploadId}/parts`, {
    body: form,
  });
  return { uploadId, partId: ((await part.json()) as { id: string }).id };
}

const routes: readonly RouteUnderTest[] = [
  {
    name: 'POST /v1/files',
    valid: fc.record({
      purpose: fc.constant('fine-tune'),
      file: fc.stringMatching(/^[a-z][a-z0-9 ._-]{0,30}$/).map((name) => ({ filename: `${name}.jsonl` })),
    }),
    invalid: {
      purpose: fc.oneof(
        fc.constant(ABSENT),
        fc.string().filter((value) => value !== 'fine-tune'),
      ),
      file: fc.oneof(
        fc.constant(ABSENT),
        fc.string({ maxLength: 20 }).map((text) => ({ plainField: text })),
        fc.integer({ min: 256, max: 400 }).map((length) => ({ filename: 'a'.repeat(length) })),
      ),
    },
    send: postForm(() => '/v1/files'),
  },
  {
    name: 'POST /v1/uploads',
    valid: fc.record({
      bytes: fc.integer({ min: 1, max: 512 * 1024 * 1024 }),
      filename: fc.stringMatching(/^[a-z][a-z0-9._-]{0,40}$/),
      mime_type: fc.constantFrom('application/jsonl', 'application/x-ndjson', 'text/jsonl'),
      purpose: fc.constant('fine-tune'),
    }),
    invalid: {
      bytes: fc.oneof(
        fc.constant(ABSENT),
        notAnInteger,
        fc.integer({ max: 0 }),
        fc.integer({ min: 512 * 1024 * 1024 + 1 }),
      ),
      filename: fc.oneof(
        fc.constant(ABSENT),
        notAString,
        fc.constant(''),
        fc.constant('../x'),
        fc.string({ minLength: 256 }),
      ),
      mime_type: fc.oneof(fc.constant(ABSENT), notAString, fc.constantFrom('text/plain', 'image/png', '')),
      purpose: fc.oneof(fc.constant(ABSENT), notAString, fc.constantFrom('assistants', 'batch', '')),
    },
    send: postJson(() => '/v1/uploads'),
  },
  {
    name: 'POST /v1/whetstone/teams',
    valid: fc.record({
      id: fc.stringMatching(/^[a-z][a-z0-9]{2,20}$/).map((id) => `fz-${id}`),
      name: fc.string({ minLength: 1, maxLength: 60 }),
    }),
    invalid: {
      id: fc.oneof(
        fc.constant(ABSENT),
        notAString,
        fc.constantFrom('', 'UPPER', '-lead', 'trail-', 'has space', 'a'.repeat(41)),
      ),
      name: fc.oneof(notAString, fc.constant(''), fc.string({ minLength: 129, maxLength: 200 })),
    },
    send: postJson(() => '/v1/whetstone/teams'),
  },
  {
    name: 'POST /v1/whetstone/keys',
    valid: fc.record({
      team: fc.constant('default'),
      role: fc.constantFrom('member', 'admin', 'finance', 'owner'),
      name: fc.string({ minLength: 1, maxLength: 60 }),
      expires_at: fc.integer({ min: 4_000_000_000, max: 5_000_000_000 }),
    }),
    invalid: {
      team: fc.oneof(notAString, fc.constantFrom('', 'Nope!', 'no-such-team')),
      role: fc.oneof(notAString, fc.constantFrom('root', 'Owner', '')),
      name: fc.oneof(notAString, fc.constant('')),
      expires_at: fc.oneof(notAnInteger, fc.integer({ min: 1, max: 1_000_000_000 }), fc.integer({ max: -1 })),
    },
    send: postJson(() => '/v1/whetstone/keys'),
  },
  {
    name: 'POST /v1/uploads/{upload_id}/parts',
    valid: fc.record({ data: fc.constant({ filename: 'blob' }) }),
    invalid: {
      data: fc.oneof(
        fc.constant(ABSENT),
        fc.string({ maxLength: 20 }).map((text) => ({ plainField: text })),
      ),
    },
    async prepare(platform) {
      return { path: `/v1/uploads/${(await openUpload(platform, false)).uploadId}/parts` };
    },
    send: postForm((prepared) => prepared.path ?? ''),
  },
  {
    name: 'POST /v1/uploads/{upload_id}/complete',
    valid: fc.record({}),
    invalid: {
      part_ids: fc.oneof(
        fc.constant(ABSENT),
        notAString,
        fc.constant([]),
        fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
        fc.constant(['part_01ARZ3NDEKTSV4RRFFQ69G5FAV']),
      ),
      md5: fc.oneof(notAString, fc.constantFrom('', 'xyz', '0'.repeat(31), 'g'.repeat(32), '0'.repeat(32))),
    },
    async prepare(platform) {
      const { uploadId, partId } = await openUpload(platform, true);
      return { path: `/v1/uploads/${uploadId}/complete`, fields: { part_ids: [partId] } };
    },
    send: postJson((prepared) => prepared.path ?? ''),
  },
];

const counted = (counts: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(counts).filter(([entity]) => entity !== 'audit' && entity !== 'idempotency'),
  );

/** Declares the suite; the fast tier and the slow tier differ only in how many cases they draw. */
export function describeRequestFuzz(runs: { readonly valid: number; readonly invalid: number }): void {
  describe('POST routes under one-field mutations', () => {
    let platform: TestPlatform;
    beforeAll(async () => {
      platform = await startTestPlatform();
    });
    afterAll(async () => platform?.stop());

    for (const route of routes) {
      it(`${route.name}: valid requests succeed`, async () => {
        await fc.assert(
          fc.asyncProperty(route.valid, async (valid) => {
            // Prepare
            const prepared = (await route.prepare?.(platform)) ?? {};

            // Act
            const response = await route.send(platform, { ...prepared.fields, ...valid }, prepared);

            // Assess
            expect(response.status, await response.clone().text()).toBe(200);
          }),
          { numRuns: runs.valid },
        );
      });

      it(`${route.name}: one bad field is a 4xx naming it, and nothing is stored`, async () => {
        const mutation = fc
          .constantFrom(...Object.keys(route.invalid), 'unknown')
          .chain((field) =>
            field === 'unknown'
              ? fc.tuple(unknownKey, fc.string({ maxLength: 10 }))
              : fc.tuple(fc.constant(field), route.invalid[field] as fc.Arbitrary<unknown>),
          );
        await fc.assert(
          fc.asyncProperty(route.valid, mutation, async (valid, [field, value]) => {
            // Prepare
            const prepared = (await route.prepare?.(platform)) ?? {};
            const body: Body = { ...prepared.fields, ...valid, [field]: value };
            const recordsBefore = counted(await platform.countRecords());
            const objectsBefore = await platform.listObjects();

            // Act
            const response = await route.send(platform, body, prepared);

            // Assess
            const text = await response.text();
            expect(response.status, text).toBeGreaterThanOrEqual(400);
            expect(response.status, text).toBeLessThan(500);
            // A nested problem is named by its dotted path inside the field (`part_ids.0`).
            const param = (JSON.parse(text) as { error: { param: string | null } }).error.param ?? '';
            expect(param === field || param.startsWith(`${field}.`), text).toBe(true);
            expect(counted(await platform.countRecords())).toEqual(recordsBefore);
            expect(await platform.listObjects()).toEqual(objectsBefore);
          }),
          { numRuns: runs.invalid },
        );
      });
    }
  });
}

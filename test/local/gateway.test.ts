import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

const invalidApiKey = {
  error: {
    message: 'Incorrect or missing API key. Send it as `Authorization: Bearer <key>`.',
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_api_key',
  },
};

/** The owner key with its secret's last character changed: the right key id, the wrong secret. */
function withWrongSecret(key: string): string {
  return `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
}

describe('local gateway', () => {
  let p: TestPlatform;

  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => p?.stop());

  it('answers /healthz without a key', async () => {
    // Act
    const response = await p.call(null, 'GET', '/healthz');

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  const refusedKeys: readonly [string, () => Record<string, string>][] = [
    ['no Authorization header', () => ({})],
    ['a garbage key', () => ({ Authorization: 'Bearer not-a-whetstone-key' })],
    [
      'a key of the right shape that was never issued',
      () => ({ Authorization: `Bearer whet_${'0'.repeat(26)}_${'a'.repeat(43)}` }),
    ],
    [
      'the right key id with the wrong secret',
      () => ({ Authorization: `Bearer ${withWrongSecret(p.ownerKey)}` }),
    ],
    ['a key without the Bearer scheme', () => ({ Authorization: p.ownerKey })],
  ];
  for (const [what, headers] of refusedKeys) {
    it(`refuses ${what} with 401 invalid_api_key`, async () => {
      // Act
      const response = await p.call(null, 'GET', '/v1/files', { headers: headers() });

      // Assess
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual(invalidApiKey);
    });
  }

  it('accepts the scheme in any case', async () => {
    // Act
    const response = await p.call(null, 'GET', '/v1/files', {
      headers: { Authorization: `bearer ${p.ownerKey}` },
    });

    // Assess
    expect(response.status).toBe(200);
  });

  it('gives every response a request id', async () => {
    // Act
    const responses = await Promise.all([
      p.call(p.ownerKey, 'GET', '/v1/files'),
      p.call(null, 'GET', '/v1/files'),
    ]);

    // Assess
    const ids = responses.map((response) => response.headers.get('x-request-id'));
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });

  for (const [key, who] of [
    [() => p.ownerKey, 'with a key'],
    [() => null, 'without a key'],
  ] as const) {
    it(`answers an unknown URL with 404 ${who}`, async () => {
      // Act
      const response = await p.call(key(), 'GET', '/v1/nothing/here');

      // Assess
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: {
          message: 'Unknown request URL: GET /v1/nothing/here.',
          type: 'invalid_request_error',
          param: null,
          code: 'unknown_url',
        },
      });
    });
  }

  const wrongMethods: readonly [string, string, string][] = [
    ['PUT', '/v1/files', 'POST, GET'],
    ['PATCH', '/v1/files/file-00000000000000000000000000', 'GET, DELETE'],
    ['POST', '/v1/files/file-00000000000000000000000000/content', 'GET'],
    ['GET', '/v1/whetstone/keys/key_00000000000000000000000000', 'DELETE'],
  ];
  for (const [method, path, allow] of wrongMethods) {
    it(`answers ${method} ${path} with 405 and Allow: ${allow}`, async () => {
      // Act
      const response = await p.call(p.ownerKey, method, path);

      // Assess
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe(allow);
      expect(await response.json()).toEqual({
        error: {
          message: `${method} is not allowed on ${path}; use ${allow}.`,
          type: 'invalid_request_error',
          param: null,
          code: 'method_not_allowed',
        },
      });
    });
  }

  it('passes query strings and path parameters through to the handler', async () => {
    // Act
    const response = await p.call(p.ownerKey, 'GET', '/v1/files?limit=1&order=asc');

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      object: 'list',
      data: [],
      first_id: null,
      last_id: null,
      has_more: false,
    });
  });
});

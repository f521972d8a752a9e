import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../lambdas/runtime/config';
import { notifyJobStatus } from '../../../lambdas/webhooks/notify';
import { LocalDeliveryQueue, UnavailableDeliveryQueue } from '../../../lib/adapters';
import { newId } from '../../../lib/core/ids';
import type {
  CreatedWebhookEndpoint,
  ErrorBody,
  ListEnvelope,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEvent,
} from '../../../lib/core/schemas';
import { verifyWebhook } from '../../../lib/core/webhooks';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';

const json = { 'Content-Type': 'application/json' };
type Dependencies = typeof import('../../../lambdas/runtime/dependencies');

interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * An endpoint on 127.0.0.1 that records every request and answers each path from a script of
 * responses, the last one repeating; a step may act before answering.
 */
class Receiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly scripts = new Map<string, Step[]>();
  private server: Server | undefined;

  script(path: string, steps: Step[]): string {
    this.scripts.set(path, steps);
    return `${this.url}${path}`;
  }

  requestsTo(path: string): ReceivedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('the receiver is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const path = request.url ?? '';
        this.requests.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        const steps = this.scripts.get(path) ?? [{ status: 404 }];
        const served = this.requestsTo(path).length - 1;
        const step = steps[Math.min(served, steps.length - 1)] ?? { status: 500 };
        await step.before?.();
        response.writeHead(step.status, step.headers ?? {});
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
  }
}

interface Step {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly before?: () => Promise<void>;
}

describe('webhooks', () => {
  let p: TestPlatform;
  let dependencies: Dependencies;
  let queue: LocalDeliveryQueue;
  const receiver = new Receiver();
  const keys = { member: '', admin: '', finance: '', otherAdmin: '', otherMember: '' };

  beforeAll(async () => {
    // Handlers read their configuration when they load: short retries, three attempts at most.
    process.env.WHETSTONE_WEBHOOK_RETRY_BASE_SECONDS = '0.2';
    process.env.WHETSTONE_WEBHOOK_MAX_ATTEMPTS = '3';
    p = await startTestPlatform();
    dependencies = await import('../../../lambdas/runtime/dependencies');
    if (!(dependencies.deliveryQueue instanceof LocalDeliveryQueue)) {
      throw new Error('the local platform must deliver through the local queue');
    }
    queue = dependencies.deliveryQueue;
    await receiver.start();
    keys.member = await p.createTeamKey('hooks', 'member');
    keys.admin = await p.createTeamKey('hooks', 'admin');
    keys.finance = await p.createTeamKey('hooks', 'finance');
    keys.otherAdmin = await p.createTeamKey('elsewhere', 'admin');
    keys.otherMember = await p.createTeamKey('elsewhere', 'member');
  });
  afterAll(async () => {
    await queue?.shutdown();
    await receiver.stop();
    await p?.stop();
  });

  const create = (key: string, body: unknown, headers: Record<string, string> = {}) =>
    p.call(key, 'POST', '/v1/whetstone/webhooks', {
      body: JSON.stringify(body),
      headers: { ...json, ...headers },
    });
  const createOk = async (key: string, body: unknown) => {
    const response = await create(key, body);
    expect(response.status).toBe(200);
    return (await response.json()) as CreatedWebhookEndpoint;
  };
  const listEndpoints = async (key: string, query = '') => {
    const response = await p.call(key, 'GET', `/v1/whetstone/webhooks${query}`);
    expect(response.status).toBe(200);
    return {
      text: await response.clone().text(),
      page: (await response.json()) as ListEnvelope<WebhookEndpoint>,
    };
  };
  const listDeliveries = async (key: string, query = '') => {
    const response = await p.call(key, 'GET', `/v1/whetstone/webhooks/deliveries${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as ListEnvelope<WebhookDelivery>;
  };
  const notify = async (
    team: string,
    jobId: string,
    status: 'succeeded' | 'failed' | 'cancelled' | 'paused' | 'running',
  ) => {
    await notifyJobStatus(dependencies, team, { id: jobId, status }, Date.now());
    await queue.idle();
  };
  const errorOf = async (response: Response) => ((await response.json()) as ErrorBody).error;
  /**
   * A team of its own for each delivery test: an event goes to every endpoint of the team, so
   * endpoints of other tests must not hear it.
   */
  const deliveryTeam = async (team: string) => ({
    team,
    admin: await p.createTeamKey(team, 'admin'),
    member: await p.createTeamKey(team, 'member'),
  });
  const deliveriesIn = async (member: string, endpointId: string) =>
    (await listDeliveries(member, `?endpoint_id=${endpointId}&limit=100`)).data;

  describe('POST /v1/whetstone/webhooks', () => {
    it('registers an endpoint and shows its signing secret once', async () => {
      // Prepare
      const before = Math.floor(Date.now() / 1000);

      // Act
      const created = await createOk(keys.admin, {
        url: 'https://hooks.example.com/whetstone',
        events: ['fine_tuning.job.succeeded', 'fine_tuning.job.failed'],
        description: 'CI notifier',
      });

      // Assess
      expect(created).toEqual({
        id: created.id,
        object: 'webhook_endpoint',
        url: 'https://hooks.example.com/whetstone',
        events: ['fine_tuning.job.succeeded', 'fine_tuning.job.failed'],
        created_at: created.created_at,
        description: 'CI notifier',
        secret: created.secret,
      });
      expect(created.id).toMatch(/^wh_[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
      expect(created.created_at).toBeGreaterThanOrEqual(before);
      const { text, page } = await listEndpoints(keys.member);
      const { secret: _secret, ...listed } = created;
      expect(page.data.find((endpoint) => endpoint.id === created.id)).toEqual(listed);
      expect(text).not.toContain(created.secret);
      expect(text).not.toContain('"secret"');
    });

    it('subscribes to every job event by default', async () => {
      // Act
      const created = await createOk(keys.admin, { url: 'https://hooks.example.com/all' });

      // Assess
      expect(created.events).toEqual([
        'fine_tuning.job.succeeded',
        'fine_tuning.job.failed',
        'fine_tuning.job.cancelled',
        'fine_tuning.job.paused',
      ]);
      expect(created.description).toBeNull();
    });

    it('lets an owner register endpoints for its own team', async () => {
      // Act
      const created = await createOk(p.ownerKey, { url: 'https://hooks.example.com/owner' });

      // Assess
      expect((await listEndpoints(p.ownerKey)).page.data.map((endpoint) => endpoint.id)).toContain(
        created.id,
      );
      expect((await listEndpoints(keys.member)).page.data.map((endpoint) => endpoint.id)).not.toContain(
        created.id,
      );
    });

    it.each([
      ['ftp://hooks.example.com/x', "Invalid body parameter 'url': must use https, not 'ftp'."],
      [
        'http://hooks.example.com/x',
        "Invalid body parameter 'url': must use https (http only for 127.0.0.1 or localhost).",
      ],
      ['hooks.example.com/x', "Invalid body parameter 'url': must be an absolute http(s) URL."],
      [
        'https://user:secret@hooks.example.com/x',
        "Invalid body parameter 'url': must not carry credentials.",
      ],
      [
        `https://hooks.example.com/${'a'.repeat(2049 - 'https://hooks.example.com/'.length)}`,
        "Invalid body parameter 'url': Too big: expected string to have <=2048 characters.",
      ],
    ])('refuses the URL %s, naming url', async (url, message) => {
      // Prepare
      const before = await p.countRecords();

      // Act
      const response = await create(keys.admin, { url });

      // Assess
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toEqual({
        message,
        type: 'invalid_request_error',
        param: 'url',
        code: 'invalid_value',
      });
      expect((await p.countRecords()).webhook).toBe(before.webhook);
    });

    it('accepts plain http for localhost and 127.0.0.1 only', async () => {
      // Act
      const local = await create(keys.admin, { url: 'http://localhost:8080/hook' });
      const loopback = await create(keys.admin, { url: 'http://127.0.0.1:8080/hook' });

      // Assess
      expect([local.status, loopback.status]).toEqual([200, 200]);
    });

    it('refuses a missing url, an unknown event type and repeated ones, naming the field', async () => {
      // Act
      const missing = await create(keys.admin, { events: ['fine_tuning.job.failed'] });
      const unknown = await create(keys.admin, {
        url: 'https://hooks.example.com/x',
        events: ['fine_tuning.job.started'],
      });
      const repeated = await create(keys.admin, {
        url: 'https://hooks.example.com/x',
        events: ['fine_tuning.job.failed', 'fine_tuning.job.failed'],
      });
      const extra = await create(keys.admin, { url: 'https://hooks.example.com/x', secret: 'whsec_abc' });

      // Assess
      expect(await errorOf(missing)).toEqual({
        message: "Missing required body parameter: 'url'.",
        type: 'invalid_request_error',
        param: 'url',
        code: 'missing_required_parameter',
      });
      expect((await errorOf(unknown)).param).toBe('events.0');
      expect(await errorOf(repeated)).toEqual({
        message: "Invalid body parameter 'events': must not repeat an event type.",
        type: 'invalid_request_error',
        param: 'events',
        code: 'invalid_value',
      });
      expect(await errorOf(extra)).toEqual({
        message: "Unrecognized body parameter: 'secret'.",
        type: 'invalid_request_error',
        param: 'secret',
        code: 'unknown_parameter',
      });
    });

    it('refuses to replay a create, whose secret is not kept', async () => {
      // Prepare
      const headers = { 'Idempotency-Key': 'webhook-create-1' };
      const first = await create(keys.admin, { url: 'https://hooks.example.com/once' }, headers);

      // Act
      const repeat = await create(keys.admin, { url: 'https://hooks.example.com/once' }, headers);

      // Assess
      expect(first.status).toBe(200);
      expect(repeat.status).toBe(409);
      expect((await errorOf(repeat)).code).toBe('idempotency_key_consumed');
    });
  });

  describe('roles', () => {
    it('keeps members and finance from changing endpoints, and finance from reading them', async () => {
      // Prepare
      const endpoint = await createOk(keys.admin, { url: 'https://hooks.example.com/roles' });

      // Act
      const memberCreate = await create(keys.member, { url: 'https://hooks.example.com/member' });
      const memberDelete = await p.call(keys.member, 'DELETE', `/v1/whetstone/webhooks/${endpoint.id}`);
      const financeList = await p.call(keys.finance, 'GET', '/v1/whetstone/webhooks');
      const financeDeliveries = await p.call(keys.finance, 'GET', '/v1/whetstone/webhooks/deliveries');

      // Assess
      expect(await errorOf(memberCreate)).toEqual({
        message: 'A member key cannot register webhook endpoints; this needs one of: admin, owner.',
        type: 'invalid_request_error',
        param: null,
        code: 'insufficient_permissions',
      });
      expect(memberCreate.status).toBe(403);
      expect(memberDelete.status).toBe(403);
      expect((await errorOf(memberDelete)).message).toBe(
        'A member key cannot delete webhook endpoints; this needs one of: admin, owner.',
      );
      expect(financeList.status).toBe(403);
      expect((await errorOf(financeList)).message).toBe(
        'A finance key cannot list webhook endpoints; this needs one of: member, admin, owner.',
      );
      expect(financeDeliveries.status).toBe(403);
      expect((await listEndpoints(keys.member)).page.data.map((listed) => listed.id)).toContain(endpoint.id);
    });
  });

  describe('DELETE /v1/whetstone/webhooks/{webhook_id}', () => {
    it('deletes an endpoint once; after that it is unknown', async () => {
      // Prepare
      const endpoint = await createOk(keys.admin, { url: 'https://hooks.example.com/gone' });

      // Act
      const deleted = await p.call(keys.admin, 'DELETE', `/v1/whetstone/webhooks/${endpoint.id}`);
      const again = await p.call(keys.admin, 'DELETE', `/v1/whetstone/webhooks/${endpoint.id}`);

      // Assess
      expect(deleted.status).toBe(200);
      expect(await deleted.json()).toEqual({ id: endpoint.id, object: 'webhook_endpoint', deleted: true });
      expect(again.status).toBe(404);
      expect(await errorOf(again)).toEqual({
        message: `No such webhook endpoint: ${endpoint.id}`,
        type: 'invalid_request_error',
        param: 'webhook_id',
        code: 'not_found',
      });
      expect((await listEndpoints(keys.member)).page.data.map((listed) => listed.id)).not.toContain(
        endpoint.id,
      );
    });

    it('answers a malformed id as it answers an unknown one', async () => {
      // Act
      const response = await p.call(keys.admin, 'DELETE', '/v1/whetstone/webhooks/not-an-id');

      // Assess
      expect(response.status).toBe(404);
      expect((await errorOf(response)).message).toBe('No such webhook endpoint: not-an-id');
    });
  });

  describe('team isolation', () => {
    it("neither lists nor deletes another team's endpoints, exactly as ones that never existed", async () => {
      // Prepare
      const endpoint = await createOk(keys.admin, { url: 'https://hooks.example.com/isolated' });
      const neverCreated = newId('webhook');

      // Act
      const foreign = await p.call(keys.otherAdmin, 'DELETE', `/v1/whetstone/webhooks/${endpoint.id}`);
      const missing = await p.call(keys.otherAdmin, 'DELETE', `/v1/whetstone/webhooks/${neverCreated}`);
      const otherList = await listEndpoints(keys.otherMember);

      // Assess
      expect(foreign.status).toBe(404);
      expect(await errorOf(foreign)).toEqual({
        message: `No such webhook endpoint: ${endpoint.id}`,
        type: 'invalid_request_error',
        param: 'webhook_id',
        code: 'not_found',
      });
      expect(missing.status).toBe(404);
      expect(otherList.page.data.map((listed) => listed.id)).not.toContain(endpoint.id);
      expect((await listEndpoints(keys.member)).page.data.map((listed) => listed.id)).toContain(endpoint.id);
    });

    it("never shows a team another team's deliveries, even filtered by the other's endpoint", async () => {
      // Prepare
      const t = await deliveryTeam('d-isolation');
      const url = receiver.script('/isolation', [{ status: 204 }]);
      const endpoint = await createOk(t.admin, { url });
      await notify(t.team, newId('job'), 'succeeded');

      // Act
      const all = await listDeliveries(keys.otherMember, '?limit=100');
      const filtered = await listDeliveries(keys.otherMember, `?endpoint_id=${endpoint.id}`);

      // Assess
      expect((await deliveriesIn(t.member, endpoint.id)).map((delivery) => delivery.status)).toEqual([
        'succeeded',
      ]);
      expect(all.data.filter((delivery) => delivery.endpoint_id === endpoint.id)).toEqual([]);
      expect(filtered).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });
    });
  });

  describe('delivery', () => {
    it('retries a failing endpoint with the same webhook-id and a valid signature, and logs both attempts', async () => {
      // Prepare
      const t = await deliveryTeam('d-retry');
      const url = receiver.script('/retry', [{ status: 500 }, { status: 200 }]);
      const endpoint = await createOk(t.admin, { url, events: ['fine_tuning.job.succeeded'] });
      const jobId = newId('job');
      const before = Math.floor(Date.now() / 1000);

      // Act
      await notify(t.team, jobId, 'succeeded');

      // Assess
      const received = receiver.requestsTo('/retry');
      expect(received).toHaveLength(2);
      const [first, second] = received as [ReceivedRequest, ReceivedRequest];
      expect(first.body).toBe(second.body);
      const event = JSON.parse(first.body) as { id: string; created_at: number };
      expect(event).toEqual({
        id: event.id,
        object: 'event',
        created_at: event.created_at,
        type: 'fine_tuning.job.succeeded',
        data: { id: jobId },
      });
      expect(event.id).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(event.created_at).toBeGreaterThanOrEqual(before);
      for (const request of received) {
        expect(request.headers['webhook-id']).toBe(event.id);
        expect(request.headers['content-type']).toBe('application/json');
        expect(request.headers['user-agent']).toBe('Whetstone-Webhooks');
        const headers = {
          'webhook-id': String(request.headers['webhook-id']),
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        };
        expect(verifyWebhook(endpoint.secret, request.body, headers)).toEqual(event);
      }
      const [delivery, ...others] = await deliveriesIn(t.member, endpoint.id);
      expect(others).toEqual([]);
      expect(delivery).toEqual({
        id: delivery?.id,
        object: 'webhook_delivery',
        endpoint_id: endpoint.id,
        event_id: event.id,
        event_type: 'fine_tuning.job.succeeded',
        job_id: jobId,
        status: 'succeeded',
        attempts: [
          {
            at: delivery?.attempts[0]?.at,
            status_code: 500,
            error: 'HTTP 500',
            duration_ms: delivery?.attempts[0]?.duration_ms,
          },
          {
            at: delivery?.attempts[1]?.at,
            status_code: 200,
            error: null,
            duration_ms: delivery?.attempts[1]?.duration_ms,
          },
        ],
        next_attempt_at: null,
        failure_reason: null,
        created_at: event.created_at,
      });
      expect(delivery?.id).toMatch(/^whdel_[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(delivery?.attempts[0]?.at).toBe(Number(first.headers['webhook-timestamp']));
      expect(delivery?.attempts[1]?.at).toBe(Number(second.headers['webhook-timestamp']));
    });

    it('gives up after the configured attempts, never following a redirect', async () => {
      // Prepare
      const t = await deliveryTeam('d-redirect');
      const url = receiver.script('/moved', [
        { status: 307, headers: { Location: `${receiver.url}/elsewhere` } },
      ]);
      receiver.script('/elsewhere', [{ status: 200 }]);
      const endpoint = await createOk(t.admin, { url });

      // Act
      await notify(t.team, newId('job'), 'failed');

      // Assess
      expect(receiver.requestsTo('/moved')).toHaveLength(3);
      expect(receiver.requestsTo('/elsewhere')).toHaveLength(0);
      const [delivery] = await deliveriesIn(t.member, endpoint.id);
      const refusal = 'HTTP 307: redirects are not followed; register the final URL';
      expect(delivery?.status).toBe('failed');
      expect(delivery?.event_type).toBe('fine_tuning.job.failed');
      expect(delivery?.attempts.map((attempt) => [attempt.status_code, attempt.error])).toEqual([
        [307, refusal],
        [307, refusal],
        [307, refusal],
      ]);
      expect(delivery?.next_attempt_at).toBeNull();
      expect(delivery?.failure_reason).toBe(`No 2xx response in 3 attempts; the last: ${refusal}`);
    });

    it('records a refused connection as an attempt without a status code', async () => {
      // Prepare
      const t = await deliveryTeam('d-refused');
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const endpoint = await createOk(t.admin, { url: `http://127.0.0.1:${port}/nobody` });

      // Act
      await notify(t.team, newId('job'), 'cancelled');

      // Assess
      const [delivery] = await deliveriesIn(t.member, endpoint.id);
      expect(delivery?.status).toBe('failed');
      expect(delivery?.attempts.map((attempt) => [attempt.status_code, attempt.error])).toEqual([
        [null, 'fetch failed: ECONNREFUSED'],
        [null, 'fetch failed: ECONNREFUSED'],
        [null, 'fetch failed: ECONNREFUSED'],
      ]);
    });

    it('fails a delivery, saying why, when its endpoint is deleted before the retry', async () => {
      // Prepare
      const t = await deliveryTeam('d-deleted');
      let endpointId = '';
      const url = receiver.script('/deleted', [
        {
          status: 503,
          before: async () => {
            const deleted = await p.call(t.admin, 'DELETE', `/v1/whetstone/webhooks/${endpointId}`);
            expect(deleted.status).toBe(200);
          },
        },
      ]);
      endpointId = (await createOk(t.admin, { url })).id;

      // Act
      await notify(t.team, newId('job'), 'paused');

      // Assess
      expect(receiver.requestsTo('/deleted')).toHaveLength(1);
      const [delivery] = await deliveriesIn(t.member, endpointId);
      expect(delivery?.status).toBe('failed');
      expect(delivery?.event_type).toBe('fine_tuning.job.paused');
      expect(delivery?.attempts.map((attempt) => attempt.status_code)).toEqual([503]);
      expect(delivery?.next_attempt_at).toBeNull();
      expect(delivery?.failure_reason).toBe(
        `The endpoint ${endpointId} was deleted before the event was delivered.`,
      );
    });

    it('delivers only the event types an endpoint subscribed to, and nothing for other statuses', async () => {
      // Prepare
      const t = await deliveryTeam('d-subscribed');
      const url = receiver.script('/only-failed', [{ status: 200 }]);
      const endpoint = await createOk(t.admin, { url, events: ['fine_tuning.job.failed'] });
      const failedJob = newId('job');

      // Act
      await notify(t.team, newId('job'), 'succeeded');
      await notify(t.team, newId('job'), 'running');
      await notify(t.team, failedJob, 'failed');

      // Assess
      const deliveries = await deliveriesIn(t.member, endpoint.id);
      expect(deliveries.map((delivery) => [delivery.event_type, delivery.job_id, delivery.status])).toEqual([
        ['fine_tuning.job.failed', failedJob, 'succeeded'],
      ]);
      expect(receiver.requestsTo('/only-failed')).toHaveLength(1);
    });

    it('delivers one event to every subscribed endpoint, each with its own signature', async () => {
      // Prepare
      const t = await deliveryTeam('d-fanout');
      const first = await createOk(t.admin, { url: receiver.script('/fan-1', [{ status: 200 }]) });
      const second = await createOk(t.admin, { url: receiver.script('/fan-2', [{ status: 202 }]) });
      const jobId = newId('job');

      // Act
      await notify(t.team, jobId, 'cancelled');

      // Assess
      const [toFirst] = receiver.requestsTo('/fan-1');
      const [toSecond] = receiver.requestsTo('/fan-2');
      expect(toFirst?.body).toBe(toSecond?.body);
      expect(toFirst?.headers['webhook-id']).toBe(toSecond?.headers['webhook-id']);
      expect(toFirst?.headers['webhook-signature']).not.toBe(toSecond?.headers['webhook-signature']);
      const headersOf = (request: ReceivedRequest | undefined) => ({
        'webhook-id': String(request?.headers['webhook-id']),
        'webhook-timestamp': String(request?.headers['webhook-timestamp']),
        'webhook-signature': String(request?.headers['webhook-signature']),
      });
      expect(verifyWebhook(first.secret, toFirst?.body ?? '', headersOf(toFirst))).toMatchObject({
        data: { id: jobId },
      });
      expect(() => verifyWebhook(first.secret, toSecond?.body ?? '', headersOf(toSecond))).toThrow(
        'No matching signature found',
      );
      expect(
        (await deliveriesIn(t.member, second.id)).map((delivery) => delivery.attempts[0]?.status_code),
      ).toEqual([202]);
    });
  });

  describe('notifyJobStatus', () => {
    it('publishes each event once to the event publisher, with the team', async () => {
      // Prepare
      const t = await deliveryTeam('d-published');
      await createOk(t.admin, { url: receiver.script('/published', [{ status: 200 }]) });
      const published: { team: string; event: WebhookEvent }[] = [];
      const jobId = newId('job');

      // Act
      await notifyJobStatus(
        {
          ...dependencies,
          eventPublisher: { publish: async (team, event) => void published.push({ team, event }) },
        },
        t.team,
        { id: jobId, status: 'succeeded' },
        Date.now(),
      );
      await queue.idle();

      // Assess
      const [request] = receiver.requestsTo('/published');
      expect(published).toEqual([{ team: t.team, event: JSON.parse(request?.body ?? '') }]);
      expect(published[0]?.event.data).toEqual({ id: jobId });
    });

    it('logs a delivery it could not queue as failed, with the reason, and throws it', async () => {
      // Prepare
      const t = await deliveryTeam('d-unqueued');
      const endpoint = await createOk(t.admin, { url: receiver.script('/unqueued', [{ status: 200 }]) });
      const unavailable = new UnavailableDeliveryQueue(
        () => new ConfigurationError('WHETSTONE_WEBHOOK_QUEUE_URL', 'is not set'),
      );

      // Act
      const notified = notifyJobStatus(
        { ...dependencies, deliveryQueue: unavailable },
        t.team,
        { id: newId('job'), status: 'failed' },
        Date.now(),
      );

      // Assess
      await expect(notified).rejects.toThrow(AggregateError);
      await expect(notified).rejects.toMatchObject({ errors: [expect.any(ConfigurationError)] });
      const [delivery] = await deliveriesIn(t.member, endpoint.id);
      expect(delivery?.status).toBe('failed');
      expect(delivery?.attempts).toEqual([]);
      expect(delivery?.failure_reason).toBe(
        'The delivery could not be queued: WHETSTONE_WEBHOOK_QUEUE_URL is not set',
      );
      expect(receiver.requestsTo('/unqueued')).toEqual([]);
    });
  });

  describe('GET /v1/whetstone/webhooks/deliveries', () => {
    it('pages the log newest first with after and limit', async () => {
      // Prepare
      const t = await deliveryTeam('d-paged');
      const url = receiver.script('/paged', [{ status: 200 }]);
      const endpoint = await createOk(t.admin, { url });
      const jobs = [newId('job'), newId('job'), newId('job')];
      for (const job of jobs) await notify(t.team, job, 'succeeded');

      // Act
      const firstPage = await listDeliveries(t.member, `?endpoint_id=${endpoint.id}&limit=2`);
      const secondPage = await listDeliveries(
        t.member,
        `?endpoint_id=${endpoint.id}&limit=2&after=${firstPage.last_id}`,
      );

      // Assess
      expect(firstPage.data.map((delivery) => delivery.job_id)).toEqual([jobs[2], jobs[1]]);
      expect(firstPage.has_more).toBe(true);
      expect(firstPage.first_id).toBe(firstPage.data[0]?.id);
      expect(secondPage.data.map((delivery) => delivery.job_id)).toEqual([jobs[0]]);
      expect(secondPage.has_more).toBe(false);
      const unfiltered = await listDeliveries(t.member, '?limit=1');
      expect(unfiltered.data.map((delivery) => delivery.job_id)).toEqual([jobs[2]]);
    });

    it('refuses cursors and endpoint filters that are not ids of their kind, naming them', async () => {
      // Act
      const badAfter = await p.call(keys.member, 'GET', '/v1/whetstone/webhooks/deliveries?after=wh_x');
      const badEndpoint = await p.call(keys.member, 'GET', '/v1/whetstone/webhooks/deliveries?endpoint_id=x');
      const badLimit = await p.call(keys.member, 'GET', '/v1/whetstone/webhooks/deliveries?limit=101');

      // Assess
      expect(await errorOf(badAfter)).toEqual({
        message: "after must be a webhook delivery id, not 'wh_x'.",
        type: 'invalid_request_error',
        param: 'after',
        code: null,
      });
      expect(await errorOf(badEndpoint)).toEqual({
        message: "endpoint_id must be a webhook endpoint id, not 'x'.",
        type: 'invalid_request_error',
        param: 'endpoint_id',
        code: null,
      });
      expect(badLimit.status).toBe(400);
      expect((await errorOf(badLimit)).param).toBe('limit');
    });
  });

  describe('recording attempts', () => {
    it('records an attempt once when two workers race for it', async () => {
      // Prepare
      const endpoint = await createOk(keys.admin, { url: 'https://hooks.example.com/race' });
      const deliveryId = newId('webhookDelivery');
      const nowSeconds = Math.floor(Date.now() / 1000);
      await dependencies.stores.webhooks.putDelivery('hooks', {
        id: deliveryId,
        object: 'webhook_delivery',
        endpoint_id: endpoint.id,
        event_id: newId('webhookEvent'),
        event_type: 'fine_tuning.job.succeeded',
        job_id: newId('job'),
        status: 'pending',
        attempts: [],
        next_attempt_at: nowSeconds,
        failure_reason: null,
        created_at: nowSeconds,
      });
      const attempt = (statusCode: number) => ({
        expectedAttempts: 0,
        attempt: { at: nowSeconds, status_code: statusCode, error: null, duration_ms: 5 },
        status: 'succeeded' as const,
        nextAttemptAt: null,
        failureReason: null,
      });

      // Act
      const results = await Promise.all(
        [200, 201, 202, 204].map((code) =>
          dependencies.stores.webhooks.recordAttempt('hooks', deliveryId, attempt(code)),
        ),
      );

      // Assess
      const winners = results.filter((result) => result !== undefined);
      expect(winners).toHaveLength(1);
      const stored = await dependencies.stores.webhooks.getDelivery('hooks', deliveryId);
      expect(stored).toEqual(winners[0]);
      expect(stored?.attempts).toHaveLength(1);
      expect(stored?.status).toBe('succeeded');
      const late = await dependencies.stores.webhooks.recordAttempt('hooks', deliveryId, {
        ...attempt(200),
        expectedAttempts: 1,
      });
      expect(late).toBeUndefined();
    });
  });
});

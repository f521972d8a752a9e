import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptDelivery } from '../../../lambdas/webhooks/delivery';
import { createWebhookEndpoint } from '../../../lambdas/webhooks/service';
import { InvalidRequestError } from '../../../lib/core/errors';
import { newId } from '../../../lib/core/ids';
import { createWebhookEndpointRequestSchema } from '../../../lib/core/schemas';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';

/**
 * In AWS (no private destinations) an endpoint must be a public address when registered and
 * must still resolve to one when each delivery goes out; locally both are allowed.
 */
describe('webhook destinations in a deployment', () => {
  let platform: TestPlatform;
  let receiver: Server;
  let received = 0;
  let port: number;

  beforeAll(async () => {
    platform = await startTestPlatform();
    receiver = createServer((request, response) => {
      received += 1;
      request.resume();
      response.end('ok');
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
    await platform?.stop();
  });

  it.each([
    'https://169.254.169.254/latest',
    'https://localhost/x',
    'https://10.0.0.8/hook',
    'https://[::1]/x',
  ])('refuses to register %s', async (url) => {
    // Prepare
    const { stores } = await import('../../../lambdas/runtime/dependencies');

    // Act
    const attempt = createWebhookEndpoint(
      stores,
      'default',
      createWebhookEndpointRequestSchema.parse({ url }),
      Date.now(),
      {
        allowPrivateDestinations: false,
      },
    );

    // Assess
    await expect(attempt).rejects.toThrow(InvalidRequestError);
    await expect(attempt).rejects.toThrow(/^url must reach a public address: /);
  });

  it('does not deliver to an endpoint that reaches this machine, and says why', async () => {
    // Prepare: an endpoint registered where loopback was allowed, delivered from where it is not.
    const { stores, deliveryQueue } = await import('../../../lambdas/runtime/dependencies');
    const endpoint = await createWebhookEndpoint(
      stores,
      'default',
      createWebhookEndpointRequestSchema.parse({ url: `http://127.0.0.1:${port}/hook` }),
      Date.now(),
      { allowPrivateDestinations: true },
    );
    const delivery = {
      id: newId('webhookDelivery'),
      object: 'webhook_delivery' as const,
      endpoint_id: endpoint.id,
      event_id: newId('webhookEvent'),
      event_type: 'fine_tuning.job.succeeded' as const,
      job_id: newId('job'),
      status: 'pending' as const,
      attempts: [],
      next_attempt_at: null,
      failure_reason: null,
      created_at: Math.floor(Date.now() / 1000),
    };
    await stores.webhooks.putDelivery('default', delivery);

    // Act
    const outcome = await attemptDelivery(
      {
        stores,
        deliveryQueue,
        config: { webhooks: { retryBaseSeconds: 1, maxAttempts: 1, allowPrivateDestinations: false } },
      },
      { team: 'default', deliveryId: delivery.id },
    );

    // Assess
    expect(outcome).toBe('failed');
    expect(received).toBe(0);
    const recorded = await stores.webhooks.getDelivery('default', delivery.id);
    expect(recorded?.attempts[0]?.error).toBe('not delivered: 127.0.0.1 is not a public address');
  });
});

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_METADATA_ENDPOINT,
  IPV6_METADATA_ENDPOINT,
  LOCAL_INSTANCE_FACTS,
  metadataEndpoint,
  readInstanceFacts,
} from '../../../trainer/src/runtime/instance';

const TOKEN = 'AQAEAFakeSessionToken==';
const TOKEN_PATH = '/latest/api/token';

interface SeenRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

interface MetadataServer {
  readonly endpoint: string;
  readonly requests: SeenRequest[];
  connections: number;
  close(): Promise<void>;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const servers: MetadataServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A metadata service on 127.0.0.1 that records every request and answers as `handler` says. */
async function startMetadataServer(handler: Handler): Promise<MetadataServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((request, response) => {
    requests.push({ method: request.method, url: request.url, headers: request.headers });
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const running: MetadataServer = {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    connections: 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => {
    running.connections += 1;
  });
  servers.push(running);
  return running;
}

/** IMDSv2 as EC2 runs it: a token for a PUT with a TTL, metadata only for GETs that carry it. */
function imdsV2(answers: Record<string, { status?: number; body: string }>): Handler {
  return (request, response) => {
    if (request.url === TOKEN_PATH) {
      if (request.method !== 'PUT' || !request.headers['x-aws-ec2-metadata-token-ttl-seconds']) {
        response.writeHead(400).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain' }).end(TOKEN);
      return;
    }
    if (request.headers['x-aws-ec2-metadata-token'] !== TOKEN) {
      response.writeHead(401).end();
      return;
    }
    const answer = answers[request.url ?? ''];
    if (!answer) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(answer.status ?? 200, { 'content-type': 'text/plain' }).end(answer.body);
  };
}

const SPOT_G5 = {
  '/latest/meta-data/instance-type': { body: 'g5.xlarge' },
  '/latest/meta-data/instance-life-cycle': { body: 'spot' },
  '/latest/meta-data/placement/region': { body: 'eu-west-1' },
};

function envFor(server: MetadataServer): NodeJS.ProcessEnv {
  return { AWS_EC2_METADATA_SERVICE_ENDPOINT: server.endpoint };
}

describe('readInstanceFacts in AWS (IMDSv2)', () => {
  it('reads instance type, market and region with a session token', async () => {
    // Prepare
    const server = await startMetadataServer(imdsV2(SPOT_G5));

    // Act
    const facts = await readInstanceFacts('aws', { env: envFor(server) });

    // Assess
    expect(facts).toEqual({ instanceType: 'g5.xlarge', market: 'spot', region: 'eu-west-1', reason: null });
    const [tokenRequest, ...reads] = server.requests;
    expect(tokenRequest?.method).toBe('PUT');
    expect(tokenRequest?.url).toBe(TOKEN_PATH);
    expect(tokenRequest?.headers['x-aws-ec2-metadata-token-ttl-seconds']).toBe('60');
    expect(tokenRequest?.headers['x-aws-ec2-metadata-token']).toBeUndefined();
    expect(reads.map((read) => `${read.method} ${read.url}`).sort()).toEqual([
      'GET /latest/meta-data/instance-life-cycle',
      'GET /latest/meta-data/instance-type',
      'GET /latest/meta-data/placement/region',
    ]);
    for (const read of reads) {
      expect(read.headers['x-aws-ec2-metadata-token']).toBe(TOKEN);
      expect(read.headers['x-aws-ec2-metadata-token-ttl-seconds']).toBeUndefined();
    }
  });

  it('reads an on-demand instance as on-demand', async () => {
    // Prepare
    const server = await startMetadataServer(
      imdsV2({ ...SPOT_G5, '/latest/meta-data/instance-life-cycle': { body: 'on-demand\n' } }),
    );

    // Act
    const facts = await readInstanceFacts('aws', { env: envFor(server) });

    // Assess
    expect(facts).toEqual({
      instanceType: 'g5.xlarge',
      market: 'on-demand',
      region: 'eu-west-1',
      reason: null,
    });
  });

  it('gives up without a token and never asks for metadata without one', async () => {
    // Prepare
    const server = await startMetadataServer((_request, response) => {
      response.writeHead(401).end();
    });

    // Act
    const facts = await readInstanceFacts('aws', { env: envFor(server) });

    // Assess
    expect(facts).toEqual({
      instanceType: null,
      market: null,
      region: null,
      reason: `Instance metadata at ${server.endpoint} gave no session token: HTTP 401`,
    });
    expect(server.requests.map((seen) => `${seen.method} ${seen.url}`)).toEqual([`PUT ${TOKEN_PATH}`]);
  });

  it('stops waiting for a service that never answers after the request timeout', async () => {
    // Prepare
    const server = await startMetadataServer(() => undefined);
    const started = performance.now();

    // Act
    const facts = await readInstanceFacts('aws', { env: envFor(server) });

    // Assess
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(990);
    expect(elapsed).toBeLessThan(1500);
    expect(facts).toEqual({
      instanceType: null,
      market: null,
      region: null,
      reason: `Instance metadata at ${server.endpoint} gave no session token: no answer within 1000 ms`,
    });
  });

  it('bounds the whole lookup, not only each request', async () => {
    // Prepare
    const server = await startMetadataServer((request, response) => {
      if (request.url === TOKEN_PATH) setTimeout(() => response.writeHead(200).end(TOKEN), 700);
    });
    const started = performance.now();

    // Act
    const facts = await readInstanceFacts('aws', {
      env: envFor(server),
      requestTimeoutMs: 1000,
      totalTimeoutMs: 1200,
    });

    // Assess
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1190);
    expect(elapsed).toBeLessThan(1600);
    expect(facts.instanceType).toBeNull();
    expect(facts.market).toBeNull();
    expect(facts.region).toBeNull();
    expect(facts.reason).toMatch(
      new RegExp(
        `^Instance metadata at ${server.endpoint} did not give every fact \\(` +
          'instance-type: no answer within [45]\\d\\d ms; ' +
          'instance-life-cycle: no answer within [45]\\d\\d ms; ' +
          'placement/region: no answer within [45]\\d\\d ms\\)$',
      ),
    );
  });

  it('keeps the facts it read when the market is not one the cost model prices', async () => {
    // Prepare
    const server = await startMetadataServer(
      imdsV2({ ...SPOT_G5, '/latest/meta-data/instance-life-cycle': { body: 'scheduled' } }),
    );

    // Act
    const facts = await readInstanceFacts('aws', { env: envFor(server) });

    // Assess
    expect(facts).toEqual({
      instanceType: 'g5.xlarge',
      market: null,
      region: 'eu-west-1',
      reason: `Instance metadata at ${server.endpoint} did not give every fact (instance-life-cycle: unexpected value 'scheduled')`,
    });
  });

  it('names each category that failed and how', async () => {
    // Prepare
    const server = await startMetadataServer(
      imdsV2({
        '/latest/meta-data/instance-type': { body: 'x'.repeat(2000) },
        '/latest/meta-data/instance-life-cycle': { status: 500, body: 'broken' },
      }),
    );

    // Act
    const facts = await readInstanceFacts('aws', { env: envFor(server) });

    // Assess
    expect(facts).toEqual({
      instanceType: null,
      market: null,
      region: null,
      reason:
        `Instance metadata at ${server.endpoint} did not give every fact (` +
        'instance-type: answer longer than 1024 bytes; instance-life-cycle: HTTP 500; placement/region: HTTP 404)',
    });
  });

  it('refuses values that are not an instance type or a region', async () => {
    // Prepare
    const server = await startMetadataServer(
      imdsV2({
        ...SPOT_G5,
        '/latest/meta-data/instance-type': { body: '<html>captive portal</html>' },
        '/latest/meta-data/placement/region': { body: 'EU West' },
      }),
    );

    // Act
    const facts = await readInstanceFacts('aws', { env: envFor(server) });

    // Assess
    expect(facts).toEqual({
      instanceType: null,
      market: 'spot',
      region: null,
      reason:
        `Instance metadata at ${server.endpoint} did not give every fact (` +
        "instance-type: unexpected value '<html>captive portal</html>'; placement/region: unexpected value 'EU West')",
    });
  });

  it('reports a refused connection', async () => {
    // Prepare
    const server = await startMetadataServer(() => undefined);
    const endpoint = server.endpoint;
    await servers.splice(servers.indexOf(server), 1)[0]?.close();

    // Act
    const facts = await readInstanceFacts('aws', { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint } });

    // Assess
    expect(facts.instanceType).toBeNull();
    expect(facts.reason).toMatch(
      new RegExp(
        `^Instance metadata at ${endpoint} gave no session token: ECONNREFUSED \\(connect ECONNREFUSED `,
      ),
    );
  });

  it('reads nothing when the SDK variable turns instance metadata off', async () => {
    // Prepare
    const server = await startMetadataServer(imdsV2(SPOT_G5));

    // Act
    const facts = await readInstanceFacts('aws', {
      env: { ...envFor(server), AWS_EC2_METADATA_DISABLED: 'TRUE' },
    });
    await sleep(100);

    // Assess
    expect(facts).toEqual({
      instanceType: null,
      market: null,
      region: null,
      reason: 'AWS_EC2_METADATA_DISABLED is true, so instance metadata was not read',
    });
    expect(server.connections).toBe(0);
  });

  it('reports an endpoint variable that is not an http URL', async () => {
    // Act
    const notUrl = await readInstanceFacts('aws', { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: 'imds' } });
    const https = await readInstanceFacts('aws', {
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: 'https://169.254.169.254' },
    });

    // Assess
    expect(notUrl.reason).toBe("AWS_EC2_METADATA_SERVICE_ENDPOINT is not a URL: 'imds'");
    expect(https.reason).toBe(
      "AWS_EC2_METADATA_SERVICE_ENDPOINT must be an http:// URL, not 'https://169.254.169.254'",
    );
  });
});

describe('readInstanceFacts locally', () => {
  it('records local and never contacts the metadata address', async () => {
    // Prepare
    const server = await startMetadataServer(imdsV2(SPOT_G5));

    // Act
    const facts = await readInstanceFacts('local', { env: envFor(server) });
    await sleep(100);

    // Assess
    expect(facts).toEqual({ instanceType: 'local', market: 'local', region: 'local', reason: null });
    expect(facts).toBe(LOCAL_INSTANCE_FACTS);
    expect(server.connections).toBe(0);
    expect(server.requests).toEqual([]);
  });
});

describe('metadataEndpoint', () => {
  it('follows the AWS SDK variables', () => {
    // Act
    const byDefault = metadataEndpoint({});
    const ipv4 = metadataEndpoint({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv4' });
    const ipv6 = metadataEndpoint({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv6' });
    const explicit = metadataEndpoint({
      AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:1338/',
      AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv6',
    });
    const badMode = metadataEndpoint({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'ipv5' });

    // Assess
    expect(byDefault).toBe('http://169.254.169.254');
    expect(byDefault).toBe(DEFAULT_METADATA_ENDPOINT);
    expect(ipv4).toBe('http://169.254.169.254');
    expect(ipv6).toBe('http://[fd00:ec2::254]');
    expect(ipv6).toBe(IPV6_METADATA_ENDPOINT);
    expect(explicit).toBe('http://127.0.0.1:1338');
    expect(badMode).toEqual({
      problem: "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or IPv6, not 'ipv5'",
    });
  });
});

import { request } from 'node:http';

/**
 * What the attempt ran on, for its cost record: read from EC2 instance metadata (IMDSv2) when the
 * trainer runs in AWS, fixed to `local` otherwise. A fact that cannot be read is null and `reason`
 * says why; the lookup never throws, because a job must not fail for want of a price tag.
 */
export interface InstanceFacts {
  readonly instanceType: string | null;
  readonly market: InstanceMarket | null;
  readonly region: string | null;
  /** Why a fact is null, for the trainer's log; null when every fact is known. */
  readonly reason: string | null;
}

export type InstanceMarket = 'spot' | 'on-demand' | 'local';

export interface InstanceFactsOptions {
  /** Where the AWS SDK's standard variables are read (`AWS_EC2_METADATA_*`); `process.env` by default. */
  readonly env?: NodeJS.ProcessEnv;
  /** Limit on each request, from connecting to the last byte. */
  readonly requestTimeoutMs?: number;
  /** Limit on the whole lookup. */
  readonly totalTimeoutMs?: number;
}

export const LOCAL_INSTANCE_FACTS: InstanceFacts = Object.freeze({
  instanceType: 'local',
  market: 'local',
  region: 'local',
  reason: null,
});

export const DEFAULT_METADATA_ENDPOINT = 'http://169.254.169.254';
export const IPV6_METADATA_ENDPOINT = 'http://[fd00:ec2::254]';
const ENDPOINT_VARIABLE = 'AWS_EC2_METADATA_SERVICE_ENDPOINT';
const ENDPOINT_MODE_VARIABLE = 'AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE';
const DISABLED_VARIABLE = 'AWS_EC2_METADATA_DISABLED';

/** Long enough for the three reads that follow; the token is used once. */
const TOKEN_TTL_SECONDS = 60;
/** Every answer read here is one short line; anything longer is not metadata. */
const MAX_ANSWER_BYTES = 1024;
const INSTANCE_TYPE_PATTERN = /^[a-z0-9][a-z0-9.-]{0,63}$/;
const REGION_PATTERN = /^[a-z]{2}(-[a-z0-9]+){1,4}$/;

/**
 * `local` never opens a socket. `aws` asks the instance metadata service over IMDSv2 only (a PUT
 * for a session token, then GETs that carry it), with short timeouts: off EC2, or with the
 * metadata service turned off, the answer is unknown facts and a reason within `totalTimeoutMs`.
 */
export async function readInstanceFacts(
  environment: 'aws' | 'local',
  options: InstanceFactsOptions = {},
): Promise<InstanceFacts> {
  if (environment === 'local') return LOCAL_INSTANCE_FACTS;
  const env = options.env ?? process.env;
  if ((env[DISABLED_VARIABLE] ?? '').toLowerCase() === 'true') {
    return unknown(`${DISABLED_VARIABLE} is true, so instance metadata was not read`);
  }
  const endpoint = metadataEndpoint(env);
  if (typeof endpoint !== 'string') return unknown(endpoint.problem);

  const deadline = Date.now() + (options.totalTimeoutMs ?? 3000);
  const requestTimeoutMs = options.requestTimeoutMs ?? 1000;
  const call = (method: 'PUT' | 'GET', path: string, headers: Record<string, string>) =>
    metadataRequest(
      new URL(path, endpoint),
      method,
      headers,
      Math.min(requestTimeoutMs, deadline - Date.now()),
    );

  const token = await call('PUT', '/latest/api/token', {
    'X-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS),
  });
  if (!token.ok) {
    return unknown(`Instance metadata at ${endpoint} gave no session token: ${token.problem}`);
  }
  const read = (category: string) =>
    call('GET', `/latest/meta-data/${category}`, { 'X-aws-ec2-metadata-token': token.text });
  const [instanceType, lifeCycle, region] = await Promise.all([
    read('instance-type'),
    read('instance-life-cycle'),
    read('placement/region'),
  ]);

  const problems: string[] = [];
  const fact = <T>(category: string, answer: Answer, parse: (text: string) => T | undefined): T | null => {
    if (!answer.ok) {
      problems.push(`${category}: ${answer.problem}`);
      return null;
    }
    const value = parse(answer.text);
    if (value === undefined) {
      problems.push(`${category}: unexpected value '${answer.text}'`);
      return null;
    }
    return value;
  };
  const facts = {
    instanceType: fact('instance-type', instanceType, (text) => matching(text, INSTANCE_TYPE_PATTERN)),
    market: fact('instance-life-cycle', lifeCycle, marketOf),
    region: fact('placement/region', region, (text) => matching(text, REGION_PATTERN)),
  };
  const reason = problems.length
    ? `Instance metadata at ${endpoint} did not give every fact (${problems.join('; ')})`
    : null;
  return { ...facts, reason };
}

/** The SDK's rules: the endpoint variable, else the endpoint of the mode (`IPv4` or `IPv6`). */
export function metadataEndpoint(env: NodeJS.ProcessEnv): string | { readonly problem: string } {
  const configured = env[ENDPOINT_VARIABLE];
  if (configured) {
    let url: URL;
    try {
      url = new URL(configured);
    } catch {
      return { problem: `${ENDPOINT_VARIABLE} is not a URL: '${configured}'` };
    }
    if (url.protocol !== 'http:') {
      return { problem: `${ENDPOINT_VARIABLE} must be an http:// URL, not '${configured}'` };
    }
    return url.origin;
  }
  const mode = env[ENDPOINT_MODE_VARIABLE];
  if (!mode || mode.toLowerCase() === 'ipv4') return DEFAULT_METADATA_ENDPOINT;
  if (mode.toLowerCase() === 'ipv6') return IPV6_METADATA_ENDPOINT;
  return { problem: `${ENDPOINT_MODE_VARIABLE} must be IPv4 or IPv6, not '${mode}'` };
}

type Answer = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly problem: string };

function metadataRequest(
  url: URL,
  method: 'PUT' | 'GET',
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<Answer> {
  if (timeoutMs <= 0) return Promise.resolve({ ok: false, problem: 'no time left for the lookup' });
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outgoing.destroy();
      resolve(answer);
    };
    const outgoing = request(url, { method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > MAX_ANSWER_BYTES) {
          settle({ ok: false, problem: `answer longer than ${MAX_ANSWER_BYTES} bytes` });
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8').trim();
        if (response.statusCode !== 200) {
          settle({ ok: false, problem: `HTTP ${response.statusCode}` });
        } else if (!text) {
          settle({ ok: false, problem: 'empty answer' });
        } else {
          settle({ ok: true, text });
        }
      });
      response.on('error', (error) => settle({ ok: false, problem: error.message }));
    });
    timer = setTimeout(
      () => settle({ ok: false, problem: `no answer within ${Math.round(timeoutMs)} ms` }),
      timeoutMs,
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) =>
      settle({ ok: false, problem: error.code ? `${error.code} (${error.message})` : error.message }),
    );
    outgoing.end();
  });
}

/** `instance-life-cycle` is the purchasing option; only these two are markets the cost model prices. */
function marketOf(lifeCycle: string): InstanceMarket | undefined {
  return lifeCycle === 'spot' || lifeCycle === 'on-demand' ? lifeCycle : undefined;
}

function matching(text: string, pattern: RegExp): string | undefined {
  return pattern.test(text) ? text : undefined;
}

function unknown(reason: string): InstanceFacts {
  return { instanceType: null, market: null, region: null, reason };
}

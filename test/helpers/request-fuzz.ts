import { DynamoDBClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { type Launcher, LocalLauncher } from '../../lib/adapters';
import type { FineTuningJob } from '../../lib/core/schemas';
import {
  createJob,
  ensureTinyModel,
  hasStatus,
  trainerMetadata,
  uploadTrainingFile,
  waitForJob,
} from './jobs';
import { chatDataset, fileForm, startTestPlatform, type TestPlatform } from './platform';

/**
 * The foundation's POST routes and every jobs route, fuzzed one field at a time: a request with
 * exactly one field made invalid must get a 4xx whose `error.param` names that field, and must
 * leave the stored records, the objects and the launcher as they were (no `submit`, no
 * `terminate`). Valid requests drawn from the same generators must succeed, so the rejections
 * are known to come from the mutated field alone. Audit and idempotency records are left out of
 * the count: recording refused calls is the audit trail's job.
 *
 * A field is whatever the route reads from the request: a body field, a path parameter or a
 * query parameter, as the route's sender places it. Nested fields are dotted
 * (`whetstone.lora.rank`), as the request parser names them in `param`.
 */

type Fields = Record<string, unknown>;

interface RouteUnderTest {
  readonly name: string;
  readonly valid: fc.Arbitrary<Fields>;
  /** For each field, the kinds of value it must refuse; every kind is drawn in every tier. */
  readonly invalid: Readonly<Record<string, readonly fc.Arbitrary<unknown>[]>>;
  /** Objects (dotted; '' is the request itself) in which an unknown key must be refused by name. */
  readonly closed?: readonly string[];
  /** The smallest valid object at a dotted path, for mutations inside objects a valid request left out. */
  readonly skeletons?: Readonly<Record<string, Fields>>;
  /** The status a refused field gets, where it is not any 4xx. */
  readonly refusedWith?: Readonly<Record<string, number>>;
  /** Valid requests need a trainer running or paused: they are drawn `runs.live` times, not `runs.valid`. */
  readonly live?: boolean;
  /** Makes what the request refers to, and the fields that name it. */
  prepare?(platform: TestPlatform, purpose: 'valid' | 'invalid'): Promise<Prepared>;
  /** `prepare` stores something on every run, so what a refused request must keep is read after it. */
  readonly prepareWrites?: boolean;
  /** Stops what a valid request left running. */
  cleanUp?(platform: TestPlatform, prepared: Prepared): Promise<void>;
  send(platform: TestPlatform, fields: Fields): Promise<Response>;
}

interface Prepared {
  readonly fields?: Fields;
  /** What `fixture(name)` values in the fields stand for. */
  readonly fixtures?: JobFixtures;
}

const ABSENT = Symbol('absent');

/** Stands for a value only known once the platform runs (another team's file id, say). */
class FixtureRef {
  constructor(readonly fixture: keyof JobFixtures) {}
}
const fixture = (name: keyof JobFixtures) => fc.constant(new FixtureRef(name));

const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.nat(), { maxLength: 2 }),
);
/** For fields where `null` means "none" and is valid. */
const notAStringNorNull = fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.nat(), { maxLength: 2 }));
const notAnInteger = fc.oneof(
  fc.string(),
  fc.constant(null),
  fc.double({ noInteger: true, noNaN: true }),
  fc.boolean(),
);
/** Finite, so that JSON does not turn it into `null`. */
const fraction = (min: number, max: number) => fc.double({ min, max, noInteger: true, noNaN: true });
/** Any double in [min, max], subnormals included: the schemas admit them. */
const real = (min: number, max: number) => fc.double({ min, max, noNaN: true });
/** 0, or a value from one millionth up: what the fractions and rates of a job accept. */
const smallOrZero = (max: number) => fc.oneof(fc.constant(0), real(1e-6, max));
/** Non-zero but below one millionth: refused, since DynamoDB could not even store the smallest. */
const tooSmall = real(Number.MIN_VALUE, 9.99e-7);
const notANumber = fc.oneof(
  fc.string().filter((text) => text !== 'auto'),
  fc.boolean(),
  fc.constant([1]),
);
const unknownKey = fc.stringMatching(/^[a-z][a-z_]{2,12}$/).map((key) => `x_${key}`);
const ulid = fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/);
const json = { 'Content-Type': 'application/json' };

/** Fields named in the path template fill it; the route's sender places the rest. */
function fillPath(template: string, fields: Fields): { path: string; rest: Fields } {
  const rest = { ...fields };
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = rest[name];
    delete rest[name];
    return encodeURIComponent(String(value));
  });
  return { path, rest };
}

/** The rest as a JSON body; JSON drops the ABSENT symbol by itself. */
function sendJson(method: string, template: string) {
  return (platform: TestPlatform, fields: Fields) => {
    const { path, rest } = fillPath(template, fields);
    return platform.call(platform.ownerKey, method, path, { body: JSON.stringify(rest), headers: json });
  };
}

/** `{filename}` values become file parts, `{plainField}` values plain fields holding a file's place. */
function sendForm(template: string) {
  return (platform: TestPlatform, fields: Fields) => {
    const { path, rest } = fillPath(template, fields);
    const form = new FormData();
    for (const [field, value] of Object.entries(rest)) {
      if (value === ABSENT) continue;
      if (typeof value === 'object' && value && 'filename' in value) {
        form.set(field, new Blob([chatDataset(10)]), String(value.filename));
      } else if (typeof value === 'object' && value && 'plainField' in value) {
        form.set(field, String(value.plainField));
      } else {
        form.set(field, String(value));
      }
    }
    return platform.call(platform.ownerKey, 'POST', path, { body: form });
  };
}

/** The rest in the query string; objects become `name[key]=value` pairs, as the SDK writes `metadata`. */
function sendQuery(method: string, template: string) {
  return (platform: TestPlatform, fields: Fields) => {
    const { path, rest } = fillPath(template, fields);
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(rest)) {
      if (value === ABSENT) continue;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        for (const [key, inner] of Object.entries(value)) query.append(`${name}[${key}]`, String(inner));
      } else {
        query.append(name, String(value));
      }
    }
    const search = query.toString();
    return platform.call(platform.ownerKey, method, search ? `${path}?${search}` : path);
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

/** What the jobs routes refer to, made once per platform. Every job here has ended. */
interface JobFixtures {
  readonly trainingFile: string;
  readonly validationFile: string;
  /** The owner's team's file that failed validation. */
  readonly failedFile: string;
  readonly foreignFile: string;
  /** Another team's fine-tuned model. */
  readonly foreignModel: string;
  readonly foreignJob: string;
  /** A job of the owner's team that failed, with events. */
  readonly endedJob: string;
}

const jobFixtures = new WeakMap<TestPlatform, Promise<JobFixtures>>();
function fixturesOf(platform: TestPlatform): Promise<JobFixtures> {
  let made = jobFixtures.get(platform);
  if (!made) {
    made = makeJobFixtures(platform);
    jobFixtures.set(platform, made);
  }
  return made;
}

async function makeJobFixtures(platform: TestPlatform): Promise<JobFixtures> {
  await ensureTinyModel(platform);
  const rivalKey = await platform.createTeamKey('fuzz-rival', 'member');
  const [trainingFile, validationFile, foreignFile] = await Promise.all([
    uploadTrainingFile(platform, platform.ownerKey),
    uploadTrainingFile(platform, platform.ownerKey, 12),
    uploadTrainingFile(platform, rivalKey),
  ]);
  const failed = await platform.call(platform.ownerKey, 'POST', '/v1/files', {
    body: fileForm('{"messages": []}\n'),
  });
  const failedFile = (await failed.json()) as { id: string; status: string };
  if (failedFile.status !== 'error') throw new Error(`the broken dataset was ${failedFile.status}`);
  const created = async (key: string, body: Record<string, unknown>) => {
    const response = await createJob(platform, key, body);
    if (response.status !== 200) throw new Error(`fixture job: ${await response.text()}`);
    return ((await response.json()) as FineTuningJob).id;
  };
  const rivalJob = await created(rivalKey, {
    model: 'tiny-llama',
    training_file: foreignFile,
    suffix: 'rival',
    metadata: trainerMetadata({ mode: 'succeed' }),
  });
  const endedJob = await created(platform.ownerKey, {
    model: 'tiny-llama',
    training_file: trainingFile,
    metadata: trainerMetadata({ mode: 'fail' }),
  });
  const [rival] = await Promise.all([
    waitForJob(platform, rivalKey, rivalJob, hasStatus('succeeded', 'failed'), 60_000),
    waitForJob(platform, platform.ownerKey, endedJob, hasStatus('failed'), 60_000),
  ]);
  if (!rival.fine_tuned_model) throw new Error(`the rival's job did not succeed: ${JSON.stringify(rival)}`);
  return {
    trainingFile,
    validationFile,
    failedFile: failedFile.id,
    foreignFile,
    foreignModel: rival.fine_tuned_model,
    foreignJob: rivalJob,
    endedJob,
  };
}

/** A job of the owner's team whose trainer runs until stopped; when asked, returned once it runs. */
async function runningJob(platform: TestPlatform, waitUntilRunning: boolean): Promise<string> {
  const { trainingFile } = await fixturesOf(platform);
  const response = await createJob(platform, platform.ownerKey, {
    model: 'tiny-llama',
    training_file: trainingFile,
    metadata: trainerMetadata({ mode: 'run' }),
  });
  if (response.status !== 200) throw new Error(`running job: ${await response.text()}`);
  const { id } = (await response.json()) as FineTuningJob;
  if (waitUntilRunning) await waitForJob(platform, platform.ownerKey, id, hasStatus('running'), 60_000);
  return id;
}

async function control(platform: TestPlatform, jobId: string, action: 'cancel' | 'pause'): Promise<void> {
  const response = await platform.call(platform.ownerKey, 'POST', `/v1/fine_tuning/jobs/${jobId}/${action}`);
  if (response.status !== 200) throw new Error(`${action} ${jobId}: ${await response.text()}`);
}

/** Valid and invalid values of the hyperparameters, wherever the request gives them. */
const hyperparameters = fc.record(
  {
    n_epochs: fc.oneof(fc.constant('auto'), fc.integer({ min: 1, max: 50 })),
    batch_size: fc.oneof(fc.constant('auto'), fc.integer({ min: 1, max: 256 })),
    learning_rate_multiplier: fc.oneof(fc.constant('auto'), real(1e-6, 100)),
  },
  { requiredKeys: [] },
);
const badHyperparameters = {
  n_epochs: [
    fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 51 }), fraction(0, 50)),
    fc.oneof(notANumber, fc.constant(null)),
  ],
  batch_size: [fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 257 }), fraction(0, 256)), notANumber],
  learning_rate_multiplier: [
    fc.oneof(fc.constant(0), real(-1e6, -Number.MIN_VALUE), real(100.001, 1e9), tooSmall),
    notANumber,
  ],
};
const hyperparameterMutations = (prefix: string) =>
  Object.fromEntries(Object.entries(badHyperparameters).map(([name, kinds]) => [`${prefix}.${name}`, kinds]));

const moduleName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,15}$/);
const whetstoneOptions = fc
  .tuple(
    fc.oneof(
      fc.constant({}),
      fc.record(
        {
          training_method: fc.constant('lora'),
          lora: fc.record(
            {
              rank: fc.integer({ min: 1, max: 256 }),
              alpha: real(0.001, 1024),
              dropout: smallOrZero(0.9),
              target_modules: fc.oneof(
                fc.constant('all-linear'),
                fc.array(moduleName, { minLength: 1, maxLength: 4 }),
              ),
            },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      ),
      fc.constant({ training_method: 'full' }),
      fc.record({
        training_method: fc.constant('partial'),
        partial: fc.oneof(
          fc.record({ layers: fc.array(fc.integer({ min: 0, max: 1023 }), { minLength: 1, maxLength: 4 }) }),
          fc.record({ modules: fc.array(moduleName, { minLength: 1, maxLength: 4 }) }),
        ),
      }),
    ),
    fc.record(
      {
        max_seq_length: fc.integer({ min: 16, max: 131_072 }),
        warmup_ratio: smallOrZero(0.5),
        weight_decay: smallOrZero(1),
        gpu_type: fc.constantFrom('none', 'a10g', 'l4', 'l40s', 'a100', 'h100'),
        market: fc.constantFrom('spot', 'on-demand'),
        max_cost_usd: fc.option(real(0.01, 1_000_000), { nil: null }),
        max_runtime_minutes: fc.integer({ min: 1, max: 14 * 24 * 60 }),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([method, limits]) => ({ ...method, ...limits }));

/** Hyperparameters in one of the places OpenAI takes them, or none; never both, which is refused. */
const hyperparameterPlacement = fc.oneof(
  fc.constant({}),
  fc.record({ hyperparameters }),
  fc.record({ method: fc.constant({ type: 'supervised' }) }),
  fc.record({
    method: fc.record({ type: fc.constant('supervised'), supervised: fc.record({ hyperparameters }) }),
  }),
  fc.record({ method: fc.constant({ type: 'supervised', supervised: {} }), hyperparameters }),
);

const createJobBody = fc
  .tuple(
    hyperparameterPlacement,
    fc.record(
      {
        model: fc.constant('tiny-llama'),
        // Left out, the prepared validation file is sent.
        validation_file: fc.constantFrom(ABSENT, null),
        suffix: fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,40}$/), { nil: null }),
        seed: fc.option(fc.integer({ min: 0, max: 2_147_483_647 }), { nil: null }),
        // Trainers of valid jobs fail at once: no process outlives the run that made it.
        metadata: fc
          .dictionary(
            fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/).filter((key) => key !== 'test_trainer'),
            fc.string({ unit: 'grapheme', maxLength: 40 }),
            { maxKeys: 10 },
          )
          .map((pairs) => ({ ...pairs, ...trainerMetadata({ mode: 'fail' }) })),
        integrations: fc.constantFrom([], null),
        whetstone: whetstoneOptions,
      },
      { requiredKeys: ['model', 'metadata'] },
    ),
  )
  .map(([placement, rest]) => ({ ...placement, ...rest }));

const wrongFileId = [
  fc.string({ minLength: 1, maxLength: 64 }),
  ulid.map((id) => `file-${id}`),
  fc.constant(''),
  fc.string({ minLength: 65, maxLength: 80 }),
  fixture('foreignFile'),
  fixture('failedFile'),
];

/** Ids a job route must answer with 404: malformed, well formed but unknown, another team's. */
const wrongJobId = [
  fc
    .string({ minLength: 1, maxLength: 40 })
    .filter((id) => !/^\.+$/.test(id) && !/^ftjob-[0-9A-HJKMNP-TV-Z]{26}$/.test(id)),
  fc.constantFrom('ftjob-nope', 'ftjob-', 'FTJOB-01J0000000000000000000000A'),
  ulid.map((id) => `ftjob-${id.toLowerCase()}`),
  ulid.map((id) => `ftjob-${id}`),
  fixture('foreignJob'),
];

const badLimit = [
  fc.constantFrom('0', '101', 'x', '', '1.5', 'auto'),
  fc.integer({ min: 101 }).map(String),
  fc.integer({ max: 0 }).map(String),
];

/** `after` that is not an id of the kind the list holds (`prefix` ids are the right kind). */
function badAfter(prefix: string): fc.Arbitrary<unknown>[] {
  return [
    fc.string({ maxLength: 80 }).filter((text) => !text.startsWith(prefix)),
    fc
      .constantFrom('ftjob-', 'ftevent-', 'ftckpt_', 'file-')
      .chain((other) =>
        other === prefix ? fc.constant(`${prefix}nope`) : ulid.map((id) => `${other}${id}`),
      ),
  ];
}

const page = (prefix: string) =>
  fc.record(
    { limit: fc.integer({ min: 1, max: 100 }).map(String), after: ulid.map((id) => `${prefix}${id}`) },
    { requiredKeys: [] },
  );

/** Job-id routes refer to the ended job; live ones to a job in the state their action needs. */
async function endedJob(platform: TestPlatform): Promise<Prepared> {
  const fixtures = await fixturesOf(platform);
  return { fields: { fine_tuning_job_id: fixtures.endedJob }, fixtures };
}

function jobIdRoute(
  name: string,
  method: 'GET' | 'POST',
  template: string,
  query: { valid: fc.Arbitrary<Fields>; invalid: Record<string, readonly fc.Arbitrary<unknown>[]> } = {
    valid: fc.constant({}),
    invalid: {},
  },
): RouteUnderTest {
  return {
    name,
    valid: query.valid,
    invalid: { fine_tuning_job_id: wrongJobId, ...query.invalid },
    refusedWith: { fine_tuning_job_id: 404 },
    prepare: endedJob,
    send: sendQuery(method, template),
  };
}

const routes: readonly RouteUnderTest[] = [
  {
    name: 'POST /v1/files',
    valid: fc.record({
      purpose: fc.constant('fine-tune'),
      file: fc.stringMatching(/^[a-z][a-z0-9 ._-]{0,30}$/).map((name) => ({ filename: `${name}.jsonl` })),
    }),
    invalid: {
      purpose: [fc.constant(ABSENT), fc.string().filter((value) => value !== 'fine-tune')],
      file: [
        fc.constant(ABSENT),
        fc.string({ maxLength: 20 }).map((text) => ({ plainField: text })),
        fc.integer({ min: 256, max: 400 }).map((length) => ({ filename: 'a'.repeat(length) })),
      ],
    },
    send: sendForm('/v1/files'),
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
      bytes: [
        fc.constant(ABSENT),
        notAnInteger,
        fc.integer({ max: 0 }),
        fc.integer({ min: 512 * 1024 * 1024 + 1 }),
      ],
      filename: [
        fc.constant(ABSENT),
        notAString,
        fc.constant(''),
        fc.constant('../x'),
        fc.string({ minLength: 256 }),
      ],
      mime_type: [fc.constant(ABSENT), notAString, fc.constantFrom('text/plain', 'image/png', '')],
      purpose: [fc.constant(ABSENT), notAString, fc.constantFrom('assistants', 'batch', '')],
    },
    send: sendJson('POST', '/v1/uploads'),
  },
  {
    name: 'POST /v1/whetstone/teams',
    valid: fc.record({
      id: fc.stringMatching(/^[a-z][a-z0-9]{2,20}$/).map((id) => `fz-${id}`),
      name: fc.string({ minLength: 1, maxLength: 60 }),
    }),
    invalid: {
      id: [
        fc.constant(ABSENT),
        notAString,
        fc.constantFrom('', 'UPPER', '-lead', 'trail-', 'has space', 'a'.repeat(41)),
      ],
      name: [notAString, fc.constant(''), fc.string({ minLength: 129, maxLength: 200 })],
    },
    send: sendJson('POST', '/v1/whetstone/teams'),
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
      team: [notAString, fc.constantFrom('', 'Nope!', 'no-such-team')],
      role: [notAString, fc.constantFrom('root', 'Owner', '')],
      name: [notAString, fc.constant('')],
      expires_at: [notAnInteger, fc.integer({ min: 1, max: 1_000_000_000 }), fc.integer({ max: -1 })],
    },
    send: sendJson('POST', '/v1/whetstone/keys'),
  },
  {
    name: 'POST /v1/uploads/{upload_id}/parts',
    valid: fc.record({ data: fc.constant({ filename: 'blob' }) }),
    invalid: {
      data: [fc.constant(ABSENT), fc.string({ maxLength: 20 }).map((text) => ({ plainField: text }))],
    },
    prepareWrites: true,
    async prepare(platform) {
      return { fields: { upload_id: (await openUpload(platform, false)).uploadId } };
    },
    send: sendForm('/v1/uploads/{upload_id}/parts'),
  },
  {
    name: 'POST /v1/uploads/{upload_id}/complete',
    valid: fc.record({}),
    invalid: {
      part_ids: [
        fc.constant(ABSENT),
        notAString,
        fc.constant([]),
        fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
        fc.constant(['part_01ARZ3NDEKTSV4RRFFQ69G5FAV']),
      ],
      md5: [notAString, fc.constantFrom('', 'xyz', '0'.repeat(31), 'g'.repeat(32), '0'.repeat(32))],
    },
    prepareWrites: true,
    async prepare(platform) {
      const { uploadId, partId } = await openUpload(platform, true);
      return { fields: { upload_id: uploadId, part_ids: [partId] } };
    },
    send: sendJson('POST', '/v1/uploads/{upload_id}/complete'),
  },
  {
    name: 'POST /v1/fine_tuning/jobs',
    valid: createJobBody,
    invalid: {
      model: [
        fc.constant(ABSENT),
        notAString,
        fc.string({ minLength: 1, maxLength: 60 }).filter((name) => name !== 'tiny-llama'),
        fc.constantFrom('', 'gpt-4o-mini-2024-07-18', 'TINY-LLAMA', 'a'.repeat(257)),
        ulid.map((id) => `ft:tiny-llama:default::${id.toLowerCase()}`),
        fixture('foreignModel'),
      ],
      training_file: [fc.constant(ABSENT), notAString, ...wrongFileId],
      validation_file: [notAStringNorNull, ...wrongFileId],
      ...hyperparameterMutations('method.supervised.hyperparameters'),
      ...hyperparameterMutations('hyperparameters'),
      'method.type': [fc.constantFrom('dpo', 'reinforcement', 'bogus', ''), notAString, fc.constant(ABSENT)],
      suffix: [
        fc.stringMatching(/^[a-z0-9]{65,80}$/),
        fc
          .tuple(fc.stringMatching(/^[a-z0-9]{0,10}$/), fc.stringMatching(/^[a-z0-9]{0,10}$/))
          .map(([before, after]) => `${before}:${after}`),
        fc.constantFrom('', '-lead', '.dot', 'has space', 'ümlaut'),
        notAStringNorNull,
      ],
      seed: [
        fc.integer({ max: -1 }),
        fraction(-1e6, 1e9),
        fc.integer({ min: 2_147_483_648, max: Number.MAX_SAFE_INTEGER }),
        fc.string(),
      ],
      metadata: [
        fc.dictionary(fc.stringMatching(/^[a-z]{1,10}$/), fc.string({ maxLength: 5 }), {
          minKeys: 17,
          maxKeys: 20,
        }),
        fc.stringMatching(/^[a-z]{65,80}$/).map((key) => ({ [key]: 'v' })),
        fc.string({ minLength: 513, maxLength: 600 }).map((value) => ({ note: value })),
        fc
          .oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant({}))
          .map((value) => ({ note: value })),
        fc.oneof(fc.string(), fc.integer(), fc.constant([])),
      ],
      integrations: [
        fc.array(fc.record({ type: fc.constantFrom('wandb', 'other') }), { minLength: 1, maxLength: 3 }),
        fc.oneof(fc.string(), fc.integer(), fc.constant({})),
      ],
      whetstone: [fc.oneof(fc.string(), fc.integer(), fc.constant([]))],
      'whetstone.training_method': [
        fc.string().filter((method) => !['lora', 'full', 'partial'].includes(method)),
        notAString,
      ],
      'whetstone.lora.rank': [
        fc.constantFrom(0, 300),
        fc.integer({ max: 0 }),
        fc.integer({ min: 257 }),
        fraction(1, 256),
      ],
      'whetstone.lora.alpha': [
        fc.constant(0),
        real(Number.MIN_VALUE, 0.000999),
        real(1024.001, 1e9),
        notANumber,
      ],
      'whetstone.lora.dropout': [fc.constant(1), real(0.901, 1e6), real(-1e6, -Number.MIN_VALUE), tooSmall],
      'whetstone.lora.target_modules': [
        fc.constantFrom([], ['bad name!'], 'q_proj', 'all'),
        fc.array(moduleName, { minLength: 33, maxLength: 40 }),
      ],
      'whetstone.partial': [
        fc.constantFrom({}, { layers: [] }, { layers: [-1] }, { modules: ['bad name!'] }),
      ],
      'whetstone.max_seq_length': [fc.constant(8), fc.integer({ max: 15 }), fc.integer({ min: 131_073 })],
      'whetstone.warmup_ratio': [fc.constant(0.9), real(0.501, 1e6), tooSmall],
      'whetstone.weight_decay': [fc.constant(-1), real(1.001, 1e6), tooSmall],
      'whetstone.gpu_type': [fc.constantFrom('tpu', 'A100', ''), notAString],
      'whetstone.market': [fc.constantFrom('cheap', 'Spot', ''), notAString],
      'whetstone.max_cost_usd': [
        fc.constant(0),
        real(Number.MIN_VALUE, 0.00999),
        fc.integer({ max: -1 }),
        fc.integer({ min: 1_000_001 }),
      ],
      'whetstone.max_runtime_minutes': [
        fc.constant(0),
        fraction(1, 100),
        fc.integer({ min: 14 * 24 * 60 + 1 }),
      ],
    },
    closed: [
      '',
      'method',
      'method.supervised',
      'method.supervised.hyperparameters',
      'hyperparameters',
      'whetstone',
      'whetstone.lora',
    ],
    skeletons: { method: { type: 'supervised' } },
    async prepare(platform) {
      const fixtures = await fixturesOf(platform);
      return {
        fields: { training_file: fixtures.trainingFile, validation_file: fixtures.validationFile },
        fixtures,
      };
    },
    send: sendJson('POST', '/v1/fine_tuning/jobs'),
  },
  {
    name: 'GET /v1/fine_tuning/jobs',
    valid: fc.record(
      {
        limit: fc.integer({ min: 1, max: 100 }).map(String),
        after: ulid.map((id) => `ftjob-${id}`),
        metadata: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/), fc.string({ maxLength: 20 }), {
          maxKeys: 16,
        }),
      },
      { requiredKeys: [] },
    ),
    invalid: {
      limit: badLimit,
      after: badAfter('ftjob-'),
      metadata: [
        fc.dictionary(fc.stringMatching(/^[a-z]{1,10}$/), fc.string({ maxLength: 5 }), {
          minKeys: 17,
          maxKeys: 24,
        }),
      ],
    },
    send: sendQuery('GET', '/v1/fine_tuning/jobs'),
  },
  jobIdRoute('GET /v1/fine_tuning/jobs/{id}', 'GET', '/v1/fine_tuning/jobs/{fine_tuning_job_id}'),
  jobIdRoute(
    'GET /v1/fine_tuning/jobs/{id}/events',
    'GET',
    '/v1/fine_tuning/jobs/{fine_tuning_job_id}/events',
    {
      valid: page('ftevent-'),
      invalid: { limit: badLimit, after: badAfter('ftevent-') },
    },
  ),
  jobIdRoute(
    'GET /v1/fine_tuning/jobs/{id}/checkpoints',
    'GET',
    '/v1/fine_tuning/jobs/{fine_tuning_job_id}/checkpoints',
    { valid: page('ftckpt_'), invalid: { limit: badLimit, after: badAfter('ftckpt_') } },
  ),
  {
    ...jobIdRoute(
      'POST /v1/fine_tuning/jobs/{id}/cancel',
      'POST',
      '/v1/fine_tuning/jobs/{fine_tuning_job_id}/cancel',
    ),
    live: true,
    async prepare(platform, purpose) {
      if (purpose === 'invalid') return endedJob(platform);
      return { fields: { fine_tuning_job_id: await runningJob(platform, false) } };
    },
  },
  {
    ...jobIdRoute(
      'POST /v1/fine_tuning/jobs/{id}/pause',
      'POST',
      '/v1/fine_tuning/jobs/{fine_tuning_job_id}/pause',
    ),
    live: true,
    async prepare(platform, purpose) {
      if (purpose === 'invalid') return endedJob(platform);
      return { fields: { fine_tuning_job_id: await runningJob(platform, true) } };
    },
  },
  {
    ...jobIdRoute(
      'POST /v1/fine_tuning/jobs/{id}/resume',
      'POST',
      '/v1/fine_tuning/jobs/{fine_tuning_job_id}/resume',
    ),
    live: true,
    async prepare(platform, purpose) {
      if (purpose === 'invalid') return endedJob(platform);
      const jobId = await runningJob(platform, true);
      await control(platform, jobId, 'pause');
      await waitForJob(platform, platform.ownerKey, jobId, hasStatus('paused'), 60_000);
      return { fields: { fine_tuning_job_id: jobId } };
    },
    // The resumed trainer would run until stopped.
    async cleanUp(platform, prepared) {
      await control(platform, String(prepared.fields?.fine_tuning_job_id), 'cancel');
    },
  },
];

/** Sets `value` at a dotted path, copying the objects on the way; ABSENT removes the key. */
function withField(
  fields: Fields,
  path: string,
  value: unknown,
  skeletons: Readonly<Record<string, Fields>> = {},
): Fields {
  const names = path.split('.');
  const root: Fields = { ...fields };
  let parent = root;
  names.slice(0, -1).forEach((name, index) => {
    const existing = parent[name];
    const child: Fields =
      typeof existing === 'object' && existing !== null && !Array.isArray(existing)
        ? { ...(existing as Fields) }
        : { ...skeletons[names.slice(0, index + 1).join('.')] };
    parent[name] = child;
    parent = child;
  });
  const last = names.at(-1) as string;
  if (value === ABSENT) delete parent[last];
  else parent[last] = value;
  return root;
}

function resolveFixtures(value: unknown, fixtures: JobFixtures | undefined): unknown {
  if (value instanceof FixtureRef) {
    if (!fixtures) throw new Error(`no fixtures were prepared for ${value.fixture}`);
    return fixtures[value.fixture];
  }
  if (Array.isArray(value)) return value.map((item) => resolveFixtures(item, fixtures));
  if (value && typeof value === 'object' && value.constructor === Object) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, resolveFixtures(inner, fixtures)]),
    );
  }
  return value;
}

/** Each field's kinds of bad value, and an unknown key in each closed object. */
function mutations(
  route: RouteUnderTest,
): { field: fc.Arbitrary<string>; label: string; value: fc.Arbitrary<unknown> }[] {
  const known = Object.entries(route.invalid).flatMap(([field, kinds]) =>
    kinds.map((value, index) => ({
      field: fc.constant(field),
      label: `${field} (kind ${index + 1})`,
      value,
    })),
  );
  const unknown = (route.closed ?? ['']).map((object) => ({
    field: unknownKey.map((key) => (object ? `${object}.${key}` : key)),
    label: `an unknown key in ${object || 'the request'}`,
    value: fc.string({ maxLength: 10 }) as fc.Arbitrary<unknown>,
  }));
  return [...known, ...unknown];
}

interface LauncherSpies {
  readonly launcher: LocalLauncher;
  readonly submit: MockInstance<Launcher['submit']>;
  readonly terminate: MockInstance<Launcher['terminate']>;
}

type Observation = Awaited<ReturnType<ReturnType<typeof observer>>>;

/**
 * Reads everything a refused request must leave as it was. Records are counted by entity, audit
 * and idempotency records left out by the scan itself: every request adds an audit record, and
 * reading them all back on each run would make a long run slower with every request.
 */
function observer(platform: TestPlatform, dynamodb: DynamoDBClient, spies: LauncherSpies) {
  const countRecords = async () => {
    const counts: Record<string, number> = {};
    let start: ScanCommandOutput['LastEvaluatedKey'];
    do {
      const page = await dynamodb.send(
        new ScanCommand({
          TableName: platform.platform.table,
          ProjectionExpression: '#entity',
          FilterExpression: 'NOT (#entity IN (:audit, :idempotency))',
          ExpressionAttributeNames: { '#entity': 'entity' },
          ExpressionAttributeValues: { ':audit': { S: 'audit' }, ':idempotency': { S: 'idempotency' } },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const entity = item.entity?.S ?? 'unknown';
        counts[entity] = (counts[entity] ?? 0) + 1;
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return counts;
  };
  return async () => {
    const [records, objects] = await Promise.all([countRecords(), platform.listObjects()]);
    return {
      records,
      objects,
      submitted: spies.submit.mock.calls.length,
      terminated: spies.terminate.mock.calls.length,
    };
  };
}

/**
 * Waits until trainers started by earlier tests have ended and their state changes are
 * recorded, so that nothing but the request under test can change what is observed; returns
 * what it last observed.
 */
async function settle(launcher: LocalLauncher, observe: () => Promise<Observation>): Promise<Observation> {
  let last: Observation | undefined;
  for (let tries = 0; tries < 200; tries++) {
    await launcher.idle();
    const now = await observe();
    if (last && JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the platform kept changing for 20 s after its launcher went idle');
}

/** Starting trainers and waiting on them takes longer than a plain request; both tiers allow for it. */
const ROUTE_TEST_TIMEOUT_MS = 300_000;

/**
 * Declares the suite; the fast tier and the slow tier differ only in how many cases they draw:
 * `valid` valid requests per route (`live` for routes whose valid requests need a trainer
 * running), and about `invalid` refused requests per route, spread evenly over the kinds of bad value.
 */
export function describeRequestFuzz(runs: {
  readonly valid: number;
  readonly live: number;
  readonly invalid: number;
}): void {
  describe('routes under one-field mutations', () => {
    let platform: TestPlatform;
    let spies: LauncherSpies;
    let dynamodb: DynamoDBClient;
    let observe: () => Promise<Observation>;
    beforeAll(async () => {
      platform = await startTestPlatform();
      dynamodb = new DynamoDBClient({ endpoint: platform.platform.dynamodbEndpoint });
      // The real launcher the handlers use, in this process; the spies call through.
      const { launcher } = await import('../../lambdas/runtime/dependencies');
      if (!(launcher instanceof LocalLauncher))
        throw new Error('the local platform must use the local launcher');
      spies = {
        launcher,
        submit: vi.spyOn(launcher, 'submit'),
        terminate: vi.spyOn(launcher, 'terminate'),
      };
      observe = observer(platform, dynamodb, spies);
    });
    afterAll(async () => {
      vi.restoreAllMocks();
      dynamodb?.destroy();
      await platform?.stop();
    });

    for (const route of routes) {
      it(
        `${route.name}: valid requests succeed`,
        async () => {
          await fc.assert(
            fc.asyncProperty(route.valid, async (valid) => {
              // Prepare
              const prepared = (await route.prepare?.(platform, 'valid')) ?? {};
              const fields = resolveFixtures({ ...prepared.fields, ...valid }, prepared.fixtures) as Fields;

              // Act
              const response = await route.send(platform, fields);

              // Assess
              expect(response.status, await response.clone().text()).toBe(200);
              await route.cleanUp?.(platform, prepared);
            }),
            { numRuns: route.live ? runs.live : runs.valid },
          );
        },
        ROUTE_TEST_TIMEOUT_MS,
      );

      const kinds = mutations(route);
      it(
        `${route.name}: one bad field is a 4xx naming it, and nothing changes`,
        async () => {
          // Shared fixtures are made first; a refused request changes nothing, so what one run
          // leaves is what the next one starts from.
          await route.prepare?.(platform, 'invalid');
          let last = await settle(spies.launcher, observe);
          const numRuns = Math.max(1, Math.round(runs.invalid / kinds.length));
          for (const { field: fieldName, label, value: badValue } of kinds) {
            await fc.assert(
              fc.asyncProperty(route.valid, fieldName, badValue, async (valid, field, value) => {
                // Prepare
                const prepared = (await route.prepare?.(platform, 'invalid')) ?? {};
                const fields = resolveFixtures(
                  withField({ ...prepared.fields, ...valid }, field, value, route.skeletons),
                  prepared.fixtures,
                ) as Fields;
                const before = route.prepareWrites ? await observe() : last;

                // Act
                const response = await route.send(platform, fields);

                // Assess
                const body = await response.text();
                const text = `${label}: ${response.status} ${body}`;
                const expected = route.refusedWith?.[field];
                if (expected) {
                  expect(response.status, text).toBe(expected);
                } else {
                  expect(response.status, text).toBeGreaterThanOrEqual(400);
                  expect(response.status, text).toBeLessThan(500);
                }
                // A nested problem is named by its dotted path inside the field (`part_ids.0`).
                const param = (JSON.parse(body) as { error: { param: string | null } }).error.param ?? '';
                expect(param === field || param.startsWith(`${field}.`), text).toBe(true);
                last = await observe();
                expect(last, text).toEqual(before);
              }),
              { numRuns },
            );
          }
        },
        ROUTE_TEST_TIMEOUT_MS,
      );
    }
  });
}

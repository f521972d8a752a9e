import { z } from 'zod';
import {
  type ApiKey,
  type AuditRecord,
  type CreatedApiKey,
  type createApiKeyRequestSchema,
  type createJobRequestSchema,
  type createTeamRequestSchema,
  errorBodySchema,
  type FILE_PURPOSES,
  type FileObject,
  type FineTuningJob,
  type fileDeletedSchema,
  fineTuningJobSchema,
  type JobCheckpoint,
  type JobEvent,
  jobCheckpointSchema,
  jobEventSchema,
  type ListEnvelope,
  listEnvelopeSchema,
  type ModelObject,
  modelDeletedSchema,
  modelObjectSchema,
  type registerModelRequestSchema,
  type Team,
  unixSeconds,
} from '../core/schemas';
import { WhetstoneApiError, WhetstoneConnectionError } from './errors';

export interface WhetstoneClientOptions {
  /** The API's base URL, without `/v1` (a path prefix such as an API Gateway stage is kept). */
  readonly url: string;
  readonly apiKey: string;
  /** Defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

/** Per-call options of every POST. */
export interface MutationOptions {
  /** Same key and same body give the same result; same key and another body give 409. */
  readonly idempotencyKey?: string;
}

export interface PageParams {
  readonly after?: string;
  readonly limit?: number;
}
export type FilePurpose = (typeof FILE_PURPOSES)[number];
export type CreateTeamParams = z.input<typeof createTeamRequestSchema>;
export type CreateApiKeyParams = z.input<typeof createApiKeyRequestSchema>;
export interface ListApiKeysParams extends PageParams {
  /** Owners name the team; other keys may only name their own. */
  readonly team?: string;
}
export interface RevokeApiKeyParams {
  readonly team?: string;
}
export interface CreateFileParams {
  readonly filename: string;
  readonly content: Uint8Array;
  readonly purpose: FilePurpose;
}
export interface ListFilesParams extends PageParams {
  readonly order?: 'asc' | 'desc';
  readonly purpose?: FilePurpose;
}
export interface ListAuditParams extends PageParams {
  readonly team?: string;
}
export type RevokedApiKey = ApiKey & { readonly deleted: true };
export type DeletedFile = z.infer<typeof fileDeletedSchema>;
/** The create body as the API takes it; Whetstone's own options ride in `whetstone`. */
export type CreateJobParams = z.input<typeof createJobRequestSchema>;
export interface ListJobsParams extends PageParams {
  /** Only jobs whose metadata holds every one of these pairs (at most 16). */
  readonly metadata?: Readonly<Record<string, string>>;
}
export type RegisterModelParams = z.input<typeof registerModelRequestSchema>;
export type DeletedModel = z.infer<typeof modelDeletedSchema>;
/** OpenAI's `GET /v1/models` answer: every model at once, no cursor. */
export interface ModelList {
  readonly object: 'list';
  readonly data: readonly ModelObject[];
}

const jobListSchema = listEnvelopeSchema(fineTuningJobSchema);
const eventListSchema = listEnvelopeSchema(jobEventSchema);
const checkpointListSchema = listEnvelopeSchema(jobCheckpointSchema);
const modelListSchema = z.object({ object: z.literal('list'), data: z.array(modelObjectSchema) });

/** Whetstone's artifact item (`GET /v1/whetstone/jobs/{id}/artifacts`): one object in the job's folder. */
export const jobArtifactSchema = z.object({
  object: z.literal('fine_tuning.job.artifact'),
  /** Relative to the job's folder: `adapter/adapter_model.safetensors`. */
  path: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  created_at: unixSeconds,
  /** Presigned (no key needed) in AWS; the gateway's download route, which needs the key, locally. */
  url: z.url(),
  /** Null for URLs that do not expire. */
  expires_at: unixSeconds.nullable(),
});
export type JobArtifact = z.infer<typeof jobArtifactSchema>;
const artifactListSchema = listEnvelopeSchema(jobArtifactSchema);

type Query = Readonly<Record<string, string | number | undefined>>;

interface Call {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly query?: Query;
  readonly json?: unknown;
  readonly form?: FormData;
  readonly idempotencyKey?: string | undefined;
}

/**
 * The typed client of the Whetstone API: the CLI, the console and the tests call the platform
 * through it. Every method resolves to the object the API returns, or rejects with a
 * `WhetstoneApiError` (the API's error body) or a `WhetstoneConnectionError` (no answer at all).
 */
export class WhetstoneClient {
  readonly url: string;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;

  constructor(options: WhetstoneClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new Error(`'${options.url}' is not a URL; give one such as http://127.0.0.1:8080.`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(`'${options.url}' is not an http(s) URL.`);
    }
    if (options.apiKey.length === 0) throw new Error('The API key is empty.');
    this.url = options.url.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch ?? fetch;
  }

  readonly teams = {
    create: (params: CreateTeamParams, options: MutationOptions = {}): Promise<Team> =>
      this.#json({ method: 'POST', path: '/v1/whetstone/teams', json: params, ...options }),
    list: (params: PageParams = {}): Promise<ListEnvelope<Team>> =>
      this.#json({ method: 'GET', path: '/v1/whetstone/teams', query: { ...params } }),
  };

  readonly keys = {
    /** The only answer that carries the secret (`value`). */
    create: (params: CreateApiKeyParams = {}, options: MutationOptions = {}): Promise<CreatedApiKey> =>
      this.#json({ method: 'POST', path: '/v1/whetstone/keys', json: params, ...options }),
    list: (params: ListApiKeysParams = {}): Promise<ListEnvelope<ApiKey>> =>
      this.#json({ method: 'GET', path: '/v1/whetstone/keys', query: { ...params } }),
    revoke: (keyId: string, params: RevokeApiKeyParams = {}): Promise<RevokedApiKey> =>
      this.#json({ method: 'DELETE', path: `/v1/whetstone/keys/${segment(keyId)}`, query: { ...params } }),
  };

  readonly files = {
    create: (params: CreateFileParams, options: MutationOptions = {}): Promise<FileObject> => {
      const form = new FormData();
      form.set('purpose', params.purpose);
      form.set('file', new Blob([params.content], { type: 'application/jsonl' }), params.filename);
      return this.#json({ method: 'POST', path: '/v1/files', form, ...options });
    },
    list: (params: ListFilesParams = {}): Promise<ListEnvelope<FileObject>> =>
      this.#json({ method: 'GET', path: '/v1/files', query: { ...params } }),
    retrieve: (fileId: string): Promise<FileObject> =>
      this.#json({ method: 'GET', path: `/v1/files/${segment(fileId)}` }),
    /** The stored bytes, following the API's redirect to a presigned URL for large files. */
    content: (fileId: string): Promise<Uint8Array> => this.#download(`/v1/files/${segment(fileId)}/content`),
    delete: (fileId: string): Promise<DeletedFile> =>
      this.#json({ method: 'DELETE', path: `/v1/files/${segment(fileId)}` }),
  };

  readonly audit = {
    list: (params: ListAuditParams = {}): Promise<ListEnvelope<AuditRecord>> =>
      this.#json({ method: 'GET', path: '/v1/whetstone/audit', query: { ...params } }),
  };

  readonly fineTuning = {
    jobs: {
      create: (params: CreateJobParams, options: MutationOptions = {}): Promise<FineTuningJob> =>
        this.#checked(fineTuningJobSchema, 'fine-tuning job', {
          method: 'POST',
          path: '/v1/fine_tuning/jobs',
          json: params,
          ...options,
        }),
      /** Newest first. */
      list: ({ metadata = {}, ...page }: ListJobsParams = {}): Promise<ListEnvelope<FineTuningJob>> =>
        this.#checked(jobListSchema, 'list of fine-tuning jobs', {
          method: 'GET',
          path: '/v1/fine_tuning/jobs',
          // As OpenAI's SDK writes a metadata filter: one `metadata[key]=value` parameter per pair.
          query: {
            ...page,
            ...Object.fromEntries(
              Object.entries(metadata).map(([key, value]) => [`metadata[${key}]`, value]),
            ),
          },
        }),
      retrieve: (jobId: string): Promise<FineTuningJob> =>
        this.#checked(fineTuningJobSchema, 'fine-tuning job', { method: 'GET', path: jobPath(jobId) }),
      /** A finished job is a 409 with code `job_finished`. */
      cancel: (jobId: string, options: MutationOptions = {}): Promise<FineTuningJob> =>
        this.#control(jobId, 'cancel', options),
      /** Asks a running job to checkpoint and stop; it shows `paused` once its compute has stopped. */
      pause: (jobId: string, options: MutationOptions = {}): Promise<FineTuningJob> =>
        this.#control(jobId, 'pause', options),
      /** Relaunches a paused job from its newest checkpoint. */
      resume: (jobId: string, options: MutationOptions = {}): Promise<FineTuningJob> =>
        this.#control(jobId, 'resume', options),
      /** Newest first; `after` pages back in time. */
      listEvents: (jobId: string, params: PageParams = {}): Promise<ListEnvelope<JobEvent>> =>
        this.#checked(eventListSchema, 'list of fine-tuning job events', {
          method: 'GET',
          path: `${jobPath(jobId)}/events`,
          query: { ...params },
        }),
      /** In path order; `after` is a path (the previous page's `last_id`). */
      listArtifacts: (jobId: string, params: PageParams = {}): Promise<ListEnvelope<JobArtifact>> =>
        this.#checked(artifactListSchema, 'list of fine-tuning job artifacts', {
          method: 'GET',
          path: `/v1/whetstone/jobs/${segment(jobId)}/artifacts`,
          query: { ...params },
        }),
      /** One artifact's bytes, following the API's redirect to a presigned URL in AWS. */
      downloadArtifact: async (jobId: string, path: string): Promise<Uint8Array> =>
        this.#download(`/v1/whetstone/jobs/${segment(jobId)}/artifacts/${artifactPath(path)}`),
      /** Newest first; `after` pages back in time. */
      listCheckpoints: (jobId: string, params: PageParams = {}): Promise<ListEnvelope<JobCheckpoint>> =>
        this.#checked(checkpointListSchema, 'list of fine-tuning job checkpoints', {
          method: 'GET',
          path: `${jobPath(jobId)}/checkpoints`,
          query: { ...params },
        }),
    },
  };

  readonly models = {
    /** Registered base models, then the team's fine-tuned models. */
    list: (): Promise<ModelList> =>
      this.#checked(modelListSchema, 'list of models', { method: 'GET', path: '/v1/models' }),
    retrieve: (model: string): Promise<ModelObject> =>
      this.#checked(modelObjectSchema, 'model', { method: 'GET', path: `/v1/models/${segment(model)}` }),
    /** Only the team's fine-tuned models (admin keys); a base model is a 403. */
    delete: (model: string): Promise<DeletedModel> =>
      this.#checked(modelDeletedSchema, 'deleted model', {
        method: 'DELETE',
        path: `/v1/models/${segment(model)}`,
      }),
    /** Registers files already in the data bucket as a base model (owner keys). */
    register: (params: RegisterModelParams, options: MutationOptions = {}): Promise<ModelObject> =>
      this.#checked(modelObjectSchema, 'model', {
        method: 'POST',
        path: '/v1/whetstone/models',
        json: params,
        ...options,
      }),
  };

  #control(
    jobId: string,
    action: 'cancel' | 'pause' | 'resume',
    options: MutationOptions,
  ): Promise<FineTuningJob> {
    return this.#checked(fineTuningJobSchema, 'fine-tuning job', {
      method: 'POST',
      path: `${jobPath(jobId)}/${action}`,
      ...options,
    });
  }

  /**
   * The answer checked against the schema and returned as it came: a field this client does not
   * know yet is kept, so `--json` and callers see the API's object, not a trimmed copy.
   */
  async #checked<S extends z.ZodType>(schema: S, what: string, call: Call): Promise<z.output<S>> {
    const { value, status, url } = await this.#parse(call);
    const checked = schema.safeParse(value);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
      throw new WhetstoneApiError(status, {
        message: `${call.method} ${url} answered with a body that is not a ${what}${where}: ${issue?.message ?? 'unknown shape'}`,
        type: 'api_error',
        code: null,
        param: null,
      });
    }
    return value as z.output<S>;
  }

  async #json<T>(call: Call): Promise<T> {
    return (await this.#parse(call)).value as T;
  }

  async #parse(call: Call): Promise<{ value: unknown; status: number; url: string }> {
    const { response, url } = await this.#send(call, 'follow');
    const text = await response.text();
    try {
      return { value: JSON.parse(text), status: response.status, url };
    } catch {
      throw new WhetstoneApiError(response.status, {
        message: `${call.method} ${url} answered HTTP ${response.status} with a body that is not JSON: ${snippet(text)}`,
        type: 'api_error',
        code: null,
        param: null,
      });
    }
  }

  async #download(path: string): Promise<Uint8Array> {
    const call: Call = { method: 'GET', path };
    // The presigned URL carries its own signature; S3 refuses a request that also sends our key.
    const { response, url } = await this.#send(call, 'manual');
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      const target = new URL(location, url).toString();
      let redirected: Response;
      try {
        redirected = await this.#fetch(target);
      } catch (error) {
        throw new WhetstoneConnectionError(target, error);
      }
      if (!redirected.ok) throw await apiError(redirected, 'GET', target);
      return new Uint8Array(await redirected.arrayBuffer());
    }
    return new Uint8Array(await response.arrayBuffer());
  }

  async #send(call: Call, redirect: 'follow' | 'manual'): Promise<{ response: Response; url: string }> {
    const url = this.#endpoint(call.path, call.query);
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.#apiKey}`,
      Accept: 'application/json',
    };
    let body: string | FormData | undefined;
    if (call.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(call.json);
    } else if (call.form !== undefined) {
      body = call.form;
    }
    if (call.idempotencyKey !== undefined) headers['Idempotency-Key'] = call.idempotencyKey;

    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: call.method,
        headers,
        redirect,
        ...(body ? { body } : {}),
      });
    } catch (error) {
      throw new WhetstoneConnectionError(url, error);
    }
    const redirected = response.status >= 300 && response.status < 400 && redirect === 'manual';
    if (!response.ok && !redirected) throw await apiError(response, call.method, url);
    return { response, url };
  }

  #endpoint(path: string, query: Query = {}): string {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) search.set(name, String(value));
    }
    const suffix = search.size > 0 ? `?${search.toString()}` : '';
    return `${this.url}${path}${suffix}`;
  }
}

function jobPath(jobId: string): string {
  return `/v1/fine_tuning/jobs/${segment(jobId)}`;
}

/** Percent-encoded, so a fine-tuned model's `ft:...:...` name stays one path segment. */
function segment(id: string): string {
  if (id.length === 0) throw new Error('An id must not be empty.');
  return encodeURIComponent(id);
}

/**
 * Each segment percent-encoded, the slashes kept. What is wrong with a path is left for the API to
 * name; but a URL resolves `.` and `..` segments before it is sent, so a path holding one goes
 * with encoded slashes, as one segment, to arrive whole.
 */
function artifactPath(path: string): string {
  if (path.length === 0) throw new Error('An artifact path must not be empty.');
  const segments = path.split('/').map(encodeURIComponent);
  return segments.some((part) => part === '.' || part === '..') ? segments.join('%2F') : segments.join('/');
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat || '(empty)';
}

/** OpenAI's error body when the API sent one; otherwise (a proxy's HTML page, S3's XML) the status. */
async function apiError(response: Response, method: string, url: string): Promise<WhetstoneApiError> {
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const parsed = errorBodySchema.safeParse(body);
  if (parsed.success) return new WhetstoneApiError(response.status, parsed.data.error);
  const reason = response.statusText ? ` ${response.statusText}` : '';
  return new WhetstoneApiError(response.status, {
    message: `${method} ${url} answered HTTP ${response.status}${reason}: ${snippet(text)}`,
    type: response.status >= 500 ? 'api_error' : 'invalid_request_error',
    code: null,
    param: null,
  });
}

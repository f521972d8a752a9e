import type { ObjectStore } from '../../lib/adapters';
import { InvalidRequestError, NotFoundError } from '../../lib/core/errors';
import { objectKeys } from '../../lib/core/storage';
import type { JobDeps } from './deps';
import { getJob } from './service';

/**
 * One object a job left under `artifacts/{team}/{job}/` (Whetstone's extension, modelled on
 * OpenAI's list items):
 * `{"object":"fine_tuning.job.artifact","path":"adapter/adapter_model.safetensors","bytes":123,
 *   "created_at":1735689600,"url":"...","expires_at":1735693200}`.
 */
export interface JobArtifact {
  readonly object: 'fine_tuning.job.artifact';
  /** Relative to the job's folder, `/` between folders: `checkpoints/step-10/adapter_config.json`. */
  readonly path: string;
  readonly bytes: number;
  /** When the object was last written, in Unix seconds. */
  readonly created_at: number;
  /** A presigned S3 GET in AWS; locally the gateway's download route, which needs the API key. */
  readonly url: string;
  /** When a presigned `url` stops working (Unix seconds); null for the gateway's, which do not expire. */
  readonly expires_at: number | null;
}

/** OpenAI's cursor page, with paths as the cursor: there is no id to an object in S3. */
export interface ArtifactPage {
  readonly object: 'list';
  readonly data: readonly JobArtifact[];
  readonly first_id: string | null;
  readonly last_id: string | null;
  readonly has_more: boolean;
}

/**
 * How an artifact is fetched: in AWS straight from S3 by a presigned GET; locally through the
 * gateway's download route, since the local S3 server is no address to hand a caller.
 */
export type ArtifactLinks =
  | { readonly kind: 'presigned'; readonly expiresInSeconds: number }
  | { readonly kind: 'gateway'; readonly baseUrl: string };

/**
 * Links for a request: presigned in AWS; locally the gateway's own address, as the caller reached
 * it (its `Host`), so the URL works from wherever the listing was asked.
 */
export function artifactLinksFor(environment: 'aws' | 'local', host: string | undefined): ArtifactLinks {
  if (environment === 'aws') return { kind: 'presigned', expiresInSeconds: ARTIFACT_URL_SECONDS };
  if (!host) {
    throw new InvalidRequestError('The request has no Host header, which artifact URLs are built from.', {
      param: 'Host',
    });
  }
  // The local gateway serves plain HTTP only.
  return { kind: 'gateway', baseUrl: `http://${host}` };
}

/** Long enough to fetch a large adapter or model, short enough that a leaked URL soon goes dead. */
export const ARTIFACT_URL_SECONDS = 60 * 60;
/** Longer than any key the trainer writes, and far below S3's 1024-byte key limit once prefixed. */
const MAX_PATH_LENGTH = 900;

export interface ArtifactQuery {
  readonly after?: string | undefined;
  readonly limit: number;
}

type ArtifactDeps = Pick<JobDeps, 'stores'> & { readonly now: () => number };

/**
 * The job's artifacts in path order, `limit` of them after the path `after` (which need not exist;
 * `checkpoints/` starts the page at that folder's first object).
 * Another team's job, or none, is the same 404 as every job route's.
 */
export async function listJobArtifacts(
  deps: ArtifactDeps,
  team: string,
  jobId: string,
  query: ArtifactQuery,
  links: ArtifactLinks,
): Promise<ArtifactPage> {
  await getJob(deps, team, jobId);
  // A folder's name with its `/` is a cursor too: the page starts with that folder's contents.
  if (query.after !== undefined)
    checkArtifactPath(query.after.replace(/(?<=.)\/$/, ''), 'after', query.after);
  const prefix = objectKeys.artifacts(team, jobId);
  // S3 lists in key order, and every key here shares the prefix, so key order is path order.
  const listed = (await deps.stores.objects.list(prefix))
    .map((object) => ({ ...object, path: object.key.slice(prefix.length) }))
    // Zero-byte "folder" markers some S3 tools write are no artifacts.
    .filter((object) => object.path !== '' && !object.path.endsWith('/'));
  const after = query.after;
  const remaining = after === undefined ? listed : listed.filter((object) => object.path > after);
  const page = remaining.slice(0, query.limit);
  const now = deps.now();
  const data = await Promise.all(
    page.map(async (object): Promise<JobArtifact> => {
      const link = await artifactLink(deps.stores.objects, links, team, jobId, object.path, now);
      return {
        object: 'fine_tuning.job.artifact',
        path: object.path,
        bytes: object.bytes,
        created_at: Math.floor(object.lastModified / 1000),
        ...link,
      };
    }),
  );
  return {
    object: 'list',
    data,
    first_id: data[0]?.path ?? null,
    last_id: data.at(-1)?.path ?? null,
    has_more: remaining.length > page.length,
  };
}

export type ArtifactContent =
  | { readonly kind: 'redirect'; readonly url: string }
  | { readonly kind: 'inline'; readonly bytes: Buffer; readonly filename: string };

/** One artifact's bytes (locally), or where to fetch them (AWS: a presigned GET, never through Lambda). */
export async function jobArtifactContent(
  deps: ArtifactDeps,
  team: string,
  jobId: string,
  path: string,
  links: ArtifactLinks,
): Promise<ArtifactContent> {
  await getJob(deps, team, jobId);
  checkArtifactPath(path, 'path');
  const key = `${objectKeys.artifacts(team, jobId)}${path}`;
  const missing = () =>
    new NotFoundError(`Fine-tuning job ${jobId} has no artifact ${path}.`, { param: 'path' });
  if (links.kind === 'presigned') {
    if ((await deps.stores.objects.size(key)) === undefined) throw missing();
    const link = await artifactLink(deps.stores.objects, links, team, jobId, path, deps.now());
    return { kind: 'redirect', url: link.url };
  }
  const body = await deps.stores.objects.get(key);
  if (!body) throw missing();
  const chunks: Buffer[] = [];
  for await (const chunk of body.stream) chunks.push(chunk as Buffer);
  return { kind: 'inline', bytes: Buffer.concat(chunks), filename: fileName(path) };
}

/**
 * Why `path` cannot name an artifact, or undefined when it can. Keys are taken as written, but
 * URLs, HTTP clients and the local S3 server's disk resolve `.`, `..` and `\`, so a path holding
 * one could reach past the job's folder; `%` would be a second round of percent-encoding.
 */
export function artifactPathProblem(path: string): string | undefined {
  if (path === '') return 'it is empty';
  if (path.length > MAX_PATH_LENGTH) return `it is longer than ${MAX_PATH_LENGTH} characters`;
  if (path.startsWith('/')) return "it must be relative to the job's folder, not start with '/'";
  if (path.includes('\\')) return "folders are separated by '/', not '\\'";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for.
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'it holds a control character';
  if (path.includes('%')) return "it holds '%': the path is percent-decoded once, from the URL";
  const segments = path.split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    return "it holds a '.' or '..' segment";
  }
  if (segments.some((segment) => segment === '')) return "it holds an empty segment ('//' or a trailing '/')";
  return undefined;
}

function checkArtifactPath(path: string, param: 'path' | 'after', sent = path): void {
  const problem = artifactPathProblem(path);
  if (problem === undefined) return;
  throw new InvalidRequestError(
    `${param === 'after' ? 'after' : 'The artifact path'} ${JSON.stringify(sent)} is not a path inside the job's folder: ${problem}.`,
    { param, code: 'invalid_artifact_path' },
  );
}

async function artifactLink(
  objects: Pick<ObjectStore, 'presignGet'>,
  links: ArtifactLinks,
  team: string,
  jobId: string,
  path: string,
  now: number,
): Promise<{ url: string; expires_at: number | null }> {
  if (links.kind === 'gateway') {
    return { url: artifactRouteUrl(links.baseUrl, jobId, path), expires_at: null };
  }
  const key = `${objectKeys.artifacts(team, jobId)}${path}`;
  return {
    url: await objects.presignGet(key, links.expiresInSeconds, fileName(path)),
    expires_at: Math.floor(now / 1000) + links.expiresInSeconds,
  };
}

/** `GET /v1/whetstone/jobs/{fine_tuning_job_id}/artifacts/{path+}`, each segment percent-encoded. */
export function artifactRouteUrl(baseUrl: string, jobId: string, path: string): string {
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  return `${baseUrl}/v1/whetstone/jobs/${encodeURIComponent(jobId)}/artifacts/${encoded}`;
}

function fileName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

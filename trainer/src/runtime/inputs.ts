import { type JobSpec, jobSpecSchema, parseS3Uri } from '../../../lib/core/jobs';
import type { TrainerEnv } from './env';
import { TrainerInputError } from './errors';
import { ObjectsByUri } from './objects';

export { ObjectsByUri };

/** The job spec the launcher pointed at, checked against the schema and against the env. */
export async function loadSpec(objects: ObjectsByUri, env: TrainerEnv): Promise<JobSpec> {
  return (await loadSpecText(objects, env)).spec;
}

/** `loadSpec`, with the spec's text as stored (the manifest hashes it). */
export async function loadSpecText(
  objects: ObjectsByUri,
  env: TrainerEnv,
): Promise<{ readonly spec: JobSpec; readonly text: string }> {
  const text = await objects.text(env.specUri);
  if (text === undefined) throw new TrainerInputError(`The job spec ${env.specUri} does not exist`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TrainerInputError(`The job spec ${env.specUri} is not JSON: ${(error as Error).message}`);
  }
  const result = jobSpecSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.length ? issue.path.join('.') : '(root)';
    throw new TrainerInputError(`The job spec ${env.specUri} is invalid at ${path}: ${issue?.message}`);
  }
  const spec = result.data;
  if (spec.job_id !== env.jobId || spec.team !== env.team) {
    throw new TrainerInputError(
      `The job spec ${env.specUri} is for job ${spec.job_id} of team ${spec.team}, but this trainer runs job ${env.jobId} of team ${env.team}`,
    );
  }
  for (const [field, uri] of [
    ['model.uri', spec.model.uri],
    ['model.parent_uri', spec.model.parent_uri],
    ['training_file.uri', spec.training_file.uri],
    ['validation_file.uri', spec.validation_file?.uri ?? null],
    ['output_uri', spec.output_uri],
  ] as const) {
    if (uri !== null && !parseS3Uri(uri)) {
      throw new TrainerInputError(
        `The job spec ${env.specUri} is invalid at ${field}: '${uri}' is not an s3://bucket/key URI`,
      );
    }
  }
  return { spec, text };
}

/**
 * The objects the job reads exist and have the sizes the spec recorded: the base model's
 * `config.json` and the training and validation files. Every problem is named at once.
 */
export async function checkInputObjects(objects: ObjectsByUri, spec: JobSpec): Promise<void> {
  const modelConfig = `${spec.model.uri.replace(/\/+$/, '')}/config.json`;
  const expected: { readonly what: string; readonly uri: string; readonly bytes?: number }[] = [
    { what: `the base model ${spec.model.base}'s config.json`, uri: modelConfig },
    {
      what: `the training file ${spec.training_file.id}`,
      uri: spec.training_file.uri,
      bytes: spec.training_file.bytes,
    },
  ];
  if (spec.validation_file) {
    expected.push({
      what: `the validation file ${spec.validation_file.id}`,
      uri: spec.validation_file.uri,
      bytes: spec.validation_file.bytes,
    });
  }
  const problems: string[] = [];
  for (const { what, uri, bytes } of expected) {
    const size = await objects.size(uri);
    if (size === undefined) problems.push(`${what} is missing (${uri})`);
    else if (bytes !== undefined && size !== bytes) {
      problems.push(`${what} has ${size} bytes where the spec recorded ${bytes} (${uri})`);
    }
  }
  if (problems.length > 0) {
    throw new TrainerInputError(`Job ${spec.job_id} cannot run: ${problems.join('; ')}`);
  }
}

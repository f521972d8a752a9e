import { SUFFIX_PATTERN } from '../schemas/jobs';

/**
 * A fine-tuned model's name, as OpenAI forms it: `ft:{base}:{team}:{suffix}:{id}`, the suffix
 * segment empty when the job had none. `{id}` is the job id without its `ftjob-` prefix, in
 * lower case, so the name is unique and leads back to its job.
 */
export function fineTunedModelName(parts: {
  readonly baseModel: string;
  readonly team: string;
  readonly suffix: string | null;
  readonly jobId: string;
}): string {
  return `ft:${parts.baseModel}:${parts.team}:${parts.suffix ?? ''}:${parts.jobId.replace(/^ftjob-/, '').toLowerCase()}`;
}

export interface FineTunedModelNameParts {
  readonly baseModel: string;
  readonly team: string;
  readonly suffix: string | null;
  readonly jobId: string;
}

export function isFineTunedModelName(value: string): boolean {
  return value.startsWith('ft:');
}

/** Reads a name made by `fineTunedModelName`; `undefined` for anything else. */
export function parseFineTunedModelName(value: string): FineTunedModelNameParts | undefined {
  const match =
    /^ft:([A-Za-z0-9][A-Za-z0-9._-]{0,95}):([a-z0-9-]{1,40}):([^:]*):([0-9a-hjkmnp-tv-z]{26})$/.exec(value);
  if (!match) return undefined;
  const [, baseModel, team, suffix, id] = match as unknown as [string, string, string, string, string];
  if (suffix !== '' && !SUFFIX_PATTERN.test(suffix)) return undefined;
  return { baseModel, team, suffix: suffix === '' ? null : suffix, jobId: `ftjob-${id.toUpperCase()}` };
}

/**
 * Batch queue and job definition references as the deployment configures them: a plain name
 * (served in the SDK's default region) or an ARN, whose region decides where SubmitJob and
 * TerminateJob go. No SDK import, so configuration checks can use it cheaply.
 */

/** Batch names: up to 128 letters, digits, hyphens and underscores. */
const NAME = '[A-Za-z0-9_-]{1,128}';
const PARTITION = 'aws(?:-[a-z]+)*';
const REGION = '[a-z]+(?:-[a-z]+)+-\\d+';
const ACCOUNT = '\\d{12}';

const QUEUE_NAME = new RegExp(`^${NAME}$`);
const QUEUE_ARN = new RegExp(`^arn:${PARTITION}:batch:(${REGION}):(${ACCOUNT}):job-queue/${NAME}$`);
const DEFINITION_NAME = new RegExp(`^${NAME}(?::[1-9]\\d*)?$`);
const DEFINITION_ARN = new RegExp(
  `^arn:${PARTITION}:batch:(${REGION}):(${ACCOUNT}):job-definition/${NAME}(?::[1-9]\\d*)?$`,
);

/** Where a Batch resource lives; absent for a plain name. */
export interface BatchLocation {
  readonly region: string;
  readonly account: string;
}

export const JOB_QUEUE_FORMS = 'a job queue name or ARN (arn:aws:batch:{region}:{account}:job-queue/{name})';
export const JOB_DEFINITION_FORMS =
  'a job definition name, name:revision or ARN (arn:aws:batch:{region}:{account}:job-definition/{name}[:{revision}])';

/** The queue's region and account from its ARN; `undefined` for a plain name; throws for anything else. */
export function jobQueueLocation(queue: string): BatchLocation | undefined {
  if (QUEUE_NAME.test(queue)) return undefined;
  const match = QUEUE_ARN.exec(queue);
  if (!match) throw new TypeError(`'${queue}' is not ${JOB_QUEUE_FORMS}`);
  return { region: match[1] as string, account: match[2] as string };
}

/** The job definition's region and account from its ARN; `undefined` for a name; throws for anything else. */
export function jobDefinitionLocation(definition: string): BatchLocation | undefined {
  if (DEFINITION_NAME.test(definition)) return undefined;
  const match = DEFINITION_ARN.exec(definition);
  if (!match) throw new TypeError(`'${definition}' is not ${JOB_DEFINITION_FORMS}`);
  return { region: match[1] as string, account: match[2] as string };
}

/**
 * Why Batch would refuse a queue and job definition pair, for the configuration check; `undefined`
 * when it is sound. SubmitJob takes the definition from the queue's own region and account.
 */
export function batchTargetProblem(target: {
  readonly queue: string;
  readonly jobDefinition: string;
}): { readonly field: 'queue' | 'jobDefinition'; readonly message: string } | undefined {
  let queue: BatchLocation | undefined;
  let definition: BatchLocation | undefined;
  try {
    queue = jobQueueLocation(target.queue);
  } catch {
    return { field: 'queue', message: `must be ${JOB_QUEUE_FORMS}, not '${target.queue}'` };
  }
  try {
    definition = jobDefinitionLocation(target.jobDefinition);
  } catch {
    return {
      field: 'jobDefinition',
      message: `must be ${JOB_DEFINITION_FORMS}, not '${target.jobDefinition}'`,
    };
  }
  if (queue && definition && (queue.region !== definition.region || queue.account !== definition.account)) {
    return {
      field: 'jobDefinition',
      message: `must be in the queue's region and account (${queue.region}, ${queue.account}), not (${definition.region}, ${definition.account})`,
    };
  }
  return undefined;
}

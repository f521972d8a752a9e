/**
 * The lifecycle tests' trainer: started by a launcher under the trainer env contract, it does
 * what the test told it and nothing else.
 *
 * What to do comes from env `TEST_TRAINER_BEHAVIOUR` (JSON) when set, else (after the job spec
 * has been read and validated, exit 2 if it is not) from the job's `test_trainer` metadata
 * value, else from the object `artifacts/{team}/{job}/test-trainer.json` in the job's bucket,
 * else `{"mode":"run"}`. With a job to report to, each attempt appends an event and, on
 * SIGTERM, a checkpoint record through the real stores, as the trainer contract asks. Either is one behaviour or a
 * list with one per attempt (`AWS_BATCH_JOB_ATTEMPT`; the last one repeats):
 *   succeed: exit 0 after `runMs` (default 0)
 *   fail:    print an error and exit `exitCode` (default 1) after `runMs`
 *   exit:    exit `exitCode` after `runMs`
 *   run:     run until stopped
 * First it prints `pid=<pid>` (and writes the pid to `TEST_TRAINER_PID_FILE` when set); on
 * SIGTERM, in any mode, it prints `signal=SIGTERM pid=<pid>` and exits 143 as the contract asks.
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';

const behaviourSchema = z
  .strictObject({
    mode: z.enum(['succeed', 'fail', 'exit', 'run']),
    exitCode: z.number().int().min(0).max(255).optional(),
    runMs: z.number().int().min(0).optional(),
  })
  .refine((behaviour) => behaviour.mode !== 'exit' || behaviour.exitCode !== undefined, {
    message: "mode 'exit' needs an exitCode",
  });
const behavioursSchema = z.union([behaviourSchema, z.array(behaviourSchema).min(1)]);
type Behaviour = z.infer<typeof behaviourSchema>;

const SIGTERM_EXIT_CODE = 143;
const BAD_INPUT_EXIT_CODE = 2;

/** Reports to the job through the same stores the lambdas use; set once the job is known. */
let reporter: { event(message: string): Promise<void>; checkpoint(): Promise<void> } | undefined;

async function behaviourFromJob(): Promise<unknown> {
  const { readTrainerEnv } = await import('../../../trainer/src/runtime/env');
  const { loadSpec, ObjectsByUri } = await import('../../../trainer/src/runtime/inputs');
  const { objectKeys } = await import('../../../lib/core/storage');
  const { createDocumentClient, DynamoCheckpointStore, DynamoJobEventStore, DynamoJobStore } = await import(
    '../../../lib/adapters'
  );
  const { newId } = await import('../../../lib/core/ids');
  const env = readTrainerEnv(process.env);
  const objects = new ObjectsByUri(env.environment);
  await loadSpec(objects, env);
  let job: Awaited<ReturnType<InstanceType<typeof DynamoJobStore>['get']>>;
  // Only ever the local DynamoDB: without its endpoint there is no job to report to.
  if (process.env.AWS_ENDPOINT_URL_DYNAMODB) {
    const client = createDocumentClient();
    job = await new DynamoJobStore(client, env.table).get(env.team, env.jobId);
    const events = new DynamoJobEventStore(client, env.table);
    const checkpoints = new DynamoCheckpointStore(client, env.table);
    const startedAt = Date.now();
    reporter = {
      event: (message) =>
        events.append(env.team, env.jobId, {
          id: newId('event'),
          object: 'fine_tuning.job.event',
          created_at: Math.floor(Date.now() / 1000),
          level: 'info',
          message,
          type: 'message',
          data: { launch: env.launch, attempt: env.attempt },
        }),
      checkpoint: async () => {
        const step = Math.max(1, Math.floor((Date.now() - startedAt) / 100));
        await checkpoints.put(env.team, {
          id: newId('checkpoint'),
          object: 'fine_tuning.job.checkpoint',
          created_at: Math.floor(Date.now() / 1000),
          fine_tuned_model_checkpoint: `${job?.model.fine_tuned_name ?? 'ft:unknown'}:ckpt-step-${step}`,
          fine_tuning_job_id: env.jobId,
          step_number: step,
          metrics: { step, train_loss: 1 / step, train_mean_token_accuracy: 0.5 },
        });
      },
    };
  }
  const fromMetadata = job?.job.metadata?.test_trainer;
  if (fromMetadata !== undefined) return JSON.parse(fromMetadata);
  const text = await objects.text(
    `s3://${env.bucket}/${objectKeys.artifacts(env.team, env.jobId)}test-trainer.json`,
  );
  return text === undefined ? { mode: 'run' } : JSON.parse(text);
}

function chosen(behaviours: z.infer<typeof behavioursSchema>): Behaviour {
  if (!Array.isArray(behaviours)) return behaviours;
  const attempt = Number(process.env.AWS_BATCH_JOB_ATTEMPT ?? '1');
  return behaviours[Math.min(attempt, behaviours.length) - 1] as Behaviour;
}

async function main(): Promise<void> {
  console.log(`pid=${process.pid}`);
  if (process.env.TEST_TRAINER_PID_FILE)
    writeFileSync(process.env.TEST_TRAINER_PID_FILE, String(process.pid));
  process.on('SIGTERM', () => {
    console.log(`signal=SIGTERM pid=${process.pid}`);
    // As the contract asks: checkpoint, then exit 143 so the attempt can be resumed.
    void (reporter?.checkpoint() ?? Promise.resolve()).finally(() => process.exit(SIGTERM_EXIT_CODE));
  });

  let raw: unknown;
  try {
    raw = process.env.TEST_TRAINER_BEHAVIOUR
      ? JSON.parse(process.env.TEST_TRAINER_BEHAVIOUR)
      : await behaviourFromJob();
  } catch (error) {
    console.error(`test trainer: no usable input: ${(error as Error).message}`);
    process.exit(BAD_INPUT_EXIT_CODE);
  }
  const parsed = behavioursSchema.safeParse(raw);
  if (!parsed.success) {
    console.error(`test trainer: invalid behaviour: ${parsed.error.message}`);
    process.exit(BAD_INPUT_EXIT_CODE);
  }
  const behaviour = chosen(parsed.data);
  console.log(`attempt=${process.env.AWS_BATCH_JOB_ATTEMPT ?? '1'} mode=${behaviour.mode}`);
  await reporter?.event(
    `Test trainer attempt ${process.env.AWS_BATCH_JOB_ATTEMPT ?? '1'} started (${behaviour.mode}).`,
  );

  if (behaviour.mode === 'run') {
    setInterval(() => undefined, 60_000);
    return;
  }
  setTimeout(() => {
    if (behaviour.mode === 'fail')
      console.error(`test trainer: failing as told, exit ${behaviour.exitCode ?? 1}`);
    process.exit(behaviour.mode === 'succeed' ? 0 : (behaviour.exitCode ?? 1));
  }, behaviour.runMs ?? 0);
}

void main();

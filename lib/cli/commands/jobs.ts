import { type Command, InvalidArgumentError, Option } from 'commander';
import type { z } from 'zod';
import type { CreateJobParams } from '../../client';
import {
  createJobRequestSchema,
  GPU_TYPES,
  hyperparametersSchema,
  MARKETS,
  TRAINING_METHODS,
  whetstoneOptionsSchema,
} from '../../core/schemas';
import { type ApiOptions, apiCommand, morePages, pageLimit, withClient } from '../api';
import { formatTime, printFields, printJson, printTable } from '../output';
import { registerArtifactCommands } from './job-artifacts';
import { capitalised, describeStatus, details, eventLine, formatMetric } from './job-output';
import { type WaitOptions, waitForJobEnd } from './job-wait';

type Auto = 'auto';
interface CreateOptions extends ApiOptions {
  readonly model: string;
  readonly trainingFile: string;
  readonly validationFile?: string;
  readonly suffix?: string;
  readonly seed?: number;
  readonly epochs?: number | Auto;
  readonly batchSize?: number | Auto;
  readonly learningRateMultiplier?: number | Auto;
  readonly method?: (typeof TRAINING_METHODS)[number];
  readonly loraRank?: number;
  readonly loraAlpha?: number;
  readonly partialLayers?: number[];
  readonly partialModules?: string[];
  readonly gpuType?: (typeof GPU_TYPES)[number];
  readonly market?: (typeof MARKETS)[number];
  readonly maxCostUsd?: number;
  readonly maxSeqLength?: number;
  readonly packing?: boolean;
  readonly checkpointEvery?: number;
  readonly metadata?: Record<string, string>;
  readonly idempotencyKey?: string;
}
interface ListOptions extends ApiOptions {
  readonly limit?: number;
  readonly after?: string;
  readonly metadata?: Record<string, string>;
}
interface PageOptions extends ApiOptions {
  readonly limit?: number;
  readonly after?: string;
}
interface WaitCommandOptions extends ApiOptions, WaitOptions {}

const lora = whetstoneOptionsSchema.shape.lora.unwrap().shape;
const partial = whetstoneOptionsSchema.shape.partial.unwrap().unwrap().shape;

/** `whet jobs create|list|get|cancel|pause|resume|events|checkpoints|artifacts|download|wait`. */
export function registerJobsCommands(program: Command): void {
  const jobs = program.command('jobs').description("fine-tuning jobs of the key's team");

  apiCommand(jobs, 'create', 'start a fine-tuning job')
    .requiredOption('--model <model>', "a registered base model, or one of the team's fine-tuned models")
    .requiredOption('--training-file <file_id>', 'a processed training file')
    .option('--validation-file <file_id>', 'a processed validation file')
    .option(
      '--suffix <suffix>',
      "part of the fine-tuned model's name",
      checkedBy(
        createJobRequestSchema.shape.suffix,
        '1-64 letters, digits, dots, underscores or hyphens, starting with a letter or digit',
        asText,
      ),
    )
    .option(
      '--seed <n>',
      'random seed, for a run that can be repeated',
      checkedBy(createJobRequestSchema.shape.seed, 'a whole number from 0 to 2147483647'),
    )
    .option(
      '--epochs <n|auto>',
      'passes over the training file',
      checkedBy(hyperparametersSchema.shape.n_epochs, 'a whole number from 1 to 50, or auto', autoOrNumber),
    )
    .option(
      '--batch-size <n|auto>',
      'examples per step',
      checkedBy(
        hyperparametersSchema.shape.batch_size,
        'a whole number from 1 to 256, or auto',
        autoOrNumber,
      ),
    )
    .option(
      '--learning-rate-multiplier <x|auto>',
      'scales the base learning rate',
      checkedBy(
        createJobRequestSchema.shape.hyperparameters.unwrap().shape.learning_rate_multiplier,
        'a number from 0.000001 to 100, or auto',
        autoOrNumber,
      ),
    )
    .addOption(new Option('--method <method>', 'what trains (default: lora)').choices(TRAINING_METHODS))
    .option('--lora-rank <n>', 'LoRA rank', checkedBy(lora.rank, 'a whole number from 1 to 256'))
    .option('--lora-alpha <x>', 'LoRA alpha', checkedBy(lora.alpha, 'a number from 0.001 to 1024'))
    .option(
      '--partial-layers <list>',
      'for --method partial: decoder layers to train, comma-separated (0-based)',
      listOf(partial.layers, 'a comma-separated list of layer numbers from 0 to 1023', asNumber),
    )
    .option(
      '--partial-modules <list>',
      'for --method partial: module names to train, comma-separated',
      listOf(partial.modules, 'a comma-separated list of module names such as q_proj,v_proj', asText),
    )
    .addOption(new Option('--gpu-type <type>', 'accelerator (default: none, CPU)').choices(GPU_TYPES))
    .addOption(new Option('--market <market>', 'instance market (default: spot)').choices(MARKETS))
    .option(
      '--max-cost-usd <x>',
      'stop the job when its cost reaches this',
      checkedBy(whetstoneOptionsSchema.shape.max_cost_usd, 'a number of dollars from 0.01 to 1000000'),
    )
    .option(
      '--max-seq-length <n>',
      'longest example in tokens; longer ones are cut (default: 2048)',
      checkedBy(whetstoneOptionsSchema.shape.max_seq_length, 'a whole number from 16 to 131072'),
    )
    .option('--packing', 'pack short examples together into rows of up to --max-seq-length tokens')
    .option(
      '--checkpoint-every <steps>',
      'also checkpoint every this many steps (default: at each epoch end)',
      checkedBy(
        whetstoneOptionsSchema.shape.checkpoint_interval_steps.unwrap().unwrap(),
        'a whole number of steps from 1 to 1000000',
      ),
    )
    .option('--metadata <key=value...>', 'labels to find the job by (up to 16)', metadataPair)
    .option('--idempotency-key <key>', 'a retried create with the same key gives the first job')
    .action((options: CreateOptions, command: Command) => {
      const params = createParams(options, command);
      return withClient(options, async (client) => {
        const job = await client.fineTuning.jobs.create(params, { idempotencyKey: options.idempotencyKey });
        if (options.json) return printJson(job);
        console.log(`Created fine-tuning job ${job.id} (${job.status}).`);
        console.log(`Follow it with: whet jobs wait ${job.id}`);
      });
    });

  apiCommand(jobs, 'list', "list the team's jobs, newest first")
    .option('--limit <n>', 'at most this many (1-100, default 20)', pageLimit)
    .option('--after <job_id>', 'start after this job')
    .option('--metadata <key=value...>', 'only jobs whose metadata holds every pair', metadataPair)
    .action((options: ListOptions) =>
      withClient(options, async (client) => {
        const page = await client.fineTuning.jobs.list({
          limit: options.limit,
          after: options.after,
          metadata: options.metadata,
        });
        if (options.json) return printJson(page);
        if (page.data.length === 0) return console.log('No jobs.');
        printTable(
          ['ID', 'STATUS', 'MODEL', 'FINE-TUNED MODEL', 'CREATED'],
          page.data.map((job) => [
            job.id,
            job.status,
            job.model,
            job.fine_tuned_model ?? '-',
            formatTime(job.created_at),
          ]),
        );
        morePages(page, 'whet jobs list');
      }),
    );

  apiCommand(jobs, 'get <job_id>', "show a job's settings, state and error").action(
    (jobId: string, options: ApiOptions) =>
      withClient(options, async (client) => {
        const job = await client.fineTuning.jobs.retrieve(jobId);
        if (options.json) return printJson(job);
        printFields(details(job));
      }),
  );

  for (const [action, description] of [
    ['cancel', 'stop a job for good'],
    ['pause', 'checkpoint a running job and stop it; resume continues from there'],
    ['resume', 'relaunch a paused job from its newest checkpoint'],
  ] as const) {
    apiCommand(jobs, `${action} <job_id>`, description).action((jobId: string, options: ApiOptions) =>
      withClient(options, async (client) => {
        const job = await client.fineTuning.jobs[action](jobId);
        if (options.json) return printJson(job);
        console.log(`${capitalised(action)} requested for ${job.id}; it is ${describeStatus(job)}.`);
      }),
    );
  }

  apiCommand(
    jobs,
    'events <job_id>',
    "show a job's newest events, oldest first as a log reads (--json: the API's page, newest first)",
  )
    .option('--limit <n>', 'this many of the newest events (1-100, default 20)', pageLimit)
    .option('--after <event_id>', 'the events before this one')
    .action((jobId: string, options: PageOptions) =>
      withClient(options, async (client) => {
        const page = await client.fineTuning.jobs.listEvents(jobId, {
          limit: options.limit,
          after: options.after,
        });
        if (options.json) return printJson(page);
        if (page.has_more && page.last_id !== null) {
          console.log(`(earlier: whet jobs events ${jobId} --after ${page.last_id})`);
        }
        if (page.data.length === 0) return console.log('No events.');
        for (const event of [...page.data].reverse()) console.log(eventLine(event));
      }),
    );

  apiCommand(jobs, 'checkpoints <job_id>', "list a job's checkpoints, newest first")
    .option('--limit <n>', 'at most this many (1-100, default 20)', pageLimit)
    .option('--after <checkpoint_id>', 'start after this checkpoint')
    .action((jobId: string, options: PageOptions) =>
      withClient(options, async (client) => {
        const page = await client.fineTuning.jobs.listCheckpoints(jobId, {
          limit: options.limit,
          after: options.after,
        });
        if (options.json) return printJson(page);
        if (page.data.length === 0) return console.log('No checkpoints.');
        printTable(
          ['ID', 'STEP', 'TRAIN LOSS', 'VALID LOSS', 'CREATED', 'CHECKPOINT'],
          page.data.map((checkpoint) => [
            checkpoint.id,
            String(checkpoint.step_number),
            formatMetric(checkpoint.metrics.train_loss),
            formatMetric(checkpoint.metrics.valid_loss),
            formatTime(checkpoint.created_at),
            checkpoint.fine_tuned_model_checkpoint,
          ]),
        );
        morePages(page, `whet jobs checkpoints ${jobId}`);
      }),
    );

  registerArtifactCommands(jobs);

  apiCommand(
    jobs,
    'wait <job_id>',
    'print new events until the job succeeds, fails, is cancelled or pauses; exit 1 unless it succeeded or paused',
  )
    .option('--timeout <seconds>', 'give up (exit 1) after this long (default: no limit)', positiveSeconds)
    .option('--interval <seconds>', 'time between looks', positiveSeconds, 2)
    .action((jobId: string, options: WaitCommandOptions) =>
      withClient(options, async (client) => {
        const job = await waitForJobEnd(client, jobId, options);
        if (options.json) printJson(job);
        else if (job.status === 'succeeded') {
          console.log(`Job ${job.id} succeeded: fine-tuned model ${job.fine_tuned_model ?? '(none)'}.`);
        } else if (job.status === 'paused') {
          console.log(`Job ${job.id} is paused; continue it with: whet jobs resume ${job.id}`);
        }
        if (job.status === 'failed') {
          const error = job.error;
          throw new Error(
            error === null
              ? `Job ${job.id} failed without an error.`
              : `Job ${job.id} failed (${error.code}): ${error.message}`,
          );
        }
        if (job.status === 'cancelled') throw new Error(`Job ${job.id} was cancelled.`);
      }),
    );
}

/**
 * The create body from the options, checked for combinations that no one option's parser can
 * see. Only what was given is sent, so the API's defaults stay the API's.
 */
function createParams(options: CreateOptions, command: Command): CreateJobParams {
  const method = options.method ?? 'lora';
  const refuse = (message: string): never => command.error(`error: ${message}`, { exitCode: 1 });
  if (method !== 'lora' && (options.loraRank !== undefined || options.loraAlpha !== undefined)) {
    refuse(`--lora-rank and --lora-alpha apply only with --method lora, not --method ${method}.`);
  }
  const hasPartial = options.partialLayers !== undefined || options.partialModules !== undefined;
  if (method === 'partial' && !hasPartial) {
    refuse('--method partial needs --partial-layers or --partial-modules (or both) to say what trains.');
  }
  if (method !== 'partial' && hasPartial) {
    refuse('--partial-layers and --partial-modules apply only with --method partial.');
  }

  const hyperparameters = defined({
    n_epochs: options.epochs,
    batch_size: options.batchSize,
    learning_rate_multiplier: options.learningRateMultiplier,
  });
  const loraOptions = defined({ rank: options.loraRank, alpha: options.loraAlpha });
  const whetstone = defined({
    training_method: options.method,
    lora: Object.keys(loraOptions).length > 0 ? loraOptions : undefined,
    partial: hasPartial
      ? defined({ layers: options.partialLayers, modules: options.partialModules })
      : undefined,
    gpu_type: options.gpuType,
    market: options.market,
    max_cost_usd: options.maxCostUsd,
    max_seq_length: options.maxSeqLength,
    packing: options.packing,
    checkpoint_interval_steps: options.checkpointEvery,
  });
  return {
    model: options.model,
    training_file: options.trainingFile,
    ...defined({
      validation_file: options.validationFile,
      suffix: options.suffix,
      seed: options.seed,
      metadata: options.metadata,
    }),
    ...(Object.keys(hyperparameters).length > 0
      ? { method: { type: 'supervised' as const, supervised: { hyperparameters } } }
      : {}),
    ...(Object.keys(whetstone).length > 0 ? { whetstone } : {}),
  };
}

/** The object without its undefined fields, which the API would otherwise see as given. */
function defined<T extends Record<string, unknown>>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

/**
 * commander parser that checks the value with the API's own schema, so the CLI refuses exactly
 * what the API would, before any request. Numbers are numbers only when written as one.
 */
function checkedBy<S extends z.ZodType>(
  schema: S,
  expected: string,
  read: (text: string) => unknown = asNumber,
): (text: string) => Exclude<z.output<S>, null | undefined> {
  return (text) => {
    const checked = schema.safeParse(read(text));
    if (!checked.success || checked.data === null || checked.data === undefined) {
      throw new InvalidArgumentError(`'${text}' is not ${expected}.`);
    }
    return checked.data as Exclude<z.output<S>, null | undefined>;
  };
}

function listOf<S extends z.ZodType>(
  schema: S,
  expected: string,
  read: (item: string) => unknown,
): (text: string) => Exclude<z.output<S>, undefined> {
  return (text) => {
    const checked = schema.safeParse(text.split(',').map((item) => read(item.trim())));
    if (!checked.success || checked.data === undefined) {
      throw new InvalidArgumentError(`'${text}' is not ${expected}.`);
    }
    return checked.data as Exclude<z.output<S>, undefined>;
  };
}

/** `'8'` is 8; `'0x8'`, `''` and `'8 epochs'` stay text, for the schema to refuse. */
function asNumber(text: string): string | number {
  return /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text) ? Number(text) : text;
}

function autoOrNumber(text: string): string | number {
  return text === 'auto' ? text : asNumber(text);
}

function asText(text: string): string {
  return text;
}

function positiveSeconds(value: string): number {
  const seconds = asNumber(value);
  if (typeof seconds !== 'number' || !(seconds > 0) || !Number.isFinite(seconds)) {
    throw new InvalidArgumentError(`'${value}' is not a number of seconds above 0.`);
  }
  return seconds;
}

/** `--metadata key=value`, repeatable or several after one flag; kept to the API's metadata rules. */
function metadataPair(text: string, previous: Record<string, string> | undefined): Record<string, string> {
  const split = text.indexOf('=');
  if (split < 0) throw new InvalidArgumentError(`'${text}' is not a key=value pair.`);
  const key = text.slice(0, split);
  const value = text.slice(split + 1);
  if (key.length === 0 || key.length > 64) {
    throw new InvalidArgumentError(`'${text}': the key must be 1-64 characters.`);
  }
  if (value.length > 512)
    throw new InvalidArgumentError(`'${text}': the value must be at most 512 characters.`);
  const pairs = previous ?? {};
  if (Object.hasOwn(pairs, key)) throw new InvalidArgumentError(`'${key}' is given twice.`);
  if (Object.keys(pairs).length >= 16) throw new InvalidArgumentError('metadata holds at most 16 pairs.');
  return { ...pairs, [key]: value };
}

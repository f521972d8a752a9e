import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isOrigin } from '../core/schemas';
import { computeConfigSchema, defaultCompute, REGION_PATTERN } from './compute-config';
import { InfraConfigError } from './errors';

/** CloudWatch Logs' allowed retention periods, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * `whetstone.config.json`: what a platform team chooses for its deployment. Every field has a
 * default, so `{}` deploys the platform in `us-east-1` (or the CLI's default region).
 */
export const whetstoneConfigSchema = z
  .strictObject({
    /** Prefix of every physical name (table, buckets' names are derived from it). */
    deploymentName: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{1,20}$/,
        'must be 2-21 lower-case letters, digits or hyphens, starting with a letter',
      )
      .default('whetstone'),
    /** Pin the stacks to one account; absent, the templates are account-agnostic. */
    account: z
      .string()
      .regex(/^[0-9]{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    /** Where the API, table and bucket live. */
    controlRegion: z
      .string()
      .regex(REGION_PATTERN, 'must be an AWS region such as us-east-1')
      .default('us-east-1'),
    /** Days every log group (Lambda, API access, Batch) keeps its events. */
    logRetentionDays: z
      .number()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `must be one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    storage: z
      .strictObject({
        /** Days an overwritten or deleted object's old version is kept, so a mistake can be undone. */
        noncurrentVersionDays: z.number().int().min(1).max(3650).default(30),
        /** Days after which an unfinished multipart upload (an abandoned large file) is removed. */
        abortIncompleteMultipartUploadDays: z.number().int().min(1).max(365).default(7),
        /** Days the S3 server access logs are kept. */
        accessLogDays: z.number().int().min(1).max(3650).default(90),
      })
      .prefault({}),
    api: z
      .strictObject({
        /** Steady requests per second the stage lets through (API Gateway stage throttling). */
        throttleRatePerSecond: z.number().int().min(1).max(10000).default(50),
        /** Requests the stage lets through in a burst above the steady rate. */
        throttleBurst: z.number().int().min(1).max(5000).default(100),
        /** Seconds API Gateway caches a key's authorization; a revoked key works for up to this long. */
        authorizerCacheSeconds: z.number().int().min(0).max(3600).default(60),
        /** Browser origins (`https://console.example.com`) allowed to call the API; empty: none. */
        corsOrigins: z
          .array(
            z
              .string()
              .refine(
                isOrigin,
                'must be an origin such as https://console.example.com (scheme, host, port; no path)',
              ),
          )
          .default([]),
      })
      .prefault({}),
    alarms: z
      .strictObject({
        /** Where alarm notifications go (each region's topic sends a confirmation first); absent: no subscription. */
        email: z.email('must be an e-mail address').optional(),
        /** Percent of API requests answered 5xx over 5 minutes that raises the alarm. */
        apiServerErrorPercent: z.number().min(0.1).max(100).default(5),
      })
      .prefault({}),
    /**
     * The deployment-wide spend guard: one AWS Budgets cost budget over the whole account's monthly
     * spend, e-mailed to `alarms.email`. Per-team budgets are the platform's own, enforced when a job
     * is submitted (not built yet), and are not configured here.
     */
    budgets: z
      .strictObject({
        /** The account's expected monthly cost in USD; absent: no budget. Needs `alarms.email`. */
        monthlyUsd: z.number().positive().optional(),
        /**
         * Percentages of `monthlyUsd` whose actual spend sends an e-mail; one more is always sent when
         * the month is forecast to pass 100 %. AWS Budgets allows five notifications a budget.
         */
        alertPercents: z
          .array(z.number().positive().max(1000))
          .min(1)
          .max(4, 'must list at most 4 percentages: with the forecast alert, a budget holds 5 notifications')
          .refine((percents) => new Set(percents).size === percents.length, 'must not repeat a percentage')
          .default([80, 100]),
      })
      .prefault({}),
    compute: computeConfigSchema.optional(),
  })
  .superRefine((config, context) => {
    if (config.budgets.monthlyUsd !== undefined && config.alarms.email === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['budgets', 'monthlyUsd'],
        message: 'needs alarms.email to notify',
      });
    }
  })
  .transform(({ compute, ...config }) => ({
    ...config,
    compute: compute ?? computeConfigSchema.parse(defaultCompute(config.controlRegion)),
  }));

export type WhetstoneConfigInput = z.input<typeof whetstoneConfigSchema>;
export type WhetstoneConfig = z.infer<typeof whetstoneConfigSchema>;

/** Checks a configuration object; `source` names where it came from in error messages. */
export function parseWhetstoneConfig(value: unknown, source = 'whetstone.config.json'): WhetstoneConfig {
  const result = whetstoneConfigSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? formatPath(issue.path) : '(root)';
  throw new InfraConfigError(source, field, issue?.message ?? 'is invalid');
}

/** Reads and checks a configuration file. */
export function loadWhetstoneConfig(file: string): WhetstoneConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InfraConfigError(file, '(root)', `cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InfraConfigError(file, '(root)', `is not JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseWhetstoneConfig(value, file);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

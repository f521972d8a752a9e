import { Stack, Stage } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import recommendedFlags from 'aws-cdk-lib/recommended-feature-flags.json';
import { beforeAll, describe, expect, it } from 'vitest';
import cdkJson from '../../cdk.json';
import { GPU_TYPES } from '../../lib/core/schemas';
import { parseWhetstoneConfig, type WhetstoneConfigInput } from '../../lib/infra';
import { handlerConstructId, handlerModules } from '../../lib/infra/handler-access';
import ledger from './acknowledgements.json';
import twoRegions from './fixtures/two-regions.json';
import { recordedAcknowledgements, type Synthesized, synthesize, testApp } from './helpers';

/**
 * One entry of `acknowledgements.json`: an acknowledged rule, its reason, and the constructs that
 * carry it. What a configuration multiplies is a placeholder: `{prefix}` (the stacks' name prefix),
 * `{deployment}` (deploymentName), `{region}`, `{gpuType}`. Where the same rule and reason sit on
 * several handler functions or API methods, one path stands for them with `{module}` (a handler
 * function's construct id) or `{route}` (an API resource path under /v1 and its method); a single
 * one keeps its name.
 */
interface LedgerEntry {
  readonly id: string;
  readonly reason: string;
  readonly paths: string[];
}

const REGION = /\b[a-z]{2}(?:-gov)?-[a-z]+-\d\b/g;
const TRAINER_DEFINITION = new RegExp(`-trainer-(?:${GPU_TYPES.join('|')}):`, 'g');
const MODULE_IDS = new Set(handlerModules().map(handlerConstructId));

function idPattern(id: string, deploymentName: string): string {
  return id
    .replaceAll(`${deploymentName}-`, '{deployment}-')
    .replace(REGION, '{region}')
    .replace(TRAINER_DEFINITION, '-trainer-{gpuType}:');
}

function pathPattern(path: string): string {
  const [stack = '', ...rest] = path.split('/');
  const stackPattern = stack.replace(/^[A-Za-z0-9]+-/, '{prefix}-').replace(REGION, '{region}');
  return [stackPattern, ...rest].join('/');
}

/** `path` with its handler module or API route as a placeholder; `path` itself when it has neither. */
function repeatedPattern(path: string): string {
  const [stack, ...rest] = path.split('/');
  if (stack !== '{prefix}-Api') return path;
  if (MODULE_IDS.has(rest[0] as string)) rest[0] = '{module}';
  if (rest.slice(0, 4).join('/') === 'Api/Api/Default/v1') rest.splice(4, rest.length, '{route}');
  return [stack, ...rest].join('/');
}

/** The ledger of every acknowledgement in the deployments, sorted by id, reason and path. */
function ledgerOf(deployments: readonly Deployment[]): LedgerEntry[] {
  const paths = new Map<string, Set<string>>();
  for (const { config, synthesized } of deployments) {
    const { deploymentName } = parseWhetstoneConfig(config);
    for (const { id, reason, path } of recordedAcknowledgements(synthesized.built.app)) {
      const key = JSON.stringify([idPattern(id, deploymentName), reason]);
      paths.set(key, (paths.get(key) ?? new Set()).add(pathPattern(path)));
    }
  }
  return [...paths]
    .map(([key, literal]) => {
      const [id, reason] = JSON.parse(key) as [string, string];
      const byPattern = new Map<string, string[]>();
      for (const path of literal) {
        const pattern = repeatedPattern(path);
        byPattern.set(pattern, [...(byPattern.get(pattern) ?? []), path]);
      }
      const merged = [...byPattern].flatMap(([pattern, group]) => (group.length > 1 ? [pattern] : group));
      return { id, reason, paths: merged.sort(byText) };
    })
    .sort((a, b) => byText(a.id, b.id) || byText(a.reason, b.reason));
}

/** Code-unit order, the same on every machine, unlike localeCompare. */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Deployment {
  readonly config: WhetstoneConfigInput;
  readonly synthesized: Synthesized;
}

describe('cdk-nag and feature flags', () => {
  const deployments: Deployment[] = [];

  beforeAll(() => {
    // Act: synth runs both nag packs and throws on any finding not acknowledged
    for (const config of [{}, twoRegions as WhetstoneConfigInput]) {
      deployments.push({ config, synthesized: synthesize(config) });
    }
  }, 240_000);

  it('synthesizes the default and the two-region deployments with no AWS Solutions or Serverless finding', () => {
    // Assess: beforeAll's synth would have thrown on a finding
    expect(deployments.map(({ synthesized }) => synthesized.assembly.stacks.length)).toEqual([3, 4]);
  });

  it('fails synth naming the rule when a resource breaks one', () => {
    // Prepare
    const { app } = testApp();
    const extra = new Stack(app, 'Extra', { env: { region: 'us-east-1' } });
    new s3.Bucket(extra, 'Plain', { encryption: s3.BucketEncryption.S3_MANAGED });

    // Act / Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
  });

  it("keeps cdk.json's context at the installed aws-cdk-lib's recommended flags", () => {
    // Assess
    expect(cdkJson.context).toEqual({ ...recommendedFlags, 'cli-telemetry': false });
  });

  it('acknowledges nothing on an app or a stack, where it would cover every resource below', () => {
    // Assess
    for (const { synthesized } of deployments) {
      const broad = recordedAcknowledgements(synthesized.built.app).filter(
        ({ construct }) => Stage.isStage(construct) || Stack.isStack(construct),
      );
      expect(broad.map(({ path, id }) => `${path}: ${id}`)).toEqual([]);
    }
  });

  it('gives every acknowledgement a reason of at least 60 characters', () => {
    // Assess
    for (const { synthesized } of deployments) {
      const short = recordedAcknowledgements(synthesized.built.app).filter(
        ({ reason }) => reason.length < 60,
      );
      expect(short.map(({ path, id, reason }) => `${path}: ${id}: ${reason}`)).toEqual([]);
    }
  });

  it('acknowledges exactly what acknowledgements.json lists, so a new acknowledgement is reviewed there', () => {
    // Act
    const found = ledgerOf(deployments);

    // Assess: a difference is an acknowledgement added, removed or reworded; the file is edited to match
    expect(found).toEqual(ledger);
  });
});

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLER_ACCESS, handlerConstructId, handlerModules } from '../../lib/infra/handler-access';

const execFileAsync = promisify(execFile);
const REPO_ROOT = join(__dirname, '..', '..');

/** Actions that accept no resource narrower than `*`, each added by a feature the stacks use. */
const UNSCOPABLE_ACTIONS = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };
interface CfnResource {
  readonly Type: string;
  readonly Properties: { readonly PolicyDocument?: { readonly Statement: Statement[] } };
  readonly Metadata?: Record<string, unknown>;
}
type CfnValue = string | { Ref?: string; 'Fn::GetAtt'?: string[]; 'Fn::Join'?: [string, CfnValue[]] };

interface Synth {
  readonly outDir: string;
  readonly stdout: string;
  readonly stderr: string;
  templates(): Record<string, Record<string, CfnResource>>;
}

/** `cdk synth` as a team runs it: the CLI, cdk.json's app command, bundling and cdk-nag on. */
async function cdkSynth(configFile: string, outDir: string): Promise<Synth> {
  const { stdout, stderr } = await execFileAsync(
    join(REPO_ROOT, 'node_modules', '.bin', 'cdk'),
    ['synth', '--quiet', '--no-notices', '--output', outDir],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, WHETSTONE_CONFIG: configFile, CDK_DISABLE_VERSION_CHECK: 'true' },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return {
    outDir,
    stdout,
    stderr,
    templates: () => {
      const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
      return Object.fromEntries(
        Object.entries(
          manifest.artifacts as Record<string, { type: string; properties?: { templateFile: string } }>,
        )
          .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
          .map(([name, artifact]) => [
            name,
            JSON.parse(readFileSync(join(outDir, artifact.properties?.templateFile ?? ''), 'utf8')).Resources,
          ]),
      );
    },
  };
}

function cdkPath(resource: CfnResource): string {
  return String(resource.Metadata?.['aws:cdk:path'] ?? '');
}

function actions(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

function resources(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** A resource value as text: `Fn::Join` parts joined, references written `<Ref>`. */
function text(value: unknown): string {
  const cfn = value as CfnValue;
  if (typeof cfn === 'string') return cfn;
  if (cfn.Ref) return `<${cfn.Ref}>`;
  if (cfn['Fn::GetAtt']) return `<${cfn['Fn::GetAtt'].join('.')}>`;
  if (cfn['Fn::Join']) return cfn['Fn::Join'][1].map(text).join(cfn['Fn::Join'][0]);
  return JSON.stringify(value);
}

describe('cdk synth from the command line, with bundling', () => {
  const work = mkdtempSync(join(tmpdir(), 'whetstone-synth-'));
  let oneRegion: Synth;
  let twoRegions: Synth;

  beforeAll(async () => {
    // Both at once: each is mostly esbuild and CloudFormation validation, one process each.
    [oneRegion, twoRegions] = await Promise.all([
      cdkSynth(join(REPO_ROOT, 'whetstone.config.example.json'), join(work, 'one')),
      cdkSynth(join(REPO_ROOT, 'test', 'infra', 'fixtures', 'two-regions.json'), join(work, 'two')),
    ]);
  }, 900_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('synthesizes a one-region and a two-region deployment offline, cdk-nag clean', () => {
    // Assess: a nag finding or a Docker fallback would have failed or shown here
    expect(Object.keys(oneRegion.templates()).sort()).toEqual([
      'Whetstone-Api',
      'Whetstone-Compute-us-east-1',
      'Whetstone-Platform',
    ]);
    expect(Object.keys(twoRegions.templates()).sort()).toEqual([
      'MlPlatform-Api',
      'MlPlatform-Compute-us-east-1',
      'MlPlatform-Compute-us-west-2',
      'MlPlatform-Platform',
    ]);
    for (const synth of [oneRegion, twoRegions]) {
      expect(synth.stderr).not.toMatch(/Docker bundling|AwsSolutions-|Serverless-/);
    }
  });

  it('bundles every handler with esbuild into a minified entry and its source map', () => {
    // Prepare
    const api = oneRegion.templates()['Whetstone-Api'] ?? {};
    const functions = Object.values(api).filter((resource) => resource.Type === 'AWS::Lambda::Function');

    // Assess
    expect(functions).toHaveLength(handlerModules().length);
    for (const fn of functions) {
      const assetPath = (fn.Metadata?.['aws:asset:path'] as string) ?? '';
      const bundle = join(oneRegion.outDir, assetPath);
      expect(existsSync(join(bundle, 'index.js')), cdkPath(fn)).toBe(true);
      expect(existsSync(join(bundle, 'index.js.map')), cdkPath(fn)).toBe(true);
      expect(readFileSync(join(bundle, 'index.js'), 'utf8')).toMatch(
        /\n\/\/# sourceMappingURL=index\.js\.map\s*$/,
      );
    }
  });

  it("limits every handler's role to the resources its module uses", () => {
    for (const [synth, stack, bucket] of [
      [oneRegion, 'Whetstone-Api', 'whetstone-data-<AWS::AccountId>-us-east-1'],
      [twoRegions, 'MlPlatform-Api', 'ml-platform-data-<AWS::AccountId>-us-east-1'],
    ] as const) {
      // Prepare
      const template = synth.templates()[stack] ?? {};
      const policies = Object.values(template).filter((resource) => resource.Type === 'AWS::IAM::Policy');

      for (const module of handlerModules()) {
        const access = HANDLER_ACCESS[module];
        const policy = policies.find((resource) =>
          cdkPath(resource).startsWith(`${stack}/${handlerConstructId(module)}/Role/`),
        );
        const statements = (policy?.Properties.PolicyDocument?.Statement ?? []) as Statement[];
        const granted = statements.flatMap(actions);
        const where = `${stack} ${module}`;

        // Assess: no wildcard action; `*` resources only for actions that have no narrower one
        expect(statements.length, where).toBeGreaterThan(0);
        expect(
          granted.filter((action) => action.includes('*')),
          where,
        ).toEqual([]);
        for (const statement of statements) {
          if (resources(statement).some((resource) => text(resource) === '*')) {
            expect(
              actions(statement).every((action) => UNSCOPABLE_ACTIONS.has(action)),
              where,
            ).toBe(true);
          }
        }
        // S3 objects: exactly the module's prefixes of the data bucket
        const objectResources = statements
          .filter((statement) =>
            actions(statement).some((action) => action.startsWith('s3:') && action !== 's3:ListBucket'),
          )
          .flatMap(resources)
          .map(text);
        const prefixes = new Set([
          ...(access?.readObjects ?? []),
          ...(access?.writeObjects ?? []),
          ...(access?.deleteObjects ?? []),
          ...(access?.abortUploads ?? []),
        ]);
        expect(new Set(objectResources), where).toEqual(
          new Set([...prefixes].map((prefix) => `arn:<AWS::Partition>:s3:::${bucket}/${prefix}/*`)),
        );
        // Batch, SQS, EventBridge, DynamoDB writes: only where the module launches, notifies or writes
        expect(
          granted.some((action) => action.startsWith('batch:')),
          where,
        ).toBe(Boolean(access?.launchesJobs));
        expect(granted.includes('events:PutEvents'), where).toBe(Boolean(access?.notifies));
        expect(granted.includes('sqs:SendMessage'), where).toBe(
          Boolean(access?.notifies || access?.deliversWebhooks),
        );
        expect(granted.includes('dynamodb:PutItem'), where).toBe(access?.table === 'write');
        expect(granted.filter((action) => action.startsWith('dynamodb:')).length, where).toBeGreaterThan(0);
      }
    }
  });

  it('lets the launching handlers submit only to the configured queues and job definitions, in every region', () => {
    // Prepare
    const template = twoRegions.templates()['MlPlatform-Api'] ?? {};
    const policy = Object.values(template).find(
      (resource) =>
        resource.Type === 'AWS::IAM::Policy' &&
        cdkPath(resource).startsWith('MlPlatform-Api/JobsCreate/Role/'),
    );
    const statements = (policy?.Properties.PolicyDocument?.Statement ?? []) as Statement[];

    // Act
    const submit = statements.find((statement) => actions(statement).includes('batch:SubmitJob'));
    const terminate = statements.find((statement) => actions(statement).includes('batch:TerminateJob'));

    // Assess
    const batch = (region: string) => `arn:<AWS::Partition>:batch:${region}:<AWS::AccountId>`;
    expect(new Set(resources(submit as Statement).map(text))).toEqual(
      new Set([
        `${batch('us-east-1')}:job-queue/ml-platform-a10g-spot`,
        `${batch('us-east-1')}:job-queue/ml-platform-a10g-on-demand`,
        `${batch('us-east-1')}:job-queue/ml-platform-none-spot`,
        `${batch('us-east-1')}:job-queue/ml-platform-none-on-demand`,
        `${batch('us-west-2')}:job-queue/ml-platform-l4-on-demand`,
        `${batch('us-east-1')}:job-definition/ml-platform-trainer-a10g`,
        `${batch('us-east-1')}:job-definition/ml-platform-trainer-a10g:*`,
        `${batch('us-east-1')}:job-definition/ml-platform-trainer-none`,
        `${batch('us-east-1')}:job-definition/ml-platform-trainer-none:*`,
        `${batch('us-west-2')}:job-definition/ml-platform-trainer-l4`,
        `${batch('us-west-2')}:job-definition/ml-platform-trainer-l4:*`,
      ]),
    );
    expect(new Set(resources(terminate as Statement).map(text))).toEqual(
      new Set([`${batch('us-east-1')}:job/*`, `${batch('us-west-2')}:job/*`]),
    );
  });
});

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEPT_CHECKPOINTS } from '../../../lib/core/jobs';
import type { RunningService } from '../../../lib/local/services/dynamodb-local';
import { startOnFreePort } from '../../../lib/local/services/ports';
import { startS3Server } from '../../../lib/local/services/s3-server';
import {
  CHECKPOINT_INDEX,
  completeCheckpoints,
  downloadCheckpoint,
  pruneCheckpoints,
  uploadCheckpoint,
} from '../../../trainer/src/runtime/checkpoints';
import { ObjectsByUri } from '../../../trainer/src/runtime/objects';

const BUCKET = 'whetstone-checkpoints-test';

/** What the local platform gives the trainer: s3rver by path, with its fixed credentials. */
const S3_ENV_NAMES = [
  'AWS_ENDPOINT_URL_S3',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
] as const;

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A checkpoint folder as fine-tune saves one: tensors, progress, and a nested file. */
const CHECKPOINT_FILES: Record<string, Buffer> = {
  'adapter/adapter_config.json': Buffer.from('{"r": 8, "lora_alpha": 16}\n'),
  'trainer_state.safetensors': Buffer.alloc(96, 3),
  'trainer_state.json': Buffer.from('{"step": 4}\n'),
};

async function writeCheckpointDir(
  dir: string,
  files: Record<string, Buffer> = CHECKPOINT_FILES,
): Promise<void> {
  for (const [path, bytes] of Object.entries(files)) {
    const file = join(dir, ...path.split('/'));
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, bytes);
  }
}

describe('checkpoints in S3', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'whetstone-checkpoints-s3-'));
  const workDir = mkdtempSync(join(tmpdir(), 'whetstone-checkpoints-'));
  const savedEnv = Object.fromEntries(S3_ENV_NAMES.map((name) => [name, process.env[name]]));
  let s3: RunningService;
  let objects: ObjectsByUri;
  let jobs = 0;
  /** A fresh checkpoints folder per test, as each job has its own. */
  const checkpointsUri = () => `s3://${BUCKET}/teams/t/jobs/job-${++jobs}/checkpoints/`;

  beforeAll(async () => {
    s3 = await startOnFreePort((port) => startS3Server({ dataDir, port, bucket: BUCKET }));
    for (const name of S3_ENV_NAMES) delete process.env[name];
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    });
    objects = new ObjectsByUri('local', { retryDelaysMs: [10, 20] });
  });
  afterAll(async () => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await s3?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('uploads the files, then an index with each file’s bytes and SHA-256', async () => {
    // Prepare
    const uri = checkpointsUri();
    const dir = join(workDir, 'upload', 'step-4');
    await writeCheckpointDir(dir);

    // Act
    const stored = await uploadCheckpoint(objects, dir, uri, 4);

    // Assess
    expect(stored).toEqual({ step: 4, uri: `${uri}step-4/` });
    expect((await objects.list(`${uri}step-4/`)).map(({ relative, bytes }) => [relative, bytes])).toEqual([
      ['adapter/adapter_config.json', 27],
      [CHECKPOINT_INDEX, expect.any(Number)],
      ['trainer_state.json', 12],
      ['trainer_state.safetensors', 96],
    ]);
    const index = JSON.parse((await objects.text(`${uri}step-4/${CHECKPOINT_INDEX}`)) ?? 'null');
    expect(index).toEqual({
      step: 4,
      files: [
        {
          path: 'adapter/adapter_config.json',
          bytes: 27,
          sha256: sha256(CHECKPOINT_FILES['adapter/adapter_config.json'] as Buffer),
        },
        { path: 'trainer_state.json', bytes: 12, sha256: sha256('{"step": 4}\n') },
        { path: 'trainer_state.safetensors', bytes: 96, sha256: sha256(Buffer.alloc(96, 3)) },
      ],
    });
  });

  it('lists only checkpoints with an index, newest first', async () => {
    // Prepare: step 30 was cut short before its index was written
    const uri = checkpointsUri();
    for (const step of [5, 20, 10]) {
      const dir = join(workDir, 'list', `step-${step}`);
      await writeCheckpointDir(dir);
      await uploadCheckpoint(objects, dir, uri, step);
    }
    await objects.put(`${uri}step-30/trainer_state.json`, '{"step": 30}\n', 'application/json');
    await objects.put(`${uri}notes/${CHECKPOINT_INDEX}`, '{}', 'application/json');

    // Act
    const complete = await completeCheckpoints(objects, uri);

    // Assess
    expect(complete).toEqual([
      { step: 20, uri: `${uri}step-20/` },
      { step: 10, uri: `${uri}step-10/` },
      { step: 5, uri: `${uri}step-5/` },
    ]);
  });

  /** Stores a complete checkpoint of each step, as a run saves them. */
  async function storeCheckpoints(uri: string, steps: readonly number[]): Promise<void> {
    for (const step of steps) {
      const dir = join(workDir, 'prune', String(jobs), `step-${step}`);
      await writeCheckpointDir(dir);
      await uploadCheckpoint(objects, dir, uri, step);
    }
  }

  /** Every step folder with any object in it, ascending. */
  async function stepFoldersIn(uri: string): Promise<number[]> {
    const steps = (await objects.list(uri)).map((object) =>
      Number(/^step-([0-9]+)\//.exec(object.relative)?.[1]),
    );
    return [...new Set(steps)].sort((a, b) => a - b);
  }

  it('keeps the newest three complete checkpoints and deletes the older ones whole', async () => {
    // Prepare: step 1 must not be taken for a prefix of step 12
    const uri = checkpointsUri();
    await storeCheckpoints(uri, [1, 3, 6, 9, 12]);

    // Act
    const pruned = await pruneCheckpoints(objects, uri);

    // Assess
    expect(KEPT_CHECKPOINTS).toBe(3);
    expect(pruned).toEqual({ kept: [12, 9, 6], deleted: [1, 3] });
    expect(await stepFoldersIn(uri)).toEqual([6, 9, 12]);
    expect((await objects.list(`${uri}step-12/`)).map((object) => object.relative)).toHaveLength(4);
    expect(await completeCheckpoints(objects, uri)).toEqual([
      { step: 12, uri: `${uri}step-12/` },
      { step: 9, uri: `${uri}step-9/` },
      { step: 6, uri: `${uri}step-6/` },
    ]);
  });

  it('deletes folders cut short below the newest complete checkpoint, and leaves those above it', async () => {
    // Prepare: a killed attempt left step 4 without its index and got to part of step 10
    const uri = checkpointsUri();
    await storeCheckpoints(uri, [3, 6]);
    await objects.put(`${uri}step-4/trainer_state.json`, '{"step": 4}\n', 'application/json');
    await objects.put(`${uri}step-10/trainer_state.json`, '{"step": 10}\n', 'application/json');

    // Act
    const pruned = await pruneCheckpoints(objects, uri);

    // Assess
    expect(pruned).toEqual({ kept: [6, 3], deleted: [4] });
    expect(await stepFoldersIn(uri)).toEqual([3, 6, 10]);
  });

  it('deletes nothing while no checkpoint is complete, or when the newest are all there is', async () => {
    // Prepare
    const partial = checkpointsUri();
    await objects.put(`${partial}step-2/trainer_state.json`, '{"step": 2}\n', 'application/json');
    const few = checkpointsUri();
    await storeCheckpoints(few, [2, 4, 6]);

    // Act
    const outcomes = [await pruneCheckpoints(objects, partial), await pruneCheckpoints(objects, few)];

    // Assess
    expect(outcomes).toEqual([
      { kept: [], deleted: [] },
      { kept: [6, 4, 2], deleted: [] },
    ]);
    expect(await stepFoldersIn(partial)).toEqual([2]);
    expect(await stepFoldersIn(few)).toEqual([2, 4, 6]);
  });

  it('takes a deleted checkpoint’s index first, so one cut short is never resumed from and goes next time', async () => {
    // Prepare: S3 refuses every deletion of a whole folder
    const uri = checkpointsUri();
    await storeCheckpoints(uri, [2, 4, 6, 8]);
    const refusing = Object.create(objects) as ObjectsByUri;
    refusing.deleteFolder = async () => {
      throw new Error('S3 is down');
    };

    // Act
    const failure = await pruneCheckpoints(refusing, uri).catch((error: Error) => error.message);
    const complete = await completeCheckpoints(objects, uri);
    const retried = await pruneCheckpoints(objects, uri);

    // Assess
    expect(failure).toBe('S3 is down');
    expect(complete.map((checkpoint) => checkpoint.step)).toEqual([8, 6, 4]);
    expect(retried).toEqual({ kept: [8, 6, 4], deleted: [2] });
    expect(await stepFoldersIn(uri)).toEqual([4, 6, 8]);
  });

  it('finds no checkpoint in a folder never written to', async () => {
    // Act
    const complete = await completeCheckpoints(objects, checkpointsUri());

    // Assess
    expect(complete).toEqual([]);
  });

  it('downloads a checkpoint’s files as they were uploaded', async () => {
    // Prepare
    const uri = checkpointsUri();
    await writeCheckpointDir(join(workDir, 'restore', 'source'));
    const stored = await uploadCheckpoint(objects, join(workDir, 'restore', 'source'), uri, 7);
    const target = join(workDir, 'restore', 'target');

    // Act
    const outcome = await downloadCheckpoint(objects, stored, target);

    // Assess
    expect(outcome).toEqual({ problem: null });
    expect((await readdir(target, { recursive: true })).sort()).toEqual([
      'adapter',
      'adapter/adapter_config.json',
      'trainer_state.json',
      'trainer_state.safetensors',
    ]);
    for (const [path, bytes] of Object.entries(CHECKPOINT_FILES)) {
      expect((await readFile(join(target, ...path.split('/')))).equals(bytes)).toBe(true);
    }
  });

  it('finds a problem in a file changed after the checkpoint, even at the same size', async () => {
    // Prepare
    const uri = checkpointsUri();
    await writeCheckpointDir(join(workDir, 'tampered', 'source'));
    const stored = await uploadCheckpoint(objects, join(workDir, 'tampered', 'source'), uri, 3);
    await objects.put(`${uri}step-3/trainer_state.json`, '{"step": 9}\n', 'application/json');

    // Act
    const outcome = await downloadCheckpoint(objects, stored, join(workDir, 'tampered', 'target'));

    // Assess
    expect(outcome).toEqual({
      problem: `${uri}step-3/trainer_state.json does not have the SHA-256 the checkpoint recorded`,
    });
  });

  it('finds a problem in a file missing from the checkpoint', async () => {
    // Prepare: the index names a file the upload never wrote
    const uri = checkpointsUri();
    await objects.put(`${uri}step-2/trainer_state.json`, '{"step": 2}\n', 'application/json');
    await objects.put(
      `${uri}step-2/${CHECKPOINT_INDEX}`,
      JSON.stringify({
        step: 2,
        files: [
          { path: 'trainer_state.json', bytes: 12, sha256: sha256('{"step": 2}\n') },
          { path: 'trainer_state.safetensors', bytes: 96, sha256: sha256(Buffer.alloc(96, 3)) },
        ],
      }),
      'application/json',
    );

    // Act
    const outcome = await downloadCheckpoint(
      objects,
      { step: 2, uri: `${uri}step-2/` },
      join(workDir, 'gone'),
    );

    // Assess
    expect(outcome).toEqual({
      problem: `${uri}step-2/trainer_state.safetensors is missing or not the 96 bytes the checkpoint recorded`,
    });
  });

  it('finds a problem in a file of another size than recorded', async () => {
    // Prepare
    const uri = checkpointsUri();
    await writeCheckpointDir(join(workDir, 'resized', 'source'));
    const stored = await uploadCheckpoint(objects, join(workDir, 'resized', 'source'), uri, 6);
    await objects.put(`${uri}step-6/trainer_state.json`, '{"step": 60}\n', 'application/json');

    // Act
    const outcome = await downloadCheckpoint(objects, stored, join(workDir, 'resized', 'target'));

    // Assess
    expect(outcome).toEqual({
      problem: `${uri}step-6/trainer_state.json is missing or not the 12 bytes the checkpoint recorded`,
    });
  });

  it.each([
    ['a parent folder', '../../escape.json'],
    ['an absolute path', '/tmp/escape.json'],
    ['an empty segment', 'adapter//escape.json'],
    ['the folder itself', '.'],
  ])('refuses an index that names %s', async (_, path) => {
    // Prepare
    const uri = checkpointsUri();
    await objects.put(`${uri}step-1/escape.json`, '{}', 'application/json');
    await objects.put(
      `${uri}step-1/${CHECKPOINT_INDEX}`,
      JSON.stringify({ step: 1, files: [{ path, bytes: 2, sha256: sha256('{}') }] }),
      'application/json',
    );
    const base = join(workDir, 'escape', String(jobs));

    // Act
    const outcome = await downloadCheckpoint(
      objects,
      { step: 1, uri: `${uri}step-1/` },
      join(base, 'a', 'b'),
    );

    // Assess
    expect(outcome).toEqual({
      problem: `${uri}step-1/${CHECKPOINT_INDEX} names a path outside the checkpoint: ${path}`,
    });
    expect(existsSync(base)).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['not JSON', '{"step": 1, "files": ['],
    ['of another step', JSON.stringify({ step: 8, files: [] })],
    ['without files', JSON.stringify({ step: 1 })],
  ])('finds a problem in an index that is %s', async (_, index) => {
    // Prepare
    const uri = checkpointsUri();
    if (index !== undefined) await objects.put(`${uri}step-1/${CHECKPOINT_INDEX}`, index, 'application/json');

    // Act
    const outcome = await downloadCheckpoint(
      objects,
      { step: 1, uri: `${uri}step-1/` },
      join(workDir, 'bad'),
    );

    // Assess
    expect(outcome).toEqual({ problem: `${uri}step-1/${CHECKPOINT_INDEX} is missing or unreadable` });
  });
});

import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { FineTuningJob } from '../../lib/core/schemas';
import { objectKeys } from '../../lib/core/storage';
import { trainerMetadata } from '../helpers/jobs';
import { tinyLlamaFiles } from '../helpers/models';
import { chatDataset, fileForm, TEST_TRAINER } from '../helpers/platform';
import { type RunningProduct, startProduct, uploadToBucket } from './product';

/**
 * `whet start` stopped and started again on the same data dir: the job that was running ends
 * with a clear error, and the job that waited for its running-job slot is launched at start.
 */
describe('jobs across a restart of `whet start`', { timeout: 120_000 }, () => {
  const env = {
    WHETSTONE_TRAINER_ENTRY: TEST_TRAINER,
    WHETSTONE_LOCAL_CONCURRENCY: '2',
    WHETSTONE_MAX_RUNNING_JOBS_PER_TEAM: '1',
  };
  let product: RunningProduct | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    await product?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const call = (target: RunningProduct, method: string, path: string, body?: unknown) =>
    fetch(`${target.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${target.apiKey}`,
        ...(body instanceof FormData || body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: body instanceof FormData ? body : JSON.stringify(body) }),
    });

  async function job(target: RunningProduct, id: string): Promise<FineTuningJob> {
    return (await (await call(target, 'GET', `/v1/fine_tuning/jobs/${id}`)).json()) as FineTuningJob;
  }

  async function waitForStatus(target: RunningProduct, id: string, status: string): Promise<FineTuningJob> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const current = await job(target, id);
      if (current.status === status) return current;
      if (Date.now() > deadline) throw new Error(`job ${id} is still ${current.status}:\n${target.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('ends the running job clearly and launches the waiting one', async () => {
    // Prepare
    const first = await startProduct({ env });
    product = first;
    dataDir = first.dataDir;
    await uploadToBucket(first, objectKeys.model('tiny-llama'), tinyLlamaFiles());
    expect((await call(first, 'POST', '/v1/whetstone/models', { id: 'tiny-llama' })).status).toBe(200);
    const file = (await (await call(first, 'POST', '/v1/files', fileForm(chatDataset(10)))).json()) as {
      id: string;
    };
    const create = async () =>
      (await (
        await call(first, 'POST', '/v1/fine_tuning/jobs', {
          model: 'tiny-llama',
          training_file: file.id,
          metadata: trainerMetadata({ mode: 'run' }),
        })
      ).json()) as FineTuningJob;
    const running = await create();
    await waitForStatus(first, running.id, 'running');
    const waiting = await create();

    // Act
    const exitCode = await first.stop();
    const second = await startProduct({ env, dataDir: first.dataDir });
    product = second;

    // Assess
    const logs = () => `first run:\n${first.output()}\nsecond run:\n${second.output()}`;
    expect(exitCode, logs()).toBe(0);
    expect(waiting.status).toBe('queued');
    const ended = await job(second, running.id);
    expect({ status: ended.status, code: ended.error?.code }, logs()).toEqual({
      status: 'failed',
      code: 'platform_stopped',
    });
    const launched = await waitForStatus(second, waiting.id, 'running');
    expect(launched.whetstone?.attempts.map((attempt) => attempt.launch)).toEqual([1]);
    expect((await call(second, 'POST', `/v1/fine_tuning/jobs/${waiting.id}/cancel`)).status).toBe(200);
    await waitForStatus(second, waiting.id, 'cancelled');
  });
});

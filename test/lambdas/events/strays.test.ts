import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FineTuningJob } from '../../../lib/core/schemas';
import { batchEvent } from '../../helpers/compute-events';
import {
  createJob,
  ensureTinyModel,
  hasStatus,
  trainerMetadata,
  uploadTrainingFile,
  waitForJob,
} from '../../helpers/jobs';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform';

/** A second compute job claiming a launch (a repeated submission) moves nothing and makes no model. */
describe('events of a stray compute job', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform();
    await ensureTinyModel(platform);
  });
  afterAll(() => platform?.stop());

  it('neither ends the job nor writes its fine-tuned model', async () => {
    // Prepare
    const file = await uploadTrainingFile(platform, platform.ownerKey);
    const created = (await (
      await createJob(platform, platform.ownerKey, {
        model: 'tiny-llama',
        training_file: file,
        metadata: trainerMetadata({ mode: 'run' }),
      })
    ).json()) as FineTuningJob;
    await waitForJob(platform, platform.ownerKey, created.id, hasStatus('running'));
    const { handler } = await import('../../../lambdas/events/batch-state-change');
    const { localInvocationContext } = await import('../../../lambdas/runtime/invocation');
    const stray = batchEvent({
      team: 'default',
      jobId: created.id,
      launch: 1,
      status: 'SUCCEEDED',
      computeJobId: 'stray-compute-job',
      ended: [{ exitCode: 0, reason: 'Essential container in task exited', startedAt: 1, stoppedAt: 2 }],
    });

    // Act
    await handler(stray, localInvocationContext('events', 60_000));

    // Assess
    const job = await waitForJob(platform, platform.ownerKey, created.id, () => true);
    expect(job.status).toBe('running');
    expect(job.fine_tuned_model).toBeNull();
    const models = (await (await platform.call(platform.ownerKey, 'GET', '/v1/models')).json()) as {
      data: { id: string }[];
    };
    expect(models.data.map((model) => model.id)).toEqual(['tiny-llama']);
    await platform.call(platform.ownerKey, 'POST', `/v1/fine_tuning/jobs/${created.id}/cancel`);
    await waitForJob(platform, platform.ownerKey, created.id, hasStatus('cancelled'));
  });
});

import { BatchClient, ClientException, SubmitJobCommand, TerminateJobCommand } from '@aws-sdk/client-batch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  BatchLauncher,
  LaunchFailedError,
  type LaunchRequest,
  TerminateFailedError,
} from '../../../lib/adapters';

const QUEUES = {
  'a10g:spot': { queue: 'whetstone-a10g-spot', jobDefinition: 'whetstone-trainer-gpu:3' },
  'none:on-demand': { queue: 'whetstone-cpu-on-demand', jobDefinition: 'whetstone-trainer-cpu:2' },
};

const REQUEST: LaunchRequest = {
  team: 'research',
  jobId: 'ftjob-01HZX3Y8K9M2N4P6Q8R0S2T4V6',
  launch: 2,
  specUri: 's3://whetstone-data/artifacts/research/ftjob-01HZX3Y8K9M2N4P6Q8R0S2T4V6/spec.json',
  gpuType: 'a10g',
  market: 'spot',
  attemptTimeoutSeconds: 7_200,
};

describe('BatchLauncher', () => {
  const batch = mockClient(BatchClient);
  let launcher: BatchLauncher;
  beforeEach(() => {
    batch.reset();
    launcher = new BatchLauncher(new BatchClient({ region: 'eu-west-1' }), QUEUES, {
      tableName: 'whetstone-table',
      bucketName: 'whetstone-data',
    });
  });

  it('places a job only where a queue is configured for its GPU type and market', () => {
    // Act
    const configured = launcher.placementProblem('a10g', 'spot');
    const missing = launcher.placementProblem('h100', 'on-demand');
    const nowhere = new BatchLauncher(new BatchClient({}), {}, { tableName: 't', bucketName: 'b' });

    // Assess
    expect(configured).toBeUndefined();
    expect(missing).toBe(
      "This deployment has no compute for gpu_type 'h100' on the 'on-demand' market; configured gpu_type:market pairs: 'a10g:spot', 'none:on-demand'.",
    );
    expect(nowhere.placementProblem('none', 'spot')).toBe(
      "This deployment has no compute for gpu_type 'none' on the 'spot' market; configured gpu_type:market pairs: none.",
    );
  });

  it('submits one Batch job with the trainer env, cost tags, the retry rule and the attempt timeout', async () => {
    // Prepare
    batch.on(SubmitJobCommand).resolves({
      jobId: '4c7599ae-0a82-49aa-ba5a-4727fcce14a8',
      jobName: 'x',
      jobArn: 'arn:aws:batch:eu-west-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8',
    });

    // Act
    const result = await launcher.submit(REQUEST);

    // Assess
    expect(result).toEqual({
      computeJobId: '4c7599ae-0a82-49aa-ba5a-4727fcce14a8',
      queue: 'whetstone-a10g-spot',
    });
    const calls = batch.commandCalls(SubmitJobCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      jobName: 'whetstone-research-ftjob-01HZX3Y8K9M2N4P6Q8R0S2T4V6-l2',
      jobQueue: 'whetstone-a10g-spot',
      jobDefinition: 'whetstone-trainer-gpu:3',
      containerOverrides: {
        environment: [
          { name: 'WHETSTONE_JOB_ID', value: 'ftjob-01HZX3Y8K9M2N4P6Q8R0S2T4V6' },
          { name: 'WHETSTONE_TEAM', value: 'research' },
          { name: 'WHETSTONE_LAUNCH', value: '2' },
          {
            name: 'WHETSTONE_SPEC_URI',
            value: 's3://whetstone-data/artifacts/research/ftjob-01HZX3Y8K9M2N4P6Q8R0S2T4V6/spec.json',
          },
          { name: 'WHETSTONE_TABLE', value: 'whetstone-table' },
          { name: 'WHETSTONE_BUCKET', value: 'whetstone-data' },
          { name: 'WHETSTONE_ENV', value: 'aws' },
        ],
      },
      tags: {
        'whetstone:team': 'research',
        'whetstone:job-id': 'ftjob-01HZX3Y8K9M2N4P6Q8R0S2T4V6',
        'whetstone:launch': '2',
      },
      propagateTags: true,
      retryStrategy: {
        attempts: 3,
        evaluateOnExit: [
          { onStatusReason: 'Host EC2*', action: 'RETRY' },
          { onExitCode: '143', action: 'RETRY' },
          { onReason: '*', action: 'EXIT' },
        ],
      },
      timeout: { attemptDurationSeconds: 7_200 },
    });
  });

  it("raises an attempt timeout under a minute to Batch's minimum of 60 seconds", async () => {
    // Prepare
    batch.on(SubmitJobCommand).resolves({ jobId: 'job-1', jobName: 'x', jobArn: 'arn' });

    // Act
    await launcher.submit({ ...REQUEST, gpuType: 'none', market: 'on-demand', attemptTimeoutSeconds: 5 });

    // Assess
    const input = batch.commandCalls(SubmitJobCommand)[0]?.args[0].input;
    expect(input?.timeout).toEqual({ attemptDurationSeconds: 60 });
    expect(input?.jobQueue).toBe('whetstone-cpu-on-demand');
    expect(input?.jobDefinition).toBe('whetstone-trainer-cpu:2');
  });

  it('wraps a refused SubmitJob in LaunchFailedError carrying the request and the SDK error', async () => {
    // Prepare
    const refusal = new ClientException({
      message: 'JobQueue whetstone-a10g-spot not found.',
      $metadata: {},
    });
    batch.on(SubmitJobCommand).rejects(refusal);

    // Act
    const error = await launcher.submit(REQUEST).catch((thrown: unknown) => thrown);

    // Assess
    expect(error).toBeInstanceOf(LaunchFailedError);
    expect((error as LaunchFailedError).message).toBe(
      'AWS Batch refused job ftjob-01HZX3Y8K9M2N4P6Q8R0S2T4V6 (launch 2) on queue whetstone-a10g-spot: ClientException: JobQueue whetstone-a10g-spot not found.',
    );
    expect((error as LaunchFailedError).request).toBe(REQUEST);
    expect((error as LaunchFailedError).cause).toBe(refusal);
  });

  it('refuses to submit where nothing is configured, without calling Batch', async () => {
    // Act
    const error = await launcher
      .submit({ ...REQUEST, gpuType: 'h100', market: 'spot' })
      .catch((thrown: unknown) => thrown);

    // Assess
    expect(error).toBeInstanceOf(LaunchFailedError);
    expect((error as Error).message).toBe(
      "This deployment has no compute for gpu_type 'h100' on the 'spot' market; configured gpu_type:market pairs: 'a10g:spot', 'none:on-demand'.",
    );
    expect(batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
  });

  it('terminates a compute job with the reason, cut to the 1024 characters TerminateJob allows', async () => {
    // Prepare
    batch.on(TerminateJobCommand).resolves({});

    // Act
    await launcher.terminate(
      { computeJobId: '4c7599ae-0a82-49aa-ba5a-4727fcce14a8', queue: 'whetstone-a10g-spot' },
      'Cancelled by user',
    );
    await launcher.terminate(
      { computeJobId: '5d8600bf-1b93-4a2b-8c5b-5838fddf25b9', queue: undefined },
      'x'.repeat(1_500),
    );

    // Assess
    const calls = batch.commandCalls(TerminateJobCommand);
    expect(calls.map((call) => call.args[0].input)).toEqual([
      { jobId: '4c7599ae-0a82-49aa-ba5a-4727fcce14a8', reason: 'Cancelled by user' },
      { jobId: '5d8600bf-1b93-4a2b-8c5b-5838fddf25b9', reason: 'x'.repeat(1_024) },
    ]);
  });

  it('wraps a failed TerminateJob in TerminateFailedError carrying the compute job id', async () => {
    // Prepare
    const failure = new Error('socket hang up');
    batch.on(TerminateJobCommand).rejects(failure);

    // Act
    const error = await launcher
      .terminate({ computeJobId: 'job-9', queue: undefined }, 'Paused by user')
      .catch((thrown: unknown) => thrown);

    // Assess
    expect(error).toBeInstanceOf(TerminateFailedError);
    expect((error as TerminateFailedError).message).toBe(
      'AWS Batch did not terminate compute job job-9: Error: socket hang up',
    );
    expect((error as TerminateFailedError).computeJobId).toBe('job-9');
    expect((error as TerminateFailedError).cause).toBe(failure);
  });
  describe('with queues in several regions', () => {
    const ACCOUNT = '123456789012';
    const REGIONAL_QUEUES = {
      'a10g:spot': {
        queue: `arn:aws:batch:us-west-2:${ACCOUNT}:job-queue/whetstone-a10g-spot`,
        jobDefinition: `arn:aws:batch:us-west-2:${ACCOUNT}:job-definition/whetstone-trainer-a10g`,
      },
      'a10g:on-demand': {
        queue: `arn:aws:batch:us-west-2:${ACCOUNT}:job-queue/whetstone-a10g-on-demand`,
        jobDefinition: `arn:aws:batch:us-west-2:${ACCOUNT}:job-definition/whetstone-trainer-a10g`,
      },
      'h100:spot': {
        queue: `arn:aws:batch:eu-central-1:${ACCOUNT}:job-queue/whetstone-h100-spot`,
        jobDefinition: `arn:aws:batch:eu-central-1:${ACCOUNT}:job-definition/whetstone-trainer-h100:4`,
      },
      'none:spot': { queue: 'whetstone-none-spot', jobDefinition: 'whetstone-trainer-none' },
    };
    let defaultClient: BatchClient;
    let regional: BatchLauncher;
    beforeEach(() => {
      defaultClient = new BatchClient({ region: 'eu-west-1' });
      regional = new BatchLauncher(defaultClient, REGIONAL_QUEUES, {
        tableName: 'whetstone-table',
        bucketName: 'whetstone-data',
      });
    });
    /** The region of the client each call of that command went through. */
    const regionsOf = (calls: { thisValue: BatchClient }[]) =>
      Promise.all(calls.map((call) => call.thisValue.config.region()));

    it("submits to a queue ARN through a client in the queue's region, with the ARNs as given", async () => {
      // Prepare
      batch.on(SubmitJobCommand).resolves({ jobId: 'job-west', jobName: 'x', jobArn: 'arn' });

      // Act
      const result = await regional.submit(REQUEST);

      // Assess
      expect(result).toEqual({ computeJobId: 'job-west', queue: REGIONAL_QUEUES['a10g:spot'].queue });
      const calls = batch.commandCalls(SubmitJobCommand);
      expect(await regionsOf(calls)).toEqual(['us-west-2']);
      expect(calls[0]?.thisValue).not.toBe(defaultClient);
      expect(calls[0]?.args[0].input).toMatchObject({
        jobQueue: 'arn:aws:batch:us-west-2:123456789012:job-queue/whetstone-a10g-spot',
        jobDefinition: 'arn:aws:batch:us-west-2:123456789012:job-definition/whetstone-trainer-a10g',
      });
    });

    it('makes one client per region on first use, and keeps plain queue names on the default client', async () => {
      // Prepare
      batch.on(SubmitJobCommand).resolves({ jobId: 'job-1', jobName: 'x', jobArn: 'arn' });

      // Act
      await regional.submit(REQUEST);
      await regional.submit({ ...REQUEST, market: 'on-demand' });
      await regional.submit({ ...REQUEST, gpuType: 'h100' });
      await regional.submit({ ...REQUEST, gpuType: 'none' });

      // Assess
      const calls = batch.commandCalls(SubmitJobCommand);
      expect(await regionsOf(calls)).toEqual(['us-west-2', 'us-west-2', 'eu-central-1', 'eu-west-1']);
      expect(calls[1]?.thisValue).toBe(calls[0]?.thisValue);
      expect(calls[2]?.thisValue).not.toBe(calls[0]?.thisValue);
      expect(calls[3]?.thisValue).toBe(defaultClient);
      expect(calls.map((call) => call.args[0].input.jobQueue)).toEqual([
        'arn:aws:batch:us-west-2:123456789012:job-queue/whetstone-a10g-spot',
        'arn:aws:batch:us-west-2:123456789012:job-queue/whetstone-a10g-on-demand',
        'arn:aws:batch:eu-central-1:123456789012:job-queue/whetstone-h100-spot',
        'whetstone-none-spot',
      ]);
    });

    it('terminates in the region of the queue the job was recorded on; without one, in the default region', async () => {
      // Prepare
      batch.on(TerminateJobCommand).resolves({});

      // Act
      await regional.terminate(
        { computeJobId: 'job-west', queue: REGIONAL_QUEUES['a10g:spot'].queue },
        'Cancelled by user',
      );
      await regional.terminate(
        { computeJobId: 'job-frankfurt', queue: REGIONAL_QUEUES['h100:spot'].queue },
        'Paused by user',
      );
      await regional.terminate({ computeJobId: 'job-old', queue: undefined }, 'Cancelled by user');

      // Assess
      const calls = batch.commandCalls(TerminateJobCommand);
      expect(await regionsOf(calls)).toEqual(['us-west-2', 'eu-central-1', 'eu-west-1']);
      expect(calls[2]?.thisValue).toBe(defaultClient);
      expect(calls.map((call) => call.args[0].input)).toEqual([
        { jobId: 'job-west', reason: 'Cancelled by user' },
        { jobId: 'job-frankfurt', reason: 'Paused by user' },
        { jobId: 'job-old', reason: 'Cancelled by user' },
      ]);
    });

    it('names the region of a failed TerminateJob, and refuses a queue that is no job queue ARN without calling Batch', async () => {
      // Prepare
      const failure = new Error('socket hang up');
      batch.on(TerminateJobCommand).rejects(failure);

      // Act
      const failed = await regional
        .terminate({ computeJobId: 'job-west', queue: REGIONAL_QUEUES['a10g:spot'].queue }, 'Stop')
        .catch((thrown: unknown) => thrown);
      const malformed = await regional
        .terminate({ computeJobId: 'job-x', queue: 'arn:aws:batch:us-west-2:job-queue/q' }, 'Stop')
        .catch((thrown: unknown) => thrown);

      // Assess
      expect((failed as TerminateFailedError).message).toBe(
        'AWS Batch did not terminate compute job job-west in us-west-2: Error: socket hang up',
      );
      expect(malformed).toBeInstanceOf(TerminateFailedError);
      expect((malformed as TerminateFailedError).message).toBe(
        "AWS Batch did not terminate compute job job-x: TypeError: 'arn:aws:batch:us-west-2:job-queue/q' is not a job queue name or ARN (arn:aws:batch:{region}:{account}:job-queue/{name})",
      );
      expect(batch.commandCalls(TerminateJobCommand)).toHaveLength(1);
    });
  });
});

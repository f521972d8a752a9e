import { describe, expect, it } from 'vitest';
import { batchTargetProblem, jobDefinitionLocation, jobQueueLocation } from '../../../lib/adapters';

describe('Batch queue and job definition references', () => {
  it('read the region and account of an ARN in any partition, and none from a plain name', () => {
    // Act
    const locations = [
      jobQueueLocation('arn:aws:batch:us-west-2:123456789012:job-queue/whetstone-a10g-spot'),
      jobQueueLocation('arn:aws-us-gov:batch:us-gov-west-1:123456789012:job-queue/q_1'),
      jobQueueLocation('arn:aws-cn:batch:cn-north-1:123456789012:job-queue/q'),
      jobQueueLocation('whetstone-a10g-spot'),
      jobDefinitionLocation('arn:aws:batch:eu-central-1:123456789012:job-definition/whetstone-trainer-a10g'),
      jobDefinitionLocation(
        'arn:aws:batch:eu-central-1:123456789012:job-definition/whetstone-trainer-a10g:7',
      ),
      jobDefinitionLocation('whetstone-trainer-a10g:3'),
    ];

    // Assess
    expect(locations).toEqual([
      { region: 'us-west-2', account: '123456789012' },
      { region: 'us-gov-west-1', account: '123456789012' },
      { region: 'cn-north-1', account: '123456789012' },
      undefined,
      { region: 'eu-central-1', account: '123456789012' },
      { region: 'eu-central-1', account: '123456789012' },
      undefined,
    ]);
  });

  it.each([
    'arn:aws:batch:us-west-2:job-queue/q',
    'arn:aws:batch:us-west-2:12345:job-queue/q',
    'arn:aws:batch:us-west-2:123456789012:job-definition/q',
    'arn:aws:sqs:us-west-2:123456789012:job-queue/q',
    'arn:aws:batch::123456789012:job-queue/q',
    'arn:aws:batch:us-west-2:123456789012:job-queue/',
    'queue name with spaces',
    '',
  ])('refuse %j as a job queue', (queue) => {
    // Act
    const read = () => jobQueueLocation(queue);

    // Assess
    expect(read).toThrow(
      `'${queue}' is not a job queue name or ARN (arn:aws:batch:{region}:{account}:job-queue/{name})`,
    );
  });

  it('find a target Batch would refuse, naming the field and what it must be', () => {
    // Prepare
    const queue = 'arn:aws:batch:us-west-2:123456789012:job-queue/whetstone-a10g-spot';

    // Act
    const problems = [
      batchTargetProblem({ queue, jobDefinition: 'arn:aws:batch:us-west-2:123456789012:job-definition/d' }),
      batchTargetProblem({ queue, jobDefinition: 'd:2' }),
      batchTargetProblem({
        queue: 'q',
        jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/d',
      }),
      batchTargetProblem({ queue: 'arn:aws:batch:us-west-2:job-queue/q', jobDefinition: 'd' }),
      batchTargetProblem({ queue, jobDefinition: 'd:0' }),
      batchTargetProblem({ queue, jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/d' }),
      batchTargetProblem({ queue, jobDefinition: 'arn:aws:batch:us-west-2:999999999999:job-definition/d' }),
    ];

    // Assess
    expect(problems).toEqual([
      undefined,
      undefined,
      undefined,
      {
        field: 'queue',
        message:
          "must be a job queue name or ARN (arn:aws:batch:{region}:{account}:job-queue/{name}), not 'arn:aws:batch:us-west-2:job-queue/q'",
      },
      {
        field: 'jobDefinition',
        message:
          "must be a job definition name, name:revision or ARN (arn:aws:batch:{region}:{account}:job-definition/{name}[:{revision}]), not 'd:0'",
      },
      {
        field: 'jobDefinition',
        message:
          "must be in the queue's region and account (us-west-2, 123456789012), not (us-east-1, 123456789012)",
      },
      {
        field: 'jobDefinition',
        message:
          "must be in the queue's region and account (us-west-2, 123456789012), not (us-west-2, 999999999999)",
      },
    ]);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { emfDocument, emfLine, writeToStdout } from '../../../lambdas/runtime/emf';

describe('Embedded Metric Format', () => {
  it('gives each metric its own directive and dimension set, all values on the root', () => {
    // Act
    const line = emfLine(
      'Whetstone',
      [
        { name: 'JobStatusChanges', value: 1, unit: 'Count', dimensions: { Status: 'failed' } },
        { name: 'StuckJobsCancelled', value: 1, unit: 'Count', dimensions: {} },
      ],
      1_700_000_000_123.7,
    );

    // Assess
    expect(line).toBe(
      JSON.stringify({
        _aws: {
          Timestamp: 1_700_000_000_123,
          CloudWatchMetrics: [
            {
              Namespace: 'Whetstone',
              Dimensions: [['Status']],
              Metrics: [{ Name: 'JobStatusChanges', Unit: 'Count' }],
            },
            {
              Namespace: 'Whetstone',
              Dimensions: [[]],
              Metrics: [{ Name: 'StuckJobsCancelled', Unit: 'Count' }],
            },
          ],
        },
        Status: 'failed',
        JobStatusChanges: 1,
        StuckJobsCancelled: 1,
      }),
    );
    expect(line).not.toContain('\n');
  });

  it('refuses a document CloudWatch would reject or misread', () => {
    // Prepare
    const count = (name: string, dimensions: Record<string, string> = {}) => ({
      name,
      value: 1,
      unit: 'Count' as const,
      dimensions,
    });

    // Act
    const empty = () => emfDocument('Whetstone', [], 0);
    const clash = () =>
      emfDocument('Whetstone', [count('A', { Status: 'failed' }), count('B', { Status: 'succeeded' })], 0);
    const metricAsDimension = () => emfDocument('Whetstone', [count('A', { A: 'x' })], 0);
    const notFinite = () => emfDocument('Whetstone', [{ ...count('A'), value: Number.NaN }], 0);
    const blankDimension = () => emfDocument('Whetstone', [count('A', { Status: '' })], 0);
    const shared = emfDocument('Whetstone', [count('A', { Status: 'x' }), count('B', { Status: 'x' })], 0);

    // Assess
    expect(empty).toThrow('an EMF document holds 1 to 100 metrics, not 0');
    expect(clash).toThrow("EMF member 'Status' would carry two values (failed, succeeded)");
    expect(metricAsDimension).toThrow("EMF member 'A' would carry two values (x, 1)");
    expect(notFinite).toThrow("metric 'A' is not a finite number");
    expect(blankDimension).toThrow("dimension 'Status' needs 1 to 1024 characters");
    expect(shared).toMatchObject({ Status: 'x', A: 1, B: 1 });
  });

  it('writes a line to stdout as it is, without the console prefix', () => {
    // Prepare
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);

    // Act
    writeToStdout('{"_aws":{}}');

    // Assess
    expect(write).toHaveBeenCalledWith('{"_aws":{}}\n');
    write.mockRestore();
  });
});

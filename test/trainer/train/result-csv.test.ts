import { describe, expect, it } from 'vitest';
import { TrainingConfigError } from '../../../trainer/src/engine/errors';
import { RESULT_COLUMNS, resultCsv } from '../../../trainer/src/train/result-csv';

/** A metrics.jsonl line as fine-tune writes it after each step. */
function stepLine(step: number, trainLoss: number, trainAccuracy: number): string {
  return JSON.stringify({
    step,
    epoch: 1,
    train_loss: trainLoss,
    train_mean_token_accuracy: trainAccuracy,
    learning_rate: 0.0001,
    grad_norm: 1.25,
    tokens_per_second: 812.5,
  });
}

/** A metrics.jsonl line as fine-tune writes it after an evaluation. */
function evaluationLine(step: number, validLoss: number, validAccuracy: number): string {
  return JSON.stringify({ step, valid_loss: validLoss, valid_mean_token_accuracy: validAccuracy });
}

describe('resultCsv', () => {
  it("writes OpenAI's columns in OpenAI's order", () => {
    // Act
    const csv = resultCsv('');

    // Assess
    expect(RESULT_COLUMNS).toEqual([
      'step',
      'train_loss',
      'train_accuracy',
      'valid_loss',
      'valid_mean_token_accuracy',
    ]);
    expect(csv).toBe('step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n');
  });

  it('writes one row per step, validation columns only where an evaluation ran, without step 0', () => {
    // Prepare: the untrained model's evaluation, then three steps with an evaluation at the epoch end
    const metrics = [
      evaluationLine(0, 3.5, 0.125),
      stepLine(1, 3.25, 0.25),
      stepLine(2, 2.5, 0.375),
      stepLine(3, 2, 0.5),
      evaluationLine(3, 2.25, 0.4375),
      '',
    ].join('\n');

    // Act
    const csv = resultCsv(metrics);

    // Assess
    expect(csv).toBe(
      [
        'step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy',
        '1,3.25,0.25,,',
        '2,2.5,0.375,,',
        '3,2,0.5,2.25,0.4375',
        '',
      ].join('\n'),
    );
  });

  it('orders rows by step whatever order the lines came in, and merges lines of one step', () => {
    // Prepare: a resumed run appends steps after ones already written
    const metrics = [
      stepLine(2, 2.5, 0.375),
      evaluationLine(2, 2.75, 0.3125),
      stepLine(1, 3.25, 0.25),
      '   ',
    ].join('\n');

    // Act
    const csv = resultCsv(metrics);

    // Assess
    expect(csv.split('\n')).toEqual([
      'step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy',
      '1,3.25,0.25,,',
      '2,2.5,0.375,2.75,0.3125',
      '',
    ]);
  });

  it('writes six significant digits without trailing zeros, and no value for a non-finite number', () => {
    // Prepare: JSON cannot carry NaN, so a non-finite loss arrives as a huge exponent
    const metrics = [
      stepLine(1, 2.123456789, 0.1),
      stepLine(2, 0.000012345678, 1),
      '{"step": 3, "train_loss": 1e400, "train_mean_token_accuracy": 0.5}',
      JSON.stringify({ step: 4, train_loss: 12345.678, train_mean_token_accuracy: 0.999999999 }),
      JSON.stringify({ step: 5, train_loss: 150000.2, train_mean_token_accuracy: 1.5e-7 }),
    ].join('\n');

    // Act
    const rows = resultCsv(metrics).trimEnd().split('\n').slice(1);

    // Assess
    expect(rows).toEqual([
      '1,2.12346,0.1,,',
      '2,0.0000123457,1,,',
      '3,,0.5,,',
      '4,12345.7,1,,',
      '5,150000,1.5e-7,,',
    ]);
  });

  it('leaves a cell empty when the line carries no number for it', () => {
    // Prepare
    const metrics = JSON.stringify({ step: 1, train_loss: 'n/a', train_mean_token_accuracy: null });

    // Act
    const csv = resultCsv(metrics);

    // Assess
    expect(csv.split('\n')[1]).toBe('1,,,,');
  });

  it('names the file and line of a line that is not JSON', () => {
    // Prepare
    const metrics = [stepLine(1, 3, 0.5), '{"step": 2, "train_loss": '].join('\n');

    // Act
    const failure = thrownBy(() => resultCsv(metrics, 'out/metrics.jsonl'));

    // Assess
    expect(failure).toBeInstanceOf(TrainingConfigError);
    expect((failure as TrainingConfigError).setting).toBe('metrics');
    expect(failure.message).toBe(
      `out/metrics.jsonl line 2 is not JSON: ${thrownBy(() => JSON.parse('{"step": 2, "train_loss": ')).message}`,
    );
  });

  it.each([
    ['missing', { train_loss: 1 }],
    ['a string', { step: '1', train_loss: 1 }],
    ['fractional', { step: 1.5, train_loss: 1 }],
    ['negative', { step: -1, train_loss: 1 }],
  ])('refuses a line whose step is %s, naming the line', (_, line) => {
    // Prepare
    const metrics = ['', JSON.stringify(line)].join('\n');

    // Act
    const failure = thrownBy(() => resultCsv(metrics));

    // Assess
    expect(failure).toBeInstanceOf(TrainingConfigError);
    expect(failure.message).toBe('metrics.jsonl line 2 has no integer "step"');
  });
});

function thrownBy(act: () => unknown): Error {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

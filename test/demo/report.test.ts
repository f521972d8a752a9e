import { describe, expect, it } from 'vitest';
import {
  artifactsTable,
  attemptsTable,
  excerpt,
  formatBytes,
  formatDuration,
  mergeMetrics,
  metricsTable,
  progressLine,
  samplesTable,
} from '../../demo/report';
import type { JobAttempt } from '../../lib/core/schemas';

describe('progressLine', () => {
  it('shows step, epoch, loss, accuracy, throughput and ETA', () => {
    // Act
    const line = progressLine({
      step: 37,
      total_steps: 135,
      epoch: 1.2666,
      train_loss: 0.41234,
      train_mean_token_accuracy: 0.8712,
      learning_rate: 1e-4,
      tokens_per_second: 1234.4,
      eta_seconds: 65,
    });

    // Assess
    expect(line).toBe('step 37/135 (epoch 1.27)  loss 0.4123  acc 87.1%  1,234 tok/s  ETA 1m 05s');
  });

  it('shows only what an evaluation event carries', () => {
    // Act
    const line = progressLine({ step: 45, total_steps: 135, valid_loss: 0.2 });

    // Assess
    expect(line).toBe('step 45/135  valid loss 0.2000');
  });
});

describe('mergeMetrics', () => {
  it("adds an evaluation's scores to the last training step's figures", () => {
    // Prepare
    const training = { step: 44, total_steps: 135, epoch: 0.98, train_loss: 1.07, tokens_per_second: 4140 };

    // Act
    const evaluated = mergeMetrics(training, { step: 45, valid_loss: 0.956, valid_mean_token_accuracy: 0.9 });
    const next = mergeMetrics(evaluated, { step: 46, total_steps: 135, epoch: 1.02, train_loss: 0.95 });

    // Assess
    expect(evaluated).toEqual({ ...training, valid_loss: 0.956, valid_mean_token_accuracy: 0.9 });
    expect(next).toEqual({
      step: 46,
      total_steps: 135,
      epoch: 1.02,
      train_loss: 0.95,
      tokens_per_second: 4140,
      valid_loss: 0.956,
      valid_mean_token_accuracy: 0.9,
    });
  });
});

describe('formatDuration and formatBytes', () => {
  it('read as people write them', () => {
    // Act
    const durations = [3725, 187, 42, -3].map(formatDuration);
    const sizes = [999, 1000, 123_456, 23_456_789].map(formatBytes);

    // Assess
    expect(durations).toEqual(['1h 02m', '3m 07s', '42s', '0s']);
    expect(sizes).toEqual(['999 B', '1.0 kB', '123 kB', '23.5 MB']);
  });
});

describe('metricsTable', () => {
  it('sets base against tuned, with changes in loss and in percentage points', () => {
    // Act
    const table = metricsTable({
      validation_examples: 80,
      base: { valid_loss: 5.4321, valid_mean_token_accuracy: 0.1, exact_match: 0, exact_match_examples: 80 },
      tuned: {
        valid_loss: 0.25,
        valid_mean_token_accuracy: 0.9,
        exact_match: 0.9125,
        exact_match_examples: 80,
      },
    });

    // Assess
    expect(table).toBe(
      [
        'validation metric            base  fine-tuned     change',
        '-------------------------  ------  ----------  ---------',
        'loss                       5.4321      0.2500    -5.1821',
        'mean token accuracy         10.0%       90.0%  +80.0 pts',
        'exact match (80 examples)    0.0%       91.3%  +91.3 pts',
      ].join('\n'),
    );
  });

  it('shows a dash where a score is missing', () => {
    // Act
    const table = metricsTable({
      validation_examples: 0,
      base: { valid_loss: null, valid_mean_token_accuracy: null, exact_match: null, exact_match_examples: 0 },
      tuned: { valid_loss: 1, valid_mean_token_accuracy: 0.5, exact_match: null, exact_match_examples: 0 },
    });

    // Assess
    expect(table.split('\n').slice(2)).toEqual([
      'loss                         -      1.0000       -',
      'mean token accuracy          -       50.0%       -',
      'exact match (0 examples)     -           -       -',
    ]);
  });
});

describe('samplesTable', () => {
  it("puts each sample's e-mail, reference and both answers on one line", () => {
    // Act
    const table = samplesTable(
      [
        {
          index: 3,
          messages: [
            { role: 'system', content: 'Label the e-mail as spam or ham.' },
            {
              role: 'user',
              content: 'Subject: Cheap meds\n\nBuy now, limited offer for our valued customers',
            },
          ],
          reference: 'spam',
          base: 'the\nLord said',
          tuned: 'spam',
        },
        { index: 9, prompt: 'Subject: Re: [ILUG] cases', reference: 'ham', base: '', tuned: 'ham' },
        { index: 12, prompt: 'Subject: third', reference: 'ham', base: 'x', tuned: 'ham' },
      ],
      2,
    );

    // Assess
    expect(table).toBe(
      [
        '#  prompt                                        expected  base           fine-tuned',
        '-  --------------------------------------------  --------  -------------  ----------',
        '3  Subject: Cheap meds Buy now, limited offe...  spam      the Lord said  spam',
        '9  Subject: Re: [ILUG] cases                     ham       ""             ham',
      ].join('\n'),
    );
  });

  it('cuts long text with an ellipsis within the width', () => {
    // Act
    const cut = excerpt('one two three four', 10);

    // Assess
    expect(cut).toBe('one two...');
  });
});

describe('artifactsTable', () => {
  it('lists artifacts by path with sizes, one line per checkpoint folder', () => {
    // Act
    const table = artifactsTable([
      { path: 'result.csv', bytes: 4567, url: 'u' },
      { path: 'adapter/adapter_model.safetensors', bytes: 123_456, url: 'u' },
      { path: 'checkpoints/step-45/adapter_model.safetensors', bytes: 123_456, url: 'u' },
      { path: 'checkpoints/step-45/optimizer.bin', bytes: 2000, url: 'u' },
      { path: 'checkpoints/step-90/state.json', bytes: 300, url: 'u' },
      { path: 'eval/metrics.json', bytes: 412, url: 'u' },
    ]);

    // Assess
    expect(table).toBe(
      [
        'path                                 size',
        '---------------------------------  ------',
        'adapter/adapter_model.safetensors  123 kB',
        'checkpoints/step-45/ (2 files)     125 kB',
        'checkpoints/step-90/ (1 file)       300 B',
        'eval/metrics.json                   412 B',
        'result.csv                         4.6 kB',
      ].join('\n'),
    );
  });
});

describe('attemptsTable', () => {
  it('shows each attempt with its duration, exit code and reason', () => {
    // Prepare
    const attempt = (overrides: Partial<JobAttempt>): JobAttempt =>
      ({
        launch: 1,
        attempt: 1,
        compute_job_id: 'local-1',
        started_at: null,
        stopped_at: null,
        exit_code: null,
        reason: null,
        instance_type: null,
        market: null,
        ...overrides,
      }) as JobAttempt;

    // Act
    const table = attemptsTable([
      attempt({
        started_at: 1_735_689_600,
        stopped_at: 1_735_689_825,
        exit_code: 143,
        reason: 'SIGTERM',
        instance_type: 'local',
      }),
      attempt({ attempt: 2, started_at: 1_735_689_900 }),
    ]);

    // Assess
    expect(table).toBe(
      [
        'launch  attempt  started (UTC)  duration  exit  instance  reason',
        '------  -------  -------------  --------  ----  --------  -------',
        '     1        1  00:00:00         3m 45s   143  local     SIGTERM',
        '     1        2  00:05:00              -     -  -         -',
      ].join('\n'),
    );
  });
});

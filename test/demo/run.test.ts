import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_HYPERPARAMETERS, DEMO_OPTIONS, DEMO_SEED, DEMO_SUFFIX, parseArguments } from '../../demo/run';
import { createJobRequestSchema } from '../../lib/core/schemas';
import { DEMO_BASE_MODEL } from '../../lib/local/base-models';

describe('parseArguments', () => {
  it('takes the data dir from --data-dir, else WHETSTONE_DATA_DIR, else .whetstone', () => {
    // Act
    const given = parseArguments(['--data-dir', 'somewhere']);
    const joined = parseArguments(['--data-dir=elsewhere']);
    const fromEnv = parseArguments([], { WHETSTONE_DATA_DIR: '/tmp/state' });
    const byDefault = parseArguments([], {});

    // Assess
    expect(given.dataDir).toBe(resolve('somewhere'));
    expect(joined.dataDir).toBe(resolve('elsewhere'));
    expect(fromEnv.dataDir).toBe('/tmp/state');
    expect(byDefault.dataDir).toBe(resolve('.whetstone'));
  });

  it('refuses anything else, naming it', () => {
    // Act
    const failure = (() => {
      try {
        return parseArguments(['--keep']);
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect(failure).toEqual(new Error('usage: npm run demo [-- --data-dir DIR]; unknown argument: --keep'));
  });
});

describe("the demo job's request", () => {
  it('is one the create route accepts, with fixed hyperparameters', () => {
    // Prepare
    const body = {
      model: DEMO_BASE_MODEL.id,
      training_file: 'file-train',
      validation_file: 'file-valid',
      suffix: DEMO_SUFFIX,
      seed: DEMO_SEED,
      method: { type: 'supervised', supervised: { hyperparameters: DEMO_HYPERPARAMETERS } },
      whetstone: DEMO_OPTIONS,
    };

    // Act
    const parsed = createJobRequestSchema.safeParse(body);

    // Assess
    expect(parsed.error?.issues).toBeUndefined();
    expect(Object.values(DEMO_HYPERPARAMETERS)).not.toContain('auto');
  });
});

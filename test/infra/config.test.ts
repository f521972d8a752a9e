import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InfraConfigError, loadWhetstoneConfig, parseWhetstoneConfig } from '../../lib/infra';

describe('the deployment configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'whetstone-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fills every field from its default for an empty object', () => {
    // Act
    const config = parseWhetstoneConfig({});

    // Assess
    expect(config).toEqual({
      deploymentName: 'whetstone',
      controlRegion: 'us-east-1',
      logRetentionDays: 30,
      storage: { noncurrentVersionDays: 30, abortIncompleteMultipartUploadDays: 7, accessLogDays: 90 },
      api: { throttleRatePerSecond: 50, throttleBurst: 100, authorizerCacheSeconds: 60, corsOrigins: [] },
      alarms: { apiServerErrorPercent: 5 },
      budgets: { alertPercents: [80, 100] },
      compute: {
        regions: {
          'us-east-1': {
            queues: [
              {
                gpuType: 'none',
                markets: ['spot', 'on-demand'],
                instanceTypes: ['c7i.4xlarge', 'm7i.4xlarge'],
                maxVcpus: 256,
                rootVolumeGiB: 200,
              },
            ],
          },
        },
        stuckRunnableMinutes: 60,
        attemptTimeoutHours: 24,
        registryScanning: true,
      },
    });
  });

  it.each([
    [
      { deploymentName: 'Whetstone' },
      'whetstone.config.json: deploymentName: must be 2-21 lower-case letters, digits or hyphens, starting with a letter',
    ],
    [{ account: '1234' }, 'whetstone.config.json: account: must be a 12-digit AWS account id'],
    [
      { controlRegion: 'mars-1' },
      'whetstone.config.json: controlRegion: must be an AWS region such as us-east-1',
    ],
    [
      { logRetentionDays: 10 },
      "whetstone.config.json: logRetentionDays: must be one of CloudWatch Logs' retention periods: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ],
    [
      { storage: { noncurrentVersionDays: 0 } },
      'whetstone.config.json: storage.noncurrentVersionDays: Too small: expected number to be >=1',
    ],
    [{ regions: ['us-east-1'] }, 'whetstone.config.json: (root): Unrecognized key: "regions"'],
    [
      { api: { corsOrigins: ['console.example.com'] } },
      'whetstone.config.json: api.corsOrigins[0]: must be an origin such as https://console.example.com (scheme, host, port; no path)',
    ],
    [
      { api: { corsOrigins: ['https://console.example.com/app'] } },
      'whetstone.config.json: api.corsOrigins[0]: must be an origin such as https://console.example.com (scheme, host, port; no path)',
    ],
    [
      { api: { corsOrigins: ['https://*.example.com'] } },
      'whetstone.config.json: api.corsOrigins[0]: must be an origin such as https://console.example.com (scheme, host, port; no path)',
    ],
    [{ alarms: { email: 'ops' } }, 'whetstone.config.json: alarms.email: must be an e-mail address'],
    [
      { budgets: { monthlyUsd: 500 } },
      'whetstone.config.json: budgets.monthlyUsd: needs alarms.email to notify',
    ],
    [
      { alarms: { email: 'ops@example.com' }, budgets: { monthlyUsd: 0 } },
      'whetstone.config.json: budgets.monthlyUsd: Too small: expected number to be >0',
    ],
    [
      { budgets: { alertPercents: [80, 80] } },
      'whetstone.config.json: budgets.alertPercents: must not repeat a percentage',
    ],
    [
      { budgets: { alertPercents: [50, 80, 100, 120, 150] } },
      'whetstone.config.json: budgets.alertPercents: must list at most 4 percentages: with the forecast alert, a budget holds 5 notifications',
    ],
    [
      {
        compute: { regions: { 'us-east-1': { queues: [{ gpuType: 'tpu', instanceTypes: ['c7i.large'] }] } } },
      },
      'whetstone.config.json: compute.regions.us-east-1.queues[0].gpuType: Invalid option: expected one of "none"|"a10g"|"l4"|"l40s"|"a100"|"h100"',
    ],
  ])('refuses %j naming the field', (input, message) => {
    // Act / Assess
    expect(() => parseWhetstoneConfig(input)).toThrow(InfraConfigError);
    expect(() => parseWhetstoneConfig(input)).toThrow(message);
  });

  it('keeps a monthly budget and its alert percentages when an alarm e-mail address is set', () => {
    // Act
    const config = parseWhetstoneConfig({
      alarms: { email: 'ops@example.com' },
      budgets: { monthlyUsd: 1200.5, alertPercents: [50, 100, 150] },
    });

    // Assess
    expect(config.budgets).toEqual({ monthlyUsd: 1200.5, alertPercents: [50, 100, 150] });
  });

  it('reads the documented example, which states every default', () => {
    // Act
    const example = loadWhetstoneConfig(join(__dirname, '..', '..', 'whetstone.config.example.json'));

    // Assess
    expect(example).toEqual(parseWhetstoneConfig({}));
  });

  it('reads a file, and names the file when it is not JSON', () => {
    // Prepare
    const good = join(dir, 'good.json');
    const bad = join(dir, 'bad.json');
    writeFileSync(good, JSON.stringify({ deploymentName: 'ml-platform', controlRegion: 'eu-west-1' }));
    writeFileSync(bad, '{ "deploymentName": ');

    // Act
    const config = loadWhetstoneConfig(good);

    // Assess
    expect(config).toMatchObject({ deploymentName: 'ml-platform', controlRegion: 'eu-west-1' });
    expect(() => loadWhetstoneConfig(bad)).toThrow(new RegExp(`^${bad}: \\(root\\): is not JSON: `));
    expect(() => loadWhetstoneConfig(join(dir, 'missing.json'))).toThrow(
      new RegExp(`^${join(dir, 'missing.json')}: \\(root\\): cannot be read: ENOENT`),
    );
  });
});

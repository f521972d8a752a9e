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
  ])('refuses %j naming the field', (input, message) => {
    // Act / Assess
    expect(() => parseWhetstoneConfig(input)).toThrow(InfraConfigError);
    expect(() => parseWhetstoneConfig(input)).toThrow(message);
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

import { describe, expect, it } from 'vitest';
import { isPublicAddress, nonPublicHostProblem } from '../../../lib/core/webhooks';

describe('webhook destinations', () => {
  it.each([
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.31.255.255', false],
    ['192.168.0.10', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['fd00::1', false],
    ['fe80::1', false],
    ['::ffff:10.0.0.1', false],
    ['::7f00:1', false],
    ['64:ff9b::a00:1', false],
    ['2002:a00:1::1', false],
    ['fec0::1', false],
    ['203.0.113.9', false],
    ['8.8.8.8', true],
    ['172.32.0.1', true],
    ['2606:4700::1111', true],
    ['::ffff:1.1.1.1', true],
    ['not-an-ip', false],
  ])('%s is public: %s', (address, expected) => {
    // Act
    const result = isPublicAddress(address);

    // Assess
    expect(result).toBe(expected);
  });

  it('names what is wrong with a host, and passes public names and addresses', () => {
    // Act
    const problems = [
      'localhost',
      'api.localhost',
      '[::1]',
      '169.254.169.254',
      'hooks.example.com',
      '1.1.1.1',
    ].map(nonPublicHostProblem);

    // Assess
    expect(problems).toEqual([
      "'localhost' is this machine",
      "'api.localhost' is this machine",
      '[::1] is not a public address',
      '169.254.169.254 is not a public address',
      undefined,
      undefined,
    ]);
  });
});

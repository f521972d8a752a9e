import { describe, expect, it } from 'vitest';
import { InfraConfigError, parseWhetstoneConfig } from '../../lib/infra';
import { queueKinds, trainerResources } from '../../lib/infra/compute-config';
import { familyInstanceTypes, GPU_FAMILIES, instanceSize } from '../../lib/infra/instance-types';
import twoRegions from './fixtures/two-regions.json';

/** A configuration whose compute is `regions`, the rest defaults. */
function withRegions(regions: Record<string, unknown>): unknown {
  return { compute: { regions } };
}

describe('the compute configuration', () => {
  it.each([
    [
      'an instance type of no supported family',
      withRegions({ 'us-east-1': { queues: [{ gpuType: 'none', instanceTypes: ['t3.large'] }] } }),
      "compute.regions.us-east-1.queues[0].instanceTypes[0]: 't3.large' is not a supported instance type (families: c7i, m7i, g5, g6, g6e, p4d, p5)",
    ],
    [
      'a name that is no instance type',
      withRegions({ 'us-east-1': { queues: [{ gpuType: 'a10g', instanceTypes: ['g5.xlarge', 'g5'] }] } }),
      "compute.regions.us-east-1.queues[0].instanceTypes[1]: 'g5' is not a supported instance type (families: c7i, m7i, g5, g6, g6e, p4d, p5)",
    ],
    [
      "an instance type of another gpuType's family",
      withRegions({
        'us-east-1': { queues: [{ gpuType: 'l4', instanceTypes: ['g6.xlarge', 'g5.2xlarge'] }] },
      }),
      "compute.regions.us-east-1.queues[0].instanceTypes[1]: 'g5.2xlarge' does not belong to gpuType 'l4' (families: g6)",
    ],
    [
      'a GPU instance type in a CPU queue',
      withRegions({ 'us-east-1': { queues: [{ gpuType: 'none', instanceTypes: ['g5.xlarge'] }] } }),
      "compute.regions.us-east-1.queues[0].instanceTypes[0]: 'g5.xlarge' does not belong to gpuType 'none' (families: c7i, m7i)",
    ],
    [
      'a size the family does not have',
      withRegions({ 'eu-west-1': { queues: [{ gpuType: 'a10g', instanceTypes: ['g5.3xlarge'] }] } }),
      "compute.regions.eu-west-1.queues[0].instanceTypes[0]: 'g5.3xlarge' is not a g5 size (g5.xlarge, g5.2xlarge, g5.4xlarge, g5.8xlarge, g5.12xlarge, g5.16xlarge, g5.24xlarge, g5.48xlarge)",
    ],
    [
      'an instance type listed twice',
      withRegions({
        'us-east-1': {
          queues: [{ gpuType: 'none', instanceTypes: ['c7i.large', 'm7i.large', 'c7i.large'] }],
        },
      }),
      "compute.regions.us-east-1.queues[0].instanceTypes[2]: 'c7i.large' is listed twice",
    ],
    [
      "maxVcpus below the largest type's vCPUs",
      withRegions({
        'us-east-1': {
          queues: [{ gpuType: 'a10g', instanceTypes: ['g5.xlarge', 'g5.12xlarge'], maxVcpus: 32 }],
        },
      }),
      'compute.regions.us-east-1.queues[0].maxVcpus: 32 is below the 48 vCPUs of g5.12xlarge, so that type could never be launched',
    ],
    [
      'two entries for one gpuType in a region',
      withRegions({
        'us-east-1': {
          queues: [
            { gpuType: 'none', markets: ['spot'], instanceTypes: ['c7i.large'] },
            { gpuType: 'none', markets: ['on-demand'], instanceTypes: ['m7i.large'] },
          ],
        },
      }),
      "compute.regions.us-east-1.queues[1].gpuType: 'none' already has queues[0] in this region; list every market in that entry",
    ],
    [
      'one gpuType:market pair in two regions',
      withRegions({
        'us-east-1': { queues: [{ gpuType: 'a10g', instanceTypes: ['g5.xlarge'] }] },
        'us-west-2': { queues: [{ gpuType: 'a10g', markets: ['on-demand'], instanceTypes: ['g5.xlarge'] }] },
      }),
      "compute.regions.us-west-2.queues[0].markets[0]: 'a10g:on-demand' is already served by compute.regions.us-east-1.queues[0]; each gpuType:market pair has one queue in the whole deployment",
    ],
    [
      'a market listed twice',
      withRegions({
        'us-east-1': {
          queues: [{ gpuType: 'none', markets: ['spot', 'spot'], instanceTypes: ['c7i.large'] }],
        },
      }),
      "compute.regions.us-east-1.queues[0].markets[1]: 'spot' is listed twice",
    ],
    [
      'no compute region',
      withRegions({}),
      'compute.regions: must name at least one region; without compute no fine-tuning job can run',
    ],
  ])('refuses %s, naming the field', (_case, input, message) => {
    // Act / Assess
    expect(() => parseWhetstoneConfig(input)).toThrow(InfraConfigError);
    expect(() => parseWhetstoneConfig(input)).toThrow(`whetstone.config.json: ${message}`);
  });

  it('accepts compute regions that leave out the control region', () => {
    // Act
    const config = parseWhetstoneConfig({
      controlRegion: 'eu-central-1',
      ...(withRegions({
        'us-west-2': { queues: [{ gpuType: 'h100', instanceTypes: ['p5.48xlarge'] }] },
      }) as object),
    });

    // Assess
    expect(Object.keys(config.compute.regions)).toEqual(['us-west-2']);
  });

  it('reads the two-region fixture', () => {
    // Act
    const config = parseWhetstoneConfig(twoRegions);

    // Assess
    expect(queueKinds(config.compute)).toEqual([
      { region: 'us-east-1', gpuType: 'a10g', market: 'spot' },
      { region: 'us-east-1', gpuType: 'a10g', market: 'on-demand' },
      { region: 'us-east-1', gpuType: 'none', market: 'spot' },
      { region: 'us-east-1', gpuType: 'none', market: 'on-demand' },
      { region: 'us-west-2', gpuType: 'l4', market: 'on-demand' },
    ]);
  });
});

describe('trainerResources', () => {
  it.each([
    // The whole smallest CPU instance, 90 % of its memory.
    [
      { gpuType: 'none', instanceTypes: ['c7i.4xlarge', 'm7i.4xlarge'] },
      { vcpus: 16, memoryMiB: 29491, gpus: 0 },
    ],
    // One GPU and what comes with it: g5.12xlarge's per-GPU share (12 vCPUs, 48 GiB) exceeds g5.xlarge's.
    [
      { gpuType: 'a10g', instanceTypes: ['g5.12xlarge', 'g5.xlarge'] },
      { vcpus: 4, memoryMiB: 14745, gpus: 1 },
    ],
    // An eighth of a p4d.24xlarge, so eight jobs share one instance.
    [
      { gpuType: 'a100', instanceTypes: ['p4d.24xlarge'] },
      { vcpus: 12, memoryMiB: 132710, gpus: 1 },
    ],
    [
      { gpuType: 'l40s', instanceTypes: ['g6e.2xlarge'] },
      { vcpus: 8, memoryMiB: 58982, gpus: 1 },
    ],
  ] as const)('sizes a job on %j as %j', (queue, expected) => {
    // Act / Assess
    expect(trainerResources({ gpuType: queue.gpuType, instanceTypes: [...queue.instanceTypes] })).toEqual(
      expected,
    );
  });
});

describe('the instance type table', () => {
  it('knows every family GPU_FAMILIES names, with GPUs exactly on GPU families', () => {
    // Assess
    for (const [gpuType, families] of Object.entries(GPU_FAMILIES)) {
      for (const family of families) {
        const types = familyInstanceTypes(family);
        expect(types.length, family).toBeGreaterThan(0);
        for (const type of types) {
          const size = instanceSize(type);
          expect(size?.gpus === 0, type).toBe(gpuType === 'none');
        }
      }
    }
    expect(instanceSize('g6e.12xlarge')).toEqual({ vcpus: 48, memoryGiB: 384, gpus: 4 });
    expect(instanceSize('p5.48xlarge')).toEqual({ vcpus: 192, memoryGiB: 2048, gpus: 8 });
    expect(instanceSize('m7i.48xlarge')).toEqual({ vcpus: 192, memoryGiB: 768, gpus: 0 });
  });
});

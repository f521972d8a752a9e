import { z } from 'zod';
import { GPU_TYPES, type GpuType, MARKETS, type Market } from '../core/schemas';
import {
  familyInstanceTypes,
  GPU_FAMILIES,
  instanceSize,
  KNOWN_FAMILIES,
  splitInstanceType,
} from './instance-types';

export const REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/;

/**
 * Share of an instance's (or GPU slice's) nominal memory a job asks for. ECS registers less than
 * the nominal figure (the kernel, the agent and Docker keep some), and a job asking for more than
 * the registered memory stays RUNNABLE forever; 90 % clears that on every size in the table.
 */
export const JOB_MEMORY_SHARE = 0.9;

/** One queue kind in one region: the instances its jobs run on, and the markets it buys them in. */
export const queueConfigSchema = z
  .strictObject({
    /** The `gpu_type` jobs ask for; `none` runs the engine's native CPU back end. */
    gpuType: z.enum(GPU_TYPES),
    /** `spot` makes a spot-first queue that falls back to on-demand; `on-demand` an on-demand-only queue. */
    markets: z.array(z.enum(MARKETS)).min(1).default(['spot', 'on-demand']),
    /** EC2 instance types the compute environments may launch, e.g. `g5.2xlarge`; see instance-types.ts. */
    instanceTypes: z.array(z.string()).min(1),
    /** Upper bound on the vCPUs each compute environment runs at once. */
    maxVcpus: z.number().int().positive().default(256),
    /** GiB of the encrypted root volume: the image, the base model, the data and checkpoints. */
    rootVolumeGiB: z.number().int().min(30).max(16384).default(200),
  })
  .superRefine((queue, ctx) => {
    const allowed = GPU_FAMILIES[queue.gpuType];
    const seen = new Set<string>();
    let largest: { type: string; vcpus: number } | undefined;
    queue.instanceTypes.forEach((type, index) => {
      const path = ['instanceTypes', index];
      const parts = splitInstanceType(type);
      if (!parts || !KNOWN_FAMILIES.includes(parts.family)) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `'${type}' is not a supported instance type (families: ${KNOWN_FAMILIES.join(', ')})`,
        });
        return;
      }
      if (!allowed.includes(parts.family)) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `'${type}' does not belong to gpuType '${queue.gpuType}' (families: ${allowed.join(', ')})`,
        });
        return;
      }
      const size = instanceSize(type);
      if (!size) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `'${type}' is not a ${parts.family} size (${familyInstanceTypes(parts.family).join(', ')})`,
        });
        return;
      }
      if (seen.has(type)) {
        ctx.addIssue({ code: 'custom', path, message: `'${type}' is listed twice` });
        return;
      }
      seen.add(type);
      if (!largest || size.vcpus > largest.vcpus) largest = { type, vcpus: size.vcpus };
    });
    if (largest && queue.maxVcpus < largest.vcpus) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxVcpus'],
        message: `${queue.maxVcpus} is below the ${largest.vcpus} vCPUs of ${largest.type}, so that type could never be launched`,
      });
    }
  });

export const computeRegionSchema = z
  .strictObject({
    queues: z.array(queueConfigSchema).min(1),
  })
  .superRefine((region, ctx) => {
    // One job definition per gpuType and stack, named by the gpuType alone.
    const first = new Map<GpuType, number>();
    region.queues.forEach((queue, index) => {
      const earlier = first.get(queue.gpuType);
      if (earlier === undefined) {
        first.set(queue.gpuType, index);
        return;
      }
      ctx.addIssue({
        code: 'custom',
        path: ['queues', index, 'gpuType'],
        message: `'${queue.gpuType}' already has queues[${earlier}] in this region; list every market in that entry`,
      });
    });
  });

/**
 * Where training runs. Absent, one CPU queue in the control region.
 *
 * The control region need not be among the compute regions: nothing there depends on a compute
 * stack (the API lambdas name queues and job definitions by their deterministic ARNs, and other
 * regions forward Batch events to the control region's default bus, which always exists), so a
 * deployment may keep its API in one region and train only where GPUs are cheap or available.
 */
export const computeConfigSchema = z
  .strictObject({
    /** Region -> its queues; each region gets its own compute stack. */
    regions: z.record(
      z.string().regex(REGION_PATTERN, 'must be an AWS region such as us-east-1'),
      computeRegionSchema,
    ),
    /** A job still RUNNABLE (no capacity) this long is cancelled by Batch. */
    stuckRunnableMinutes: z.number().int().min(10).max(1440).default(60),
    /** One attempt's wall-clock limit. */
    attemptTimeoutHours: z.number().int().min(1).max(336).default(24),
    /** Turn on scan-on-push for the CDK asset repositories (replaces the region's registry scanning configuration). */
    registryScanning: z.boolean().default(true),
  })
  .superRefine((compute, ctx) => {
    if (Object.keys(compute.regions).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['regions'],
        message: 'must name at least one region; without compute no fine-tuning job can run',
      });
      return;
    }
    // The launcher picks a queue by `{gpuType}:{market}` alone, whatever the region.
    const served = new Map<string, string>();
    for (const [region, { queues }] of Object.entries(compute.regions)) {
      queues.forEach((queue, index) => {
        queue.markets.forEach((market, marketIndex) => {
          const key = `${queue.gpuType}:${market}`;
          const where = `regions.${region}.queues[${index}]`;
          const earlier = served.get(key);
          if (earlier === undefined) {
            served.set(key, where);
            return;
          }
          ctx.addIssue({
            code: 'custom',
            path: ['regions', region, 'queues', index, 'markets', marketIndex],
            message:
              earlier === where
                ? `'${market}' is listed twice`
                : `'${key}' is already served by compute.${earlier}; each gpuType:market pair has one queue in the whole deployment`,
          });
        });
      });
    }
  });

export type QueueConfig = z.infer<typeof queueConfigSchema>;
export type ComputeRegionConfig = z.infer<typeof computeRegionSchema>;
export type ComputeConfig = z.infer<typeof computeConfigSchema>;

/** The compute a configuration without `compute` gets: one CPU queue in the control region. */
export function defaultCompute(controlRegion: string): z.input<typeof computeConfigSchema> {
  return {
    regions: {
      [controlRegion]: { queues: [{ gpuType: 'none', instanceTypes: ['c7i.4xlarge', 'm7i.4xlarge'] }] },
    },
  };
}

/** What one trainer job asks Batch for: its container's resource requirements. */
export interface TrainerResources {
  readonly vcpus: number;
  readonly memoryMiB: number;
  /** 1 on GPU queues, 0 on CPU queues. */
  readonly gpus: number;
}

/**
 * A queue's job size, derived from its instance types so that a job fits every type listed.
 *
 * The engine trains in one process on one device, so a GPU job asks for one GPU and the share of
 * the instance's vCPUs and memory that goes with one GPU: on a multi-GPU size (g5.12xlarge,
 * p4d.24xlarge) Batch then places one job per GPU instead of leaving all but one GPU idle, and on
 * single-GPU sizes the job gets the whole instance. A CPU job gets the whole smallest instance:
 * the native back end uses every core it is given. Memory is `JOB_MEMORY_SHARE` of the nominal
 * figure, in whole MiB.
 */
export function trainerResources(queue: Pick<QueueConfig, 'gpuType' | 'instanceTypes'>): TrainerResources {
  const gpus = queue.gpuType === 'none' ? 0 : 1;
  const slices = queue.instanceTypes.map((type) => {
    const size = instanceSize(type);
    if (!size) throw new Error(`Unknown instance type '${type}'; the configuration schema refuses it`);
    const perJob = gpus > 0 ? Math.max(size.gpus, 1) : 1;
    return { vcpus: Math.floor(size.vcpus / perJob), memoryMiB: (size.memoryGiB * 1024) / perJob };
  });
  return {
    vcpus: Math.min(...slices.map((slice) => slice.vcpus)),
    memoryMiB: Math.floor(JOB_MEMORY_SHARE * Math.min(...slices.map((slice) => slice.memoryMiB))),
    gpus,
  };
}

/** One queue of the deployment: where it runs and the launcher key it serves. */
export interface QueueKind {
  readonly region: string;
  readonly gpuType: GpuType;
  readonly market: Market;
}

/** Every queue the configuration creates, in configuration order (for `WHETSTONE_JOB_QUEUES` and event rules). */
export function queueKinds(compute: Pick<ComputeConfig, 'regions'>): QueueKind[] {
  return Object.entries(compute.regions).flatMap(([region, { queues }]) =>
    queues.flatMap((queue) => queue.markets.map((market) => ({ region, gpuType: queue.gpuType, market }))),
  );
}

import { z } from 'zod';
import { GPU_TYPES, MARKETS } from '../core/schemas';

export const REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/;

/** One queue kind in one region: the instances its jobs run on, and the markets it buys them in. */
export const queueConfigSchema = z.strictObject({
  /** The `gpu_type` jobs ask for; `none` runs the engine's native CPU back end. */
  gpuType: z.enum(GPU_TYPES),
  /** `spot` makes a spot-first queue that falls back to on-demand; `on-demand` an on-demand-only queue. */
  markets: z.array(z.enum(MARKETS)).min(1).default(['spot', 'on-demand']),
  /** EC2 instance types the compute environments may launch, e.g. `g5.2xlarge`. */
  instanceTypes: z.array(z.string()).min(1),
  /** Upper bound on the vCPUs each compute environment runs at once. */
  maxVcpus: z.number().int().positive().default(256),
  /** GiB of the encrypted root volume: the image, the base model, the data and checkpoints. */
  rootVolumeGiB: z.number().int().min(30).max(16384).default(200),
});

export const computeRegionSchema = z.strictObject({
  queues: z.array(queueConfigSchema).min(1),
});

/** Where training runs. Absent, one CPU queue in the control region. */
export const computeConfigSchema = z.strictObject({
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

import type { GpuType } from '../core/schemas';

/** What an EC2 instance size offers, as the EC2 documentation lists it. */
export interface InstanceSize {
  readonly vcpus: number;
  /** Nominal memory; ECS registers somewhat less for containers. */
  readonly memoryGiB: number;
  /** Accelerators of the family's GPU type; 0 on CPU families. */
  readonly gpus: number;
}

/**
 * The families each `gpu_type` runs on: CPU jobs on compute- and general-purpose Intel families
 * (the native back end uses AVX-512 when present), GPU jobs on the family carrying that GPU.
 * Every family is x86_64, since a Batch job queue's compute environments must share one
 * architecture and the trainer image is built for linux/amd64.
 */
export const GPU_FAMILIES: Readonly<Record<GpuType, readonly string[]>> = {
  none: ['c7i', 'm7i'],
  a10g: ['g5'],
  l4: ['g6'],
  l40s: ['g6e'],
  a100: ['p4d'],
  h100: ['p5'],
};

/** Sizes of the common x7i ladder, 2 vCPUs at `large` to 192 at `48xlarge`. */
function intelLadder(memoryPerVcpuGiB: number): Record<string, InstanceSize> {
  const vcpus: Record<string, number> = {
    large: 2,
    xlarge: 4,
    '2xlarge': 8,
    '4xlarge': 16,
    '8xlarge': 32,
    '12xlarge': 48,
    '16xlarge': 64,
    '24xlarge': 96,
    '48xlarge': 192,
  };
  return Object.fromEntries(
    Object.entries(vcpus).map(([size, count]) => [
      size,
      { vcpus: count, memoryGiB: count * memoryPerVcpuGiB, gpus: 0 },
    ]),
  );
}

/** g5 and g6 share vCPU counts and GPU counts; g6e has twice the memory per size. */
function gpuLadder(memoryPerVcpuGiB: number): Record<string, InstanceSize> {
  const sizes: Record<string, [vcpus: number, gpus: number]> = {
    xlarge: [4, 1],
    '2xlarge': [8, 1],
    '4xlarge': [16, 1],
    '8xlarge': [32, 1],
    '16xlarge': [64, 1],
    '12xlarge': [48, 4],
    '24xlarge': [96, 4],
    '48xlarge': [192, 8],
  };
  return Object.fromEntries(
    Object.entries(sizes).map(([size, [vcpus, gpus]]) => [
      size,
      { vcpus, memoryGiB: vcpus * memoryPerVcpuGiB, gpus },
    ]),
  );
}

const FAMILY_SIZES: Readonly<Record<string, Readonly<Record<string, InstanceSize>>>> = {
  c7i: intelLadder(2),
  m7i: intelLadder(4),
  g5: gpuLadder(4),
  g6: gpuLadder(4),
  g6e: gpuLadder(8),
  p4d: { '24xlarge': { vcpus: 96, memoryGiB: 1152, gpus: 8 } },
  p5: {
    '4xlarge': { vcpus: 16, memoryGiB: 256, gpus: 1 },
    '48xlarge': { vcpus: 192, memoryGiB: 2048, gpus: 8 },
  },
};

/** `g5.2xlarge` -> its family and size; undefined for a name of another shape. */
export function splitInstanceType(name: string): { family: string; size: string } | undefined {
  const match = /^([a-z0-9-]+)\.([a-z0-9-]+)$/.exec(name);
  return match ? { family: match[1] as string, size: match[2] as string } : undefined;
}

/** The size of a listed instance type; undefined when the table does not know it. */
export function instanceSize(name: string): InstanceSize | undefined {
  const parts = splitInstanceType(name);
  return parts ? FAMILY_SIZES[parts.family]?.[parts.size] : undefined;
}

/** Every instance type of a family the table knows, smallest first; empty for an unknown family. */
export function familyInstanceTypes(family: string): string[] {
  const sizes = FAMILY_SIZES[family] ?? {};
  return Object.entries(sizes)
    .sort(([, a], [, b]) => a.vcpus - b.vcpus)
    .map(([size]) => `${family}.${size}`);
}

/** The families the table knows, in GPU_FAMILIES order. */
export const KNOWN_FAMILIES: readonly string[] = Object.values(GPU_FAMILIES).flat();

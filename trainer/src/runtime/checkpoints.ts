import { join } from 'node:path';
import { z } from 'zod';
import { KEPT_CHECKPOINTS } from '../../../lib/core/jobs';
import { TrainerInputError } from './errors';
import type { ListedUri, ObjectsByUri } from './objects';

/** Written last into each checkpoint folder: a checkpoint without it was cut short and is never resumed from. */
export const CHECKPOINT_INDEX = 'checkpoint.json';

const checkpointIndexSchema = z.object({
  step: z.number().int().min(1),
  files: z.array(z.object({ path: z.string(), bytes: z.number().int().min(0), sha256: z.string() })),
});
type CheckpointIndex = z.infer<typeof checkpointIndexSchema>;

export interface StoredCheckpoint {
  readonly step: number;
  /** The checkpoint's folder URI, ending in `/`. */
  readonly uri: string;
}

/** Uploads a local checkpoint folder to `{checkpointsUri}step-N/`, its index last. */
export async function uploadCheckpoint(
  objects: ObjectsByUri,
  dir: string,
  checkpointsUri: string,
  step: number,
): Promise<StoredCheckpoint> {
  const uri = `${checkpointsUri}step-${step}/`;
  const files = await objects.uploadDir(dir, uri);
  const index: CheckpointIndex = {
    step,
    files: files.map(({ relative, bytes, sha256 }) => ({ path: relative, bytes, sha256 })),
  };
  await objects.put(`${uri}${CHECKPOINT_INDEX}`, `${JSON.stringify(index, null, 2)}\n`, 'application/json');
  return { step, uri };
}

/** The job's complete checkpoints, newest first. */
export async function completeCheckpoints(
  objects: ObjectsByUri,
  checkpointsUri: string,
): Promise<StoredCheckpoint[]> {
  return stepFolders(checkpointsUri, await objects.list(checkpointsUri))
    .filter((folder) => folder.complete)
    .map(({ step, uri }) => ({ step, uri }));
}

export interface PrunedCheckpoints {
  /** Steps of the complete checkpoints kept, newest first. */
  readonly kept: number[];
  /** Steps whose folders were deleted, complete or cut short, oldest first. */
  readonly deleted: number[];
}

/**
 * Deletes every checkpoint folder below the newest complete checkpoint that is not one of the
 * newest `keep` complete ones: older complete checkpoints, and folders cut short (by a killed
 * attempt), which no attempt resumes from. Nothing at or above the newest complete checkpoint is
 * touched, so neither the checkpoint the next attempt resumes from nor one being written is.
 *
 * A folder loses its index first, so a deletion cut short leaves a checkpoint that is no longer
 * complete (never resumed from, deleted by the next call) rather than a complete one missing files.
 */
export async function pruneCheckpoints(
  objects: ObjectsByUri,
  checkpointsUri: string,
  keep: number = KEPT_CHECKPOINTS,
): Promise<PrunedCheckpoints> {
  const folders = stepFolders(checkpointsUri, await objects.list(checkpointsUri));
  const kept = folders.filter((folder) => folder.complete).slice(0, keep);
  const newest = kept[0];
  if (!newest) return { kept: [], deleted: [] };
  const doomed = folders.filter((folder) => folder.step < newest.step && !kept.includes(folder)).reverse();
  for (const folder of doomed) {
    if (folder.complete) await objects.delete(`${folder.uri}${CHECKPOINT_INDEX}`);
    await objects.deleteFolder(folder.uri);
  }
  return { kept: kept.map((folder) => folder.step), deleted: doomed.map((folder) => folder.step) };
}

interface StepFolder extends StoredCheckpoint {
  /** Whether its index is there. */
  readonly complete: boolean;
}

/** The `step-N/` folders among listed objects, newest first; other keys are left out. */
function stepFolders(checkpointsUri: string, listed: readonly ListedUri[]): StepFolder[] {
  const folders = new Map<number, StepFolder>();
  for (const object of listed) {
    const match = /^step-(0|[1-9][0-9]*)\/(.*)$/.exec(object.relative);
    if (!match) continue;
    const step = Number(match[1]);
    const complete = match[2] === CHECKPOINT_INDEX || folders.get(step)?.complete === true;
    folders.set(step, { step, uri: `${checkpointsUri}step-${step}/`, complete });
  }
  return [...folders.values()].sort((a, b) => b.step - a.step);
}

/**
 * Downloads a checkpoint into `dir`, each file checked against the index's size and SHA-256.
 * Returns a problem instead when the checkpoint is unusable (its index unreadable, a file changed).
 */
export async function downloadCheckpoint(
  objects: ObjectsByUri,
  checkpoint: StoredCheckpoint,
  dir: string,
): Promise<{ readonly problem: string } | { readonly problem: null }> {
  const text = await objects.text(`${checkpoint.uri}${CHECKPOINT_INDEX}`);
  const parsed = checkpointIndexSchema.safeParse(text === undefined ? undefined : safeJson(text));
  if (!parsed.success || parsed.data.step !== checkpoint.step) {
    return { problem: `${checkpoint.uri}${CHECKPOINT_INDEX} is missing or unreadable` };
  }
  for (const file of parsed.data.files) {
    if (file.path.split('/').some((part) => part === '..' || part === '.' || part === '')) {
      return {
        problem: `${checkpoint.uri}${CHECKPOINT_INDEX} names a path outside the checkpoint: ${file.path}`,
      };
    }
    const uri = `${checkpoint.uri}${file.path}`;
    if ((await objects.size(uri)) !== file.bytes) {
      return { problem: `${uri} is missing or not the ${file.bytes} bytes the checkpoint recorded` };
    }
    let sha256: string;
    try {
      ({ sha256 } = await objects.download(uri, join(dir, ...file.path.split('/')), file.bytes));
    } catch (error) {
      // Changed or deleted since its size was read: this checkpoint is unusable, an older one may not be.
      if (error instanceof TrainerInputError) return { problem: error.message };
      throw error;
    }
    if (sha256 !== file.sha256)
      return { problem: `${uri} does not have the SHA-256 the checkpoint recorded` };
  }
  return { problem: null };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

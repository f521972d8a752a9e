import { createHash } from 'node:crypto';

export interface HashedFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** One hash for a folder of files: SHA-256 over its sorted `path bytes sha256` lines. */
export function folderSha256(files: readonly HashedFile[]): string {
  const lines = [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((file) => `${file.path} ${file.bytes} ${file.sha256}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}

/**
 * `manifest.json`: what a job's outputs were made from and how, enough to reproduce them: the
 * engine and back end, the inputs by hash, and the settings as resolved.
 */
export interface JobManifest {
  readonly manifest_version: 1;
  readonly job_id: string;
  readonly team: string;
  readonly engine: { readonly name: 'whetstone'; readonly version: string; readonly backend: string };
  readonly base_model: {
    readonly id: string;
    readonly uri: string;
    readonly sha256: string;
    readonly files: readonly HashedFile[];
  };
  readonly parent: { readonly uri: string; readonly sha256: string } | null;
  readonly training_file: { readonly id: string; readonly bytes: number; readonly sha256: string };
  readonly validation_file: { readonly id: string; readonly bytes: number; readonly sha256: string } | null;
  readonly spec: { readonly uri: string; readonly sha256: string };
  readonly hyperparameters: {
    readonly n_epochs: number;
    readonly batch_size: number;
    readonly learning_rate_multiplier: number;
  };
  /** The engine's settings the hyperparameters and options became. */
  readonly training: Readonly<Record<string, unknown>>;
  readonly seed: number;
  readonly outputs: readonly HashedFile[];
  /** The launch and attempt that finished the job, and the step it resumed at (0: from the start). */
  readonly finished_by: {
    readonly launch: number;
    readonly attempt: number;
    readonly resumed_at_step: number;
  };
  readonly created_at: number;
}

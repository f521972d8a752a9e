import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { newId } from '../../../lib/core/ids';
import type { JobSpec } from '../../../lib/core/jobs';
import { objectKeys } from '../../../lib/core/storage';
import type { FineTuneSummary } from '../train';
import type { LocalInputs } from './downloads';
import type { TrainerEnv } from './env';
import { folderSha256, type HashedFile, type JobManifest } from './manifest';
import type { ObjectsByUri } from './objects';
import type { JobRecords } from './records';

const ENGINE_VERSION: string = (require('../../../package.json') as { version: string }).version;
/** Folders of the output directory that are stored whole, when the run wrote them. */
const OUTPUT_FOLDERS = ['adapter', 'model', 'eval'] as const;
const OUTPUT_FILES = ['metrics.jsonl', 'result.csv', 'summary.json'] as const;

export interface StoreOutputsOptions {
  readonly objects: ObjectsByUri;
  readonly records: JobRecords;
  readonly env: TrainerEnv;
  /** The run's output directory (fineTune's outDir). */
  readonly outDir: string;
  readonly summary: FineTuneSummary;
  /** What the manifest records besides the outputs. */
  readonly manifest: {
    readonly spec: JobSpec;
    readonly specText: string;
    readonly inputs: LocalInputs;
    readonly hyperparameters: JobManifest['hyperparameters'];
    readonly training: JobManifest['training'];
  };
}

/**
 * Stores a finished run under the job's artifacts folder: the adapter or model, eval/, metrics,
 * result.csv and summary, then `manifest.json` with every output's hash. result.csv is also stored
 * as a `fine-tune-results` file, whose id is returned for the job's `result_files`.
 */
export async function storeOutputs(options: StoreOutputsOptions): Promise<{ resultFileId: string }> {
  const { objects, records, env, outDir, summary } = options;
  const artifactsUri = `s3://${env.bucket}/${objectKeys.artifacts(env.team, env.jobId)}`;
  const outputs: HashedFile[] = [];
  for (const folder of OUTPUT_FOLDERS) {
    if (!summary.outputs.includes(folder)) continue;
    for (const file of await objects.uploadDir(join(outDir, folder), `${artifactsUri}${folder}/`)) {
      outputs.push({ path: `${folder}/${file.relative}`, bytes: file.bytes, sha256: file.sha256 });
    }
  }
  for (const file of OUTPUT_FILES) {
    outputs.push({ path: file, ...(await objects.upload(join(outDir, file), `${artifactsUri}${file}`)) });
  }

  const resultFileId = newId('file');
  const resultCsv = join(outDir, 'result.csv');
  await objects.upload(
    resultCsv,
    `s3://${env.bucket}/${objectKeys.file(env.team, resultFileId)}`,
    'text/csv',
  );
  await records.resultFile(resultFileId, 'result.csv', (await stat(resultCsv)).size);

  const { spec, specText, inputs, hyperparameters, training } = options.manifest;
  const manifest: JobManifest = {
    manifest_version: 1,
    job_id: env.jobId,
    team: env.team,
    engine: { name: 'whetstone', version: ENGINE_VERSION, backend: summary.backend },
    base_model: {
      id: spec.model.base,
      uri: spec.model.uri,
      sha256: folderSha256(inputs.model.files),
      files: inputs.model.files,
    },
    parent: inputs.parent,
    training_file: { id: spec.training_file.id, ...inputs.trainHash },
    validation_file:
      spec.validation_file && inputs.validationHash
        ? { id: spec.validation_file.id, ...inputs.validationHash }
        : null,
    spec: { uri: env.specUri, sha256: createHash('sha256').update(specText).digest('hex') },
    hyperparameters,
    training,
    seed: spec.seed,
    outputs,
    finished_by: { launch: env.launch, attempt: env.attempt, resumed_at_step: summary.resumedAtStep },
    created_at: Math.floor(Date.now() / 1000),
  };
  await objects.put(
    `${artifactsUri}manifest.json`,
    `${JSON.stringify(manifest, null, 2)}\n`,
    'application/json',
  );
  return { resultFileId };
}

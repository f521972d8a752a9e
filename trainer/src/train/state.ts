import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { DeviceBuffer } from '../engine/backend';
import { EngineError } from '../engine/errors';
import { MalformedModelFileError } from '../model/errors';
import type { LlamaModel } from '../model/llama';
import {
  formatShape,
  type HostTensor,
  readSafetensors,
  readSafetensorsHeader,
  writeAtomically,
  writeSafetensors,
} from '../model/safetensors';

export const TENSORS_FILE = 'training_state.safetensors';
export const PROGRESS_FILE = 'trainer_state.json';
const FORMAT = 'whetstone-training-state';
const VERSION = 1;

/** AdamW's first and second moments, each laid out as the model's trainable buffer. */
export interface OptimizerMoments {
  readonly m: DeviceBuffer;
  readonly v: DeviceBuffer;
}

/** Everything besides the tensors that a resumed run needs to continue as if never stopped. */
export interface TrainingProgress {
  /** Optimizer steps taken. */
  readonly step: number;
  /** The training generator's four words (Random.state()). */
  readonly rng: readonly number[];
  /**
   * Where in the data the next step starts (epoch, batch, shuffle seed...), as the caller keeps it:
   * a plain JSON object (typed `object` so that interfaces pass), returned as saved.
   */
  readonly dataPosition: object;
  /** The run's settings (hyperparameters), so a resume can check or reuse them; plain JSON as well. */
  readonly meta: object;
}

/** One trainable parameter's place in the trainable buffer, as the tensors file records it. */
export interface SavedParameter {
  readonly name: string;
  readonly offset: number;
  readonly shape: readonly number[];
}

/**
 * Saves a resumable training state in `dir`: `training_state.safetensors` (the whole trainable
 * buffer and AdamW's m and v as flat F32 tensors `trainable`, `adam_m`, `adam_v`, with the
 * trainable parameters' names, offsets and shapes in the header metadata) and `trainer_state.json`
 * (step, generator state, data position, meta). Each file is replaced atomically; both carry one
 * random id, so a pair from two different saves is refused. Values are read back from the device as
 * fp32, so the state restores bit for bit on f32 back ends.
 */
export async function saveTrainingState(
  dir: string,
  model: LlamaModel,
  moments: OptimizerMoments,
  progress: TrainingProgress,
): Promise<void> {
  const { parameters, backend } = model;
  const length = parameters.trainable.length;
  checkMoments(moments, length);
  checkProgress(progress);
  const read = async (buffer: DeviceBuffer, what: string): Promise<HostTensor> => {
    const data = await backend.read(buffer);
    if (!(data instanceof Float32Array)) throw new EngineError(`${what} did not read as f32`);
    return { shape: [length], data };
  };
  const tensors = new Map([
    ['trainable', await read(parameters.trainable, 'the trainable buffer')],
    ['adam_m', await read(moments.m, 'the optimizer moment m')],
    ['adam_v', await read(moments.v, 'the optimizer moment v')],
  ]);
  const checkpoint = randomBytes(8).toString('hex');
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, TENSORS_FILE), tensors, {
    metadata: {
      format: FORMAT,
      version: String(VERSION),
      checkpoint,
      parameters: JSON.stringify(layoutOf(model)),
    },
  });
  const json = {
    format: FORMAT,
    version: VERSION,
    checkpoint,
    step: progress.step,
    rng_state: [...progress.rng],
    data_position: progress.dataPosition,
    meta: progress.meta,
  };
  await writeAtomically(join(dir, PROGRESS_FILE), async (handle) => {
    await handle.writeFile(`${JSON.stringify(json, null, 2)}\n`, 'utf8');
  });
}

/**
 * Restores a state saved by {@link saveTrainingState} into the model's trainable buffer and the
 * given moments, exactly, and returns its progress. A state whose trainable parameters (names,
 * order, shapes) differ from the model's is refused, naming the first that differs.
 */
export async function loadTrainingState(
  dir: string,
  model: LlamaModel,
  moments: OptimizerMoments,
): Promise<TrainingProgress> {
  const { parameters, backend } = model;
  const length = parameters.trainable.length;
  checkMoments(moments, length);
  const { checkpoint, progress } = await readProgress(dir);

  const file = join(dir, TENSORS_FILE);
  const header = await readSafetensorsHeader(file);
  const metadata = header.metadata;
  if (metadata.format !== FORMAT) {
    throw new MalformedModelFileError(
      `"__metadata__.format" is ${describe(metadata.format)}, expected "${FORMAT}"`,
      { file, field: '__metadata__.format' },
    );
  }
  if (metadata.version !== String(VERSION)) {
    throw new MalformedModelFileError(
      `"__metadata__.version" ${describe(metadata.version)} is not supported; supported: "${VERSION}"`,
      { file, field: '__metadata__.version' },
    );
  }
  if (metadata.checkpoint !== checkpoint) {
    throw new MalformedModelFileError(
      `belongs to another save than ${PROGRESS_FILE} ("checkpoint" ${describe(metadata.checkpoint)}, not "${checkpoint}")`,
      { file, field: '__metadata__.checkpoint' },
    );
  }
  checkLayout(file, readLayout(file, metadata.parameters), layoutOf(model));
  for (const name of ['trainable', 'adam_m', 'adam_v']) {
    const entry = header.tensors.get(name);
    if (!entry) {
      throw new MalformedModelFileError(`tensor "${name}" is missing`, { file, field: name });
    }
    if (entry.dtype !== 'F32') {
      throw new MalformedModelFileError(`tensor "${name}" has dtype ${entry.dtype}, expected F32`, {
        file,
        field: name,
      });
    }
    if (formatShape(entry.shape) !== formatShape([length])) {
      throw new MalformedModelFileError(
        `tensor "${name}" has shape ${formatShape(entry.shape)}, expected ${formatShape([length])}`,
        { file, field: name },
      );
    }
  }

  const tensors = await readSafetensors(file, { names: new Set(['trainable', 'adam_m', 'adam_v']) });
  backend.write(parameters.trainable, tensors.get('trainable')!.data);
  backend.write(moments.m, tensors.get('adam_m')!.data);
  backend.write(moments.v, tensors.get('adam_v')!.data);
  return progress;
}

/** Reads `trainer_state.json` alone: a resume can learn the step and settings before building a model. */
export async function readTrainingProgress(dir: string): Promise<TrainingProgress> {
  return (await readProgress(dir)).progress;
}

/** The trainable parameters in buffer order. */
export function layoutOf(model: LlamaModel): SavedParameter[] {
  return model.parameters
    .trainableParameters()
    .sort((left, right) => left.offset - right.offset)
    .map(({ name, offset, shape }) => ({ name, offset, shape: [...shape] }));
}

async function readProgress(dir: string): Promise<{ checkpoint: string; progress: TrainingProgress }> {
  const file = join(dir, PROGRESS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MalformedModelFileError(`not found in ${dirname(file)}`, { file, cause: error });
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MalformedModelFileError(`invalid JSON: ${(error as Error).message}`, { file, cause: error });
  }
  const fail = (field: string, problem: string) =>
    new MalformedModelFileError(`"${field}" ${problem}`, { file, field });
  if (!isObject(json)) {
    throw new MalformedModelFileError(`must hold a JSON object, not ${describe(json)}`, { file });
  }
  if (json.format !== FORMAT) throw fail('format', `is ${describe(json.format)}, expected "${FORMAT}"`);
  if (json.version !== VERSION) {
    throw fail('version', `${describe(json.version)} is not supported; supported: ${VERSION}`);
  }
  if (typeof json.checkpoint !== 'string')
    throw fail('checkpoint', `must be a string, not ${describe(json.checkpoint)}`);
  if (!Number.isSafeInteger(json.step) || (json.step as number) < 0) {
    throw fail('step', `must be a non-negative integer, not ${describe(json.step)}`);
  }
  if (!isGeneratorState(json.rng_state)) {
    throw fail('rng_state', `must be four unsigned 32-bit integers, not ${describe(json.rng_state)}`);
  }
  if (!isObject(json.data_position)) {
    throw fail('data_position', `must be an object, not ${describe(json.data_position)}`);
  }
  if (!isObject(json.meta)) throw fail('meta', `must be an object, not ${describe(json.meta)}`);
  return {
    checkpoint: json.checkpoint,
    progress: {
      step: json.step as number,
      rng: json.rng_state,
      dataPosition: json.data_position,
      meta: json.meta,
    },
  };
}

function readLayout(file: string, text: string | undefined): SavedParameter[] {
  const fail = () =>
    new MalformedModelFileError('"__metadata__.parameters" must list the trainable parameters as JSON', {
      file,
      field: '__metadata__.parameters',
    });
  if (text === undefined) {
    throw new MalformedModelFileError('"__metadata__.parameters" is missing', {
      file,
      field: '__metadata__.parameters',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw fail();
  }
  const valid =
    Array.isArray(json) &&
    json.every(
      (entry) =>
        isObject(entry) &&
        typeof entry.name === 'string' &&
        Number.isSafeInteger(entry.offset) &&
        Array.isArray(entry.shape) &&
        entry.shape.every((size) => Number.isSafeInteger(size) && size >= 0),
    );
  if (!valid) throw fail();
  return json as SavedParameter[];
}

/** The saved layout must equal the model's, entry by entry; the first difference is the error. */
function checkLayout(file: string, saved: readonly SavedParameter[], model: readonly SavedParameter[]): void {
  for (let index = 0; index < Math.max(saved.length, model.length); index++) {
    const stored = saved[index];
    const expected = model[index];
    const fail = (field: string, problem: string) => new MalformedModelFileError(problem, { file, field });
    if (!stored) {
      throw fail(
        expected!.name,
        `trainable parameter ${index} is missing, expected "${expected!.name}": the saved state has ${saved.length}, the model ${model.length}`,
      );
    }
    if (!expected) {
      throw fail(
        stored.name,
        `trainable parameter ${index} is "${stored.name}", expected none: the saved state has ${saved.length}, the model ${model.length}`,
      );
    }
    if (stored.name !== expected.name) {
      throw fail(
        stored.name,
        `trainable parameter ${index} is "${stored.name}", expected "${expected.name}"`,
      );
    }
    if (formatShape(stored.shape) !== formatShape(expected.shape)) {
      throw fail(
        stored.name,
        `parameter "${stored.name}" has shape ${formatShape(stored.shape)}, expected ${formatShape(expected.shape)}`,
      );
    }
    if (stored.offset !== expected.offset) {
      throw fail(
        stored.name,
        `parameter "${stored.name}" is at offset ${stored.offset}, expected ${expected.offset}`,
      );
    }
  }
}

function checkMoments(moments: OptimizerMoments, length: number): void {
  for (const [name, buffer] of [
    ['m', moments.m],
    ['v', moments.v],
  ] as const) {
    if (buffer.dtype !== 'f32' || buffer.length !== length) {
      throw new EngineError(
        `optimizer moment ${name} is ${buffer.dtype} of ${buffer.length} elements, expected f32 of ${length}: the trainable buffer's layout`,
      );
    }
  }
}

function checkProgress(progress: TrainingProgress): void {
  if (!Number.isSafeInteger(progress.step) || progress.step < 0) {
    throw new RangeError(`the step must be a non-negative integer, not ${progress.step}`);
  }
  if (!isGeneratorState(progress.rng)) {
    throw new RangeError(
      `the generator state must be four unsigned 32-bit integers, not ${describe(progress.rng)}`,
    );
  }
  // What JSON cannot hold (undefined, NaN, class instances) would come back different, or not at all.
  for (const [name, value] of [
    ['dataPosition', progress.dataPosition],
    ['meta', progress.meta],
  ] as const) {
    if (!isObject(value) || !survivesJson(value)) {
      throw new TypeError(`${name} must be an object of plain JSON data, which restores as saved`);
    }
  }
}

function survivesJson(value: unknown): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(JSON.stringify(value)), value);
  } catch {
    return false;
  }
}

function isGeneratorState(value: unknown): value is number[] {
  return (
    Array.isArray(value) &&
    value.length === 4 &&
    value.every((word) => Number.isInteger(word) && word >= 0 && word <= 0xffffffff)
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

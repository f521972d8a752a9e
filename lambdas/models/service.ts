import type { ModelStore, ObjectStore } from '../../lib/adapters';
import {
  ConflictError,
  InvalidRequestError,
  NotFoundError,
  PermissionDeniedError,
} from '../../lib/core/errors';
import { fineTunedModelName, parseFineTunedModelName } from '../../lib/core/models';
import {
  BASE_MODEL_ID_PATTERN,
  type BaseModel,
  type FineTunedModel,
  type ModelObject,
  SUPPORTED_ARCHITECTURES,
  type WhetstoneOptions,
} from '../../lib/core/schemas';
import { objectKeys } from '../../lib/core/storage';

export interface ModelServiceStores {
  readonly models: ModelStore;
  readonly objects: ObjectStore;
}

/** Who base models belong to in `owned_by`: the deployment, not any one team. */
export const BASE_MODEL_OWNER = 'whetstone';
/** A Hugging Face config.json is a few kilobytes; anything this large is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024;
const WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json'] as const;

type Architecture = BaseModel['architecture'];

export interface RegisterModelRequest {
  readonly id: string;
  readonly prefix?: string | undefined;
}

/**
 * Registers files already in the bucket as a base model. The files are checked first, so a
 * registered model is always one the trainer can at least begin to load.
 */
export async function registerBaseModel(
  stores: ModelServiceStores,
  request: RegisterModelRequest,
  now: number,
): Promise<ModelObject> {
  if (await stores.models.getBase(request.id)) throw modelExists(request.id);
  const prefix = request.prefix ?? objectKeys.model(request.id);
  const architecture = await readArchitecture(stores.objects, prefix);
  await requireWeights(stores.objects, prefix);
  const model: BaseModel = { id: request.id, architecture, prefix, created: Math.floor(now / 1000) };
  // Of two concurrent registrations of one id, only the conditional write decides.
  if (!(await stores.models.putBase(model))) throw modelExists(request.id);
  return baseModelObject(model);
}

function modelExists(id: string): ConflictError {
  return new ConflictError(`A base model with id ${id} is already registered.`, {
    param: 'id',
    code: 'model_exists',
  });
}

async function readArchitecture(objects: ObjectStore, prefix: string): Promise<Architecture> {
  const key = `${prefix}config.json`;
  const body = await objects.get(key);
  if (!body) {
    throw new InvalidRequestError(
      `No config.json under ${prefix}: ${key} does not exist. Upload the model's Hugging Face files there first.`,
      { param: 'prefix' },
    );
  }
  if (body.bytes > MAX_CONFIG_BYTES) {
    body.stream.destroy();
    throw new InvalidRequestError(`${key}: ${body.bytes} bytes is too large for a model config.`, {
      param: 'prefix',
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of body.stream) chunks.push(chunk as Buffer);
  let config: unknown;
  try {
    config = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new InvalidRequestError(`${key}: not valid JSON.`, { param: 'prefix', cause: error });
  }
  const architectures = (config as { architectures?: unknown } | null)?.architectures;
  const first = Array.isArray(architectures) ? (architectures[0] as unknown) : undefined;
  if (typeof first !== 'string') {
    throw new InvalidRequestError(`${key}: architectures[0] is missing; it names the model class.`, {
      param: 'prefix',
    });
  }
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(first)) {
    throw new InvalidRequestError(
      `${key}: architectures[0] '${first}' is not supported; supported: ${SUPPORTED_ARCHITECTURES.join(', ')}.`,
      { param: 'prefix', code: 'unsupported_architecture' },
    );
  }
  return first as Architecture;
}

async function requireWeights(objects: ObjectStore, prefix: string): Promise<void> {
  const sizes = await Promise.all(WEIGHT_FILES.map((file) => objects.size(`${prefix}${file}`)));
  if (sizes.every((size) => size === undefined)) {
    throw new InvalidRequestError(
      `No weights under ${prefix}: expected ${WEIGHT_FILES.map((file) => `${prefix}${file}`).join(' or ')}.`,
      { param: 'prefix' },
    );
  }
}

export interface ResolvedModel {
  /** The name the request gave. */
  readonly requested: string;
  /** The registered base model at the root of the chain. */
  readonly base: BaseModel;
  /** The team's fine-tuned model the job starts from, when it names one. */
  readonly parent: FineTunedModel | null;
}

/**
 * What a job's `model` names: a registered base model, or one of the team's own fine-tuned
 * models. Another team's model is answered exactly as one that does not exist.
 */
export async function resolveModelForJob(
  stores: Pick<ModelServiceStores, 'models'>,
  team: string,
  name: string,
): Promise<ResolvedModel> {
  const parent = await findFineTuned(stores.models, team, name);
  if (parent) {
    const base = await stores.models.getBase(parent.base_model);
    if (!base) {
      throw new NotFoundError(
        `The base model \`${parent.base_model}\` of \`${name}\` is no longer registered.`,
        { param: 'model', code: 'model_not_found' },
      );
    }
    return { requested: name, base, parent };
  }
  const base = await findBase(stores.models, name);
  if (!base) throw modelNotFound(name);
  return { requested: name, base, parent: null };
}

/** OpenAI's `GET /v1/models` envelope: no cursor, every model at once. */
export interface ModelList {
  readonly object: 'list';
  readonly data: ModelObject[];
}

export async function listModels(
  stores: Pick<ModelServiceStores, 'models'>,
  team: string,
): Promise<ModelList> {
  const [bases, tuned] = await Promise.all([stores.models.listBase(), stores.models.listFineTuned(team)]);
  return { object: 'list', data: [...bases.map(baseModelObject), ...tuned.map(fineTunedModelObject)] };
}

export async function getModel(
  stores: Pick<ModelServiceStores, 'models'>,
  team: string,
  id: string,
): Promise<ModelObject> {
  const tuned = await findFineTuned(stores.models, team, id);
  if (tuned) return fineTunedModelObject(tuned);
  const base = await findBase(stores.models, id);
  if (base) return baseModelObject(base);
  throw modelNotFound(id);
}

/**
 * The record goes first: once it is gone the model no longer exists and no new job can start
 * from it, whatever happens to the objects, which are then removed under its prefix.
 */
export async function deleteFineTunedModel(
  stores: ModelServiceStores,
  team: string,
  id: string,
): Promise<{ readonly id: string; readonly object: 'model'; readonly deleted: true }> {
  const tuned = await findFineTuned(stores.models, team, id);
  if (!tuned) {
    if (await findBase(stores.models, id)) {
      throw new PermissionDeniedError(`You cannot delete base model ${id}.`, { param: 'model' });
    }
    throw modelNotFound(id);
  }
  // Of two concurrent deletes, only the one that removed the record answers that it did.
  if (!(await stores.models.deleteFineTuned(team, id))) throw modelNotFound(id);
  await stores.objects.deletePrefix(tuned.prefix);
  return { id, object: 'model', deleted: true };
}

export interface SucceededJob {
  readonly id: string;
  readonly team: string;
  readonly suffix: string | null;
  /** The registered base model at the root of the chain. */
  readonly baseModel: string;
  readonly architecture: Architecture;
  readonly trainingMethod: WhetstoneOptions['training_method'];
}

/**
 * The record of the model a succeeded job made. LoRA jobs leave a PEFT adapter; full and
 * partial training leave whole weights in the base model's layout.
 */
export function fineTunedModelFromJob(job: SucceededJob, now: number): FineTunedModel {
  return {
    id: fineTunedModelName({ baseModel: job.baseModel, team: job.team, suffix: job.suffix, jobId: job.id }),
    team: job.team,
    job_id: job.id,
    base_model: job.baseModel,
    architecture: job.architecture,
    prefix:
      job.trainingMethod === 'lora'
        ? objectKeys.adapter(job.team, job.id)
        : objectKeys.fullModel(job.team, job.id),
    created: Math.floor(now / 1000),
  };
}

export function baseModelObject(model: BaseModel): ModelObject {
  return {
    id: model.id,
    object: 'model',
    created: model.created,
    owned_by: BASE_MODEL_OWNER,
    whetstone: { kind: 'base', architecture: model.architecture, base_model: null, job_id: null },
  };
}

export function fineTunedModelObject(model: FineTunedModel): ModelObject {
  return {
    id: model.id,
    object: 'model',
    created: model.created,
    owned_by: model.team,
    whetstone: {
      kind: 'fine-tuned',
      architecture: model.architecture,
      base_model: model.base_model,
      job_id: model.job_id,
    },
  };
}

/**
 * Only well-formed names reach the table: anything else cannot be stored, and an over-long
 * key would be DynamoDB's error rather than the caller's 404. A name that carries another
 * team is not looked up at all; the answer is the same as for one that never existed.
 */
async function findFineTuned(
  models: ModelStore,
  team: string,
  name: string,
): Promise<FineTunedModel | undefined> {
  const parts = parseFineTunedModelName(name);
  if (!parts || parts.team !== team) return undefined;
  return models.getFineTuned(team, name);
}

async function findBase(models: ModelStore, id: string): Promise<BaseModel | undefined> {
  return BASE_MODEL_ID_PATTERN.test(id) ? models.getBase(id) : undefined;
}

function modelNotFound(name: string): NotFoundError {
  return new NotFoundError(`The model \`${name}\` does not exist or you do not have access to it.`, {
    param: 'model',
    code: 'model_not_found',
  });
}

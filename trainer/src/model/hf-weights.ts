import { access, mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ModelConfig } from './config';
import { MalformedModelFileError, UnsupportedModelError } from './errors';
import {
  assertReadableDtype,
  formatShape,
  type HostTensor,
  readSafetensors,
  readSafetensorsHeader,
  type SafetensorsEntry,
  writeAtomically,
  writeSafetensors,
} from './safetensors';

const SINGLE_FILE = 'model.safetensors';
const INDEX_FILE = 'model.safetensors.index.json';
const SHARD_NAME = /^model-\d{5}-of-\d{5}\.safetensors$/;
const DEFAULT_MAX_SHARD_BYTES = 2 * 1024 ** 3;
/** transformers' save_pretrained writes this, and its loader refuses safetensors files with another format. */
const SAFETENSORS_METADATA = { format: 'pt' };
const UNEXPECTED_NAMES_SHOWN = 5;

/**
 * The tensors of a model in Hugging Face's names and shapes, in the order of the forward pass.
 * C: hidden size, V: vocabulary, I: intermediate size, NH / NKV: query / key-value heads, HD: head dim.
 * `lm_head.weight` is absent when the embeddings are tied.
 */
export function expectedTensorShapes(config: ModelConfig): Map<string, readonly number[]> {
  const {
    vocabSize: V,
    hiddenSize: C,
    intermediateSize: I,
    numHeads: NH,
    numKvHeads: NKV,
    headDim: HD,
  } = config;
  const shapes = new Map<string, readonly number[]>();
  shapes.set('model.embed_tokens.weight', [V, C]);
  for (let layer = 0; layer < config.numLayers; layer++) {
    const prefix = `model.layers.${layer}`;
    shapes.set(`${prefix}.input_layernorm.weight`, [C]);
    for (const [projection, outputs] of [
      ['q_proj', NH * HD],
      ['k_proj', NKV * HD],
      ['v_proj', NKV * HD],
    ] as const) {
      shapes.set(`${prefix}.self_attn.${projection}.weight`, [outputs, C]);
      if (config.qkvBias) shapes.set(`${prefix}.self_attn.${projection}.bias`, [outputs]);
    }
    shapes.set(`${prefix}.self_attn.o_proj.weight`, [C, NH * HD]);
    if (config.oBias) shapes.set(`${prefix}.self_attn.o_proj.bias`, [C]);
    shapes.set(`${prefix}.post_attention_layernorm.weight`, [C]);
    shapes.set(`${prefix}.mlp.gate_proj.weight`, [I, C]);
    shapes.set(`${prefix}.mlp.up_proj.weight`, [I, C]);
    shapes.set(`${prefix}.mlp.down_proj.weight`, [C, I]);
  }
  shapes.set('model.norm.weight', [C]);
  if (!config.tieWordEmbeddings) shapes.set('lm_head.weight', [V, C]);
  return shapes;
}

/**
 * Loads every tensor `expectedTensorShapes` lists, upcast to fp32, from `model.safetensors` or from the
 * shards that `model.safetensors.index.json` names. All headers are checked (presence, dtype, shape,
 * tensors the config does not describe) before any data is read. A tied checkpoint's `lm_head.weight`
 * and rotary `inv_freq` buffers are ignored. The result holds exactly the expected names, in order.
 */
export async function loadHfWeights(dir: string, config: ModelConfig): Promise<Map<string, HostTensor>> {
  const expected = expectedTensorShapes(config);
  const layout = await locateTensors(dir);

  for (const [name, shape] of expected) {
    const location = layout.locations.get(name);
    if (location === undefined) {
      const where = layout.index === undefined ? '' : ` from "weight_map"`;
      throw new MalformedModelFileError(`tensor ${JSON.stringify(name)} is missing${where}`, {
        file: layout.index ?? join(dir, SINGLE_FILE),
        field: name,
      });
    }
    assertReadableDtype(location.file, name, location.entry.dtype);
    if (!sameShape(location.entry.shape, shape)) {
      throw new MalformedModelFileError(
        `tensor ${JSON.stringify(name)} has shape ${formatShape(location.entry.shape)}, expected ${formatShape(shape)}`,
        { file: location.file, field: name },
      );
    }
  }
  const unexpected = [...layout.locations.keys()].filter(
    (name) => !expected.has(name) && !isIgnorable(name, config),
  );
  if (unexpected.length > 0) {
    const shown = unexpected
      .slice(0, UNEXPECTED_NAMES_SHOWN)
      .map((name) => JSON.stringify(name))
      .join(', ');
    const more =
      unexpected.length > UNEXPECTED_NAMES_SHOWN
        ? ` and ${unexpected.length - UNEXPECTED_NAMES_SHOWN} more`
        : '';
    throw new MalformedModelFileError(`holds tensors that config.json does not describe: ${shown}${more}`, {
      file: layout.index ?? join(dir, SINGLE_FILE),
      field: unexpected[0] as string,
    });
  }

  const namesByFile = new Map<string, Set<string>>();
  for (const name of expected.keys()) {
    const { file } = layout.locations.get(name) as TensorLocation;
    const names = namesByFile.get(file) ?? new Set<string>();
    names.add(name);
    namesByFile.set(file, names);
  }
  const loaded = new Map<string, HostTensor>();
  for (const [file, names] of namesByFile) {
    for (const [name, tensor] of await readSafetensors(file, { names })) loaded.set(name, tensor);
  }
  return new Map([...expected.keys()].map((name) => [name, loaded.get(name) as HostTensor]));
}

/**
 * Writes a model directory transformers can load: `config.json` (`config.raw` with `torch_dtype`
 * float32) and the weights in fp32, in `model.safetensors` or, above `maxShardBytes` (2 GiB by
 * default), in `model-0000k-of-0000n.safetensors` shards with `model.safetensors.index.json`. Files of
 * the other layout left by an earlier save are removed. `tensors` must hold exactly the names and
 * shapes `expectedTensorShapes` gives (a tied model's `lm_head.weight` may be present; it is not
 * written). Tokenizer files are the caller's to copy.
 */
export async function writeHfModel(
  dir: string,
  config: ModelConfig,
  tensors: ReadonlyMap<string, HostTensor>,
  options: { readonly maxShardBytes?: number } = {},
): Promise<void> {
  const maxShardBytes = options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!Number.isSafeInteger(maxShardBytes) || maxShardBytes <= 0) {
    throw new RangeError(`maxShardBytes must be a positive integer, not ${maxShardBytes}`);
  }
  const expected = expectedTensorShapes(config);
  const singleFile = join(dir, SINGLE_FILE);
  for (const [name, shape] of expected) {
    const tensor = tensors.get(name);
    if (tensor === undefined) {
      throw new MalformedModelFileError(`tensor ${JSON.stringify(name)} is missing`, {
        file: singleFile,
        field: name,
      });
    }
    if (!sameShape(tensor.shape, shape)) {
      throw new MalformedModelFileError(
        `tensor ${JSON.stringify(name)} has shape ${formatShape(tensor.shape)}, expected ${formatShape(shape)}`,
        { file: singleFile, field: name },
      );
    }
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name) && !(name === 'lm_head.weight' && config.tieWordEmbeddings)) {
      throw new MalformedModelFileError(`tensor ${JSON.stringify(name)} is not part of this model`, {
        file: singleFile,
        field: name,
      });
    }
  }

  await mkdir(dir, { recursive: true });
  const shards = planShards(expected, maxShardBytes);
  const existing = await readdir(dir);
  if (shards.length === 1) {
    await writeSafetensors(singleFile, pick(tensors, shards[0] as string[]), {
      metadata: SAFETENSORS_METADATA,
    });
    await removeFiles(
      dir,
      existing.filter((name) => name === INDEX_FILE || SHARD_NAME.test(name)),
    );
  } else {
    const shardNames = shards.map(
      (_, index) => `model-${pad(index + 1)}-of-${pad(shards.length)}.safetensors`,
    );
    const weightMap: Record<string, string> = {};
    let totalSize = 0;
    for (const [index, names] of shards.entries()) {
      const shardName = shardNames[index] as string;
      await writeSafetensors(join(dir, shardName), pick(tensors, names), { metadata: SAFETENSORS_METADATA });
      for (const name of names) {
        weightMap[name] = shardName;
        totalSize += tensorBytes(expected.get(name) as readonly number[]);
      }
    }
    // transformers writes the index with sorted keys.
    const sortedMap = Object.fromEntries(
      Object.entries(weightMap).sort(([left], [right]) => compareNames(left, right)),
    );
    await writeTextAtomically(
      join(dir, INDEX_FILE),
      `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sortedMap }, null, 2)}\n`,
    );
    await removeFiles(
      dir,
      existing.filter(
        (name) => name === SINGLE_FILE || (SHARD_NAME.test(name) && !shardNames.includes(name)),
      ),
    );
  }
  const configJson: Record<string, unknown> = { ...config.raw, torch_dtype: 'float32' };
  // transformers 5 names the field `dtype`; keep both in step when the source had it.
  if ('dtype' in config.raw) configJson.dtype = 'float32';
  await writeTextAtomically(join(dir, 'config.json'), `${JSON.stringify(configJson, null, 2)}\n`);
}

interface TensorLocation {
  readonly file: string;
  readonly entry: SafetensorsEntry;
}

interface TensorLayout {
  /** The index's path when the model is sharded. */
  readonly index?: string;
  readonly locations: Map<string, TensorLocation>;
}

/** transformers prefers `model.safetensors` to the index when both exist; so does this. */
async function locateTensors(dir: string): Promise<TensorLayout> {
  const singleFile = join(dir, SINGLE_FILE);
  if (await exists(singleFile)) {
    const header = await readSafetensorsHeader(singleFile);
    return {
      locations: new Map([...header.tensors].map(([name, entry]) => [name, { file: singleFile, entry }])),
    };
  }
  const indexFile = join(dir, INDEX_FILE);
  if (!(await exists(indexFile))) {
    for (const pickle of ['pytorch_model.bin', 'pytorch_model.bin.index.json']) {
      if (await exists(join(dir, pickle))) {
        throw new UnsupportedModelError(
          'PyTorch pickle checkpoints are not supported; save the model as safetensors (model.safetensors)',
          { file: join(dir, pickle) },
        );
      }
    }
    throw new MalformedModelFileError(`not found in ${dir}, nor is ${INDEX_FILE}`, { file: singleFile });
  }

  const weightMap = await readWeightMap(indexFile);
  const headers = new Map<string, Map<string, SafetensorsEntry>>();
  for (const shard of new Set(Object.values(weightMap))) {
    const shardFile = join(dir, shard);
    if (!(await exists(shardFile))) {
      throw new MalformedModelFileError(`not found in ${dir}; ${INDEX_FILE} lists it`, { file: shardFile });
    }
    headers.set(shard, (await readSafetensorsHeader(shardFile)).tensors);
  }
  const locations = new Map<string, TensorLocation>();
  for (const [name, shard] of Object.entries(weightMap)) {
    const entry = headers.get(shard)?.get(name);
    const shardFile = join(dir, shard);
    if (entry === undefined) {
      throw new MalformedModelFileError(
        `tensor ${JSON.stringify(name)} is missing; ${INDEX_FILE} places it here`,
        {
          file: shardFile,
          field: name,
        },
      );
    }
    locations.set(name, { file: shardFile, entry });
  }
  return { index: indexFile, locations };
}

async function readWeightMap(indexFile: string): Promise<Record<string, string>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(indexFile, 'utf8'));
  } catch (error) {
    throw new MalformedModelFileError(`invalid JSON: ${(error as Error).message}`, {
      file: indexFile,
      cause: error,
    });
  }
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new MalformedModelFileError('"weight_map" must map tensor names to file names', {
      file: indexFile,
      field: 'weight_map',
    });
  }
  for (const [name, shard] of Object.entries(weightMap)) {
    // Shards sit beside the index; a path could reach outside the model directory.
    if (
      typeof shard !== 'string' ||
      shard !== basename(shard) ||
      shard === '..' ||
      shard === '.' ||
      shard === ''
    ) {
      throw new MalformedModelFileError(
        `"weight_map" entry for ${JSON.stringify(name)} must be a file name in the model directory, not ${JSON.stringify(shard)}`,
        { file: indexFile, field: `weight_map.${name}` },
      );
    }
  }
  return weightMap as Record<string, string>;
}

/** Greedy in forward-pass order, as transformers shards: a new shard when the next tensor would overflow. */
function planShards(expected: ReadonlyMap<string, readonly number[]>, maxShardBytes: number): string[][] {
  const shards: string[][] = [];
  let current: string[] = [];
  let currentBytes = 0;
  for (const [name, shape] of expected) {
    const bytes = tensorBytes(shape);
    if (current.length > 0 && currentBytes + bytes > maxShardBytes) {
      shards.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(name);
    currentBytes += bytes;
  }
  shards.push(current);
  return shards;
}

function isIgnorable(name: string, config: ModelConfig): boolean {
  return (name === 'lm_head.weight' && config.tieWordEmbeddings) || name.endsWith('.rotary_emb.inv_freq');
}

function pick(tensors: ReadonlyMap<string, HostTensor>, names: readonly string[]): Map<string, HostTensor> {
  return new Map(names.map((name) => [name, tensors.get(name) as HostTensor]));
}

function tensorBytes(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 4);
}

function sameShape(actual: readonly number[], expected: readonly number[]): boolean {
  return actual.length === expected.length && actual.every((size, axis) => size === expected[axis]);
}

function compareNames(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

function pad(value: number): string {
  return String(value).padStart(5, '0');
}

async function writeTextAtomically(file: string, text: string): Promise<void> {
  await writeAtomically(file, async (handle) => {
    await handle.writeFile(text, 'utf8');
  });
}

async function removeFiles(dir: string, names: readonly string[]): Promise<void> {
  for (const name of names) await unlink(join(dir, name)).catch(() => undefined);
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

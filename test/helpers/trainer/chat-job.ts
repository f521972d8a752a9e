import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { JobCheckpoint, ModelObject } from '../../../lib/core/schemas';
import { objectKeys } from '../../../lib/core/storage';
import { registerUploadedModel, uploadModelFiles } from '../models';
import { fileForm, type TestPlatform } from '../platform';
import { createTinyModel } from './tiny-model';
import { writeTinyTokenizer } from './tiny-tokenizer';

/** The product trainer, as the launchers start it. */
export const PRODUCT_TRAINER = resolve(__dirname, '..', '..', '..', 'trainer', 'src', 'main.ts');

export const ANIMALS = [
  'cat',
  'dog',
  'owl',
  'fox',
  'bee',
  'elk',
  'yak',
  'emu',
  'ant',
  'bat',
  'cow',
  'eel',
  'hen',
  'pig',
  'ram',
  'rat',
];

/** Animals the training set never shows: the Files API asks for at least 10 validation examples. */
export const HELD_OUT_ANIMALS = ['ape', 'boa', 'cod', 'doe', 'gnu', 'jay', 'koi', 'lynx', 'mole', 'newt'];

/** One chat example of the animal task: the reply repeats the animal in a fixed sentence. */
export function animalConversation(animal: string): string {
  return JSON.stringify({
    messages: [
      { role: 'user', content: `Name an animal like ${animal}.` },
      { role: 'assistant', content: `The ${animal} is an animal.` },
    ],
  });
}

/** `count` animal conversations, cycling through `animals`, as JSONL. */
export function animalDataset(animals: readonly string[], count = animals.length): string {
  return Array.from(
    { length: count },
    (_, index) => `${animalConversation(animals[index % animals.length]!)}\n`,
  ).join('');
}

/** A random tiny Llama with a byte-level BPE tokenizer and a ChatML template, in Hugging Face layout. */
export async function writeTinyChatModel(dir: string): Promise<void> {
  const vocabSize = writeTinyTokenizer(dir);
  await createTinyModel(dir, {
    vocabSize,
    hiddenSize: 32,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    intermediateSize: 64,
    seed: 11,
    scale: 0.2,
  });
}

/** Uploads a model folder to `models/{id}/` (less `omit`) and registers it with the owner key. */
export async function registerModelDir(
  platform: TestPlatform,
  id: string,
  dir: string,
  omit: readonly string[] = [],
): Promise<ModelObject> {
  const files: Record<string, Uint8Array> = {};
  for (const name of readdirSync(dir)) if (!omit.includes(name)) files[name] = readFileSync(join(dir, name));
  await uploadModelFiles(platform, objectKeys.model(id), files);
  return registerUploadedModel(platform, id);
}

/** Uploads JSONL through the Files API; returns the file id. */
export async function uploadJsonl(platform: TestPlatform, key: string, text: string, filename: string) {
  const response = await platform.call(key, 'POST', '/v1/files', { body: fileForm(text, filename) });
  if (response.status !== 200)
    throw new Error(`upload ${filename}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** The pid of the trainer process running the job, from /proc; undefined when none runs. */
export async function trainerPidOf(jobId: string): Promise<number | undefined> {
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const environ = await readFile(join('/proc', entry, 'environ'), 'utf8');
      if (!environ.split('\0').includes(`WHETSTONE_JOB_ID=${jobId}`)) continue;
      const cmdline = await readFile(join('/proc', entry, 'cmdline'), 'utf8');
      if (cmdline.includes(PRODUCT_TRAINER)) return Number(entry);
    } catch {
      // The process ended while being read, or is not ours to read.
    }
  }
  return undefined;
}

/** Waits for the job's first checkpoint record, then freezes its trainer (SIGSTOP) and returns the pid. */
export async function freezeTrainerAfterFirstCheckpoint(
  platform: TestPlatform,
  key: string,
  jobId: string,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await platform.call(key, 'GET', `/v1/fine_tuning/jobs/${jobId}/checkpoints`);
    const { data } = (await response.json()) as { data: JobCheckpoint[] };
    if (data.length > 0) {
      const pid = await trainerPidOf(jobId);
      if (pid === undefined) throw new Error(`job ${jobId} has a checkpoint but no trainer running`);
      process.kill(pid, 'SIGSTOP');
      return pid;
    }
    if (Date.now() > deadline) throw new Error(`job ${jobId} made no checkpoint in ${timeoutMs} ms`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 10));
  }
}

/** Steps of the complete checkpoints (those with their index) stored for the job, ascending. */
export async function completeCheckpointSteps(
  platform: TestPlatform,
  team: string,
  jobId: string,
): Promise<number[]> {
  const prefix = `artifacts/${team}/${jobId}/checkpoints/`;
  return (await platform.listObjects())
    .filter((object) => object.startsWith(prefix) && object.endsWith('/checkpoint.json'))
    .map((object) => Number(/step-([0-9]+)\//.exec(object)?.[1]))
    .sort((a, b) => a - b);
}

/**
 * The complete checkpoint steps once the listing stops changing: a frozen trainer sends nothing new,
 * but an upload it sent just before may still be landing in the S3 server.
 */
export async function settledCheckpointSteps(
  platform: TestPlatform,
  team: string,
  jobId: string,
): Promise<number[]> {
  let previous = await completeCheckpointSteps(platform, team, jobId);
  for (;;) {
    await new Promise((resolveWait) => setTimeout(resolveWait, 500));
    const current = await completeCheckpointSteps(platform, team, jobId);
    if (current.join() === previous.join()) return current;
    previous = current;
  }
}

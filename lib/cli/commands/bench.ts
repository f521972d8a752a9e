import { type Command, InvalidArgumentError, Option } from 'commander';
import { printFields } from '../output';

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError(`'${text}' is not an integer of at least 1.`);
  return value;
}

export function registerBenchCommands(program: Command): void {
  const bench = program.command('bench').description('measure the training engine on this machine');
  bench
    .command('train')
    .description('time optimizer steps of a fixed model on random tokens')
    .addOption(new Option('--preset <name>', 'model and batch').choices(['tiny-llama']).default('tiny-llama'))
    .addOption(new Option('--method <method>', 'what trains').choices(['lora', 'full']).default('lora'))
    .option('--backend <name>', 'kernel back end', 'reference')
    .option('--steps <n>', 'timed steps, after 3 warm-up steps', positiveInteger, 5)
    .option('--json', 'print one JSON line', false)
    .action(
      async (options: {
        preset: string;
        method: 'lora' | 'full';
        backend: string;
        steps: number;
        json: boolean;
      }) => {
        // Loaded on use: the engine is not needed by the API commands.
        const { benchTrain } = await import('../../../trainer/src/bench');
        const result = await benchTrain(options);
        if (options.json) {
          console.log(JSON.stringify(result));
          return;
        }
        printFields([
          ['back end', `${result.backend} (${result.method})`],
          ['tokens/s', result.tokens_per_s.toFixed(1)],
          ['GFLOP/s', `${result.gflop_per_s.toFixed(2)} (matrix products)`],
          ['ms/step', result.ms_per_step.toFixed(1)],
          ['peak RSS', `${result.peak_rss_mb.toFixed(0)} MB`],
        ]);
      },
    );
  bench
    .command('kernels')
    .description("SGEMM GFLOP/s per back end on the preset's shapes, and the FMA peak of this machine")
    .option('--backend <names>', 'comma-separated back ends (default: all)')
    .option('--seconds <s>', 'time per shape', Number, 0.5)
    .option('--json', 'print one JSON line', false)
    .action(async (options: { backend?: string; seconds: number; json: boolean }) => {
      const { benchKernels } = await import('../../../trainer/src/bench');
      const result = await benchKernels({ backends: options.backend?.split(','), seconds: options.seconds });
      if (options.json) {
        console.log(JSON.stringify(result));
        return;
      }
      console.log(
        `FMA peak: ${result.fma_peak_gflops.toFixed(1)} GFLOP/s (${result.fma_width}, ${result.threads} threads); native GEMM kernel ${result.gemm_kernel}`,
      );
      for (const [backend, measurements] of Object.entries(result.backends)) {
        for (const m of measurements) {
          const share = ((100 * m.gflops) / result.fma_peak_gflops).toFixed(0);
          console.log(
            `${backend.padEnd(10)} ${m.name.padEnd(28)} ${m.gflops.toFixed(2).padStart(8)} GFLOP/s  ${share.padStart(3)}% of peak${m.bandwidthBound ? ' (bandwidth-bound)' : ''}`,
          );
        }
      }
    });
}

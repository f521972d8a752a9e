import { type Command, InvalidArgumentError, Option } from 'commander';
import { printFields, printJson } from '../output';

interface TrainCommandOptions {
  readonly model: string;
  readonly train: string;
  readonly validation?: string;
  readonly out: string;
  readonly method: 'lora' | 'full' | 'partial';
  readonly epochs: number;
  readonly batchSize: number;
  readonly gradAccum: number;
  readonly lr: number;
  readonly warmupRatio: number;
  readonly weightDecay: number;
  readonly schedule: 'cosine' | 'linear' | 'constant';
  readonly loraR: number;
  readonly loraAlpha: number;
  readonly loraDropout: number;
  readonly loraTargets: string;
  readonly layers?: number[];
  readonly modules?: string[];
  readonly adapter?: string;
  readonly merge: boolean;
  readonly maxSeqLen?: number;
  readonly seed: number;
  readonly backend: string;
  readonly json: boolean;
}

function integer(minimum: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < minimum)
      throw new InvalidArgumentError(`'${text}' is not an integer of at least ${minimum}.`);
    return value;
  };
}

function fraction(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value >= 1)
    throw new InvalidArgumentError(`'${text}' is not a number in [0, 1).`);
  return value;
}

function positive(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError(`'${text}' is not a number above 0.`);
  return value;
}

function list<T>(parse: (item: string) => T) {
  return (text: string): T[] =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0)
      .map(parse);
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('fine-tune a model in Hugging Face layout on this machine, without the platform')
    .requiredOption('--model <dir>', 'base model directory (config.json, model.safetensors, tokenizer.json)')
    .requiredOption('--train <file>', 'training examples, OpenAI chat or prompt/completion JSONL')
    .option(
      '--validation <file>',
      'validation examples, same format; evaluated before training and after each epoch',
    )
    .requiredOption('--out <dir>', 'where the adapter (or model), metrics.jsonl and summary.json go')
    .addOption(
      new Option('--method <method>', 'what trains').choices(['lora', 'full', 'partial']).default('lora'),
    )
    .option('--epochs <n>', 'passes over the training set', integer(1), 3)
    .option('--batch-size <n>', 'examples per forward pass', integer(1), 4)
    .option('--grad-accum <n>', 'forward passes per optimizer step', integer(1), 1)
    .option('--lr <x>', 'peak learning rate', positive, 2e-4)
    .option('--warmup-ratio <x>', 'share of steps warming the learning rate up', fraction, 0.03)
    .option('--weight-decay <x>', 'AdamW decoupled weight decay', fraction, 0)
    .addOption(
      new Option('--schedule <shape>', 'decay after warmup')
        .choices(['cosine', 'linear', 'constant'])
        .default('cosine'),
    )
    .option('--lora-r <n>', 'LoRA rank', integer(1), 8)
    .option('--lora-alpha <x>', 'LoRA alpha (scale alpha / r)', positive, 16)
    .option('--lora-dropout <x>', 'LoRA dropout', fraction, 0.05)
    .option(
      '--lora-targets <modules>',
      "comma-separated modules, or 'all-linear'",
      'q_proj,k_proj,v_proj,o_proj',
    )
    .option('--layers <list>', 'partial: decoder layers that train, e.g. 10,11', list(integer(0)))
    .option('--modules <list>', 'partial: modules that train, e.g. mlp,norm', list(String))
    .option('--adapter <dir>', 'a PEFT LoRA adapter to continue training (its rank, alpha and modules apply)')
    .option('--merge', 'also write the LoRA-merged model to OUT/merged', false)
    .option(
      '--max-seq-len <n>',
      'longest example in tokens; longer ones are cut (default: 2048, or less if the model is shorter)',
      integer(2),
    )
    .option('--seed <n>', 'data order, LoRA initialisation and dropout', integer(0), 42)
    .option('--backend <name>', 'kernel back end', 'reference')
    .option('--json', 'print only the summary, as JSON', false)
    .action(async (options: TrainCommandOptions) => {
      // Loaded on use: the engine and tokenizer are not needed by the API commands.
      const { fineTune } = await import('../../../trainer/src');
      const summary = await fineTune(
        {
          modelDir: options.model,
          trainFile: options.train,
          validationFile: options.validation,
          outDir: options.out,
          method: methodOf(options),
          adapterDir: options.adapter,
          maxSeqLen: options.maxSeqLen,
          backend: options.backend,
          merge: options.merge,
          training: {
            epochs: options.epochs,
            batchSize: options.batchSize,
            gradientAccumulation: options.gradAccum,
            learningRate: options.lr,
            warmupRatio: options.warmupRatio,
            decay: options.schedule,
            seed: options.seed,
            adamw: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: options.weightDecay },
          },
        },
        options.json
          ? {}
          : {
              onNotice: (message) => console.log(`note: ${message}`),
              onStep: (p) =>
                console.log(
                  `step ${p.step}/${p.totalSteps}  epoch ${p.epoch.toFixed(2)}  loss ${p.trainLoss.toFixed(4)}  ` +
                    `acc ${p.trainMeanTokenAccuracy.toFixed(3)}  lr ${p.learningRate.toExponential(2)}  ` +
                    `grad ${p.gradNorm.toFixed(3)}  ${Math.round(p.tokensPerSecond)} tok/s`,
                ),
              onEvaluation: (step, e) =>
                console.log(
                  `eval  step ${step}  valid loss ${e.loss.toFixed(4)}  valid acc ${e.meanTokenAccuracy.toFixed(3)}`,
                ),
            },
      );
      if (options.json) {
        printJson(summary);
        return;
      }
      const evaluation = (e: { loss: number; meanTokenAccuracy: number } | null) =>
        e ? `loss ${e.loss.toFixed(4)}, token accuracy ${e.meanTokenAccuracy.toFixed(3)}` : undefined;
      console.log('');
      printFields([
        ['method', `${summary.method} on ${summary.backend}`],
        [
          'steps',
          `${summary.steps} (${summary.epochs} epochs, ${summary.trainExamples} examples, ${summary.trainedTokens} trained tokens)`,
        ],
        ['final train loss', summary.finalTrainLoss.toFixed(4)],
        ['base validation', evaluation(summary.baseValidation)],
        ['validation', evaluation(summary.validation)],
        ['time', `${summary.seconds.toFixed(1)} s`],
        ['written', summary.outputs.map((output) => `${options.out}/${output}`).join(', ')],
      ]);
    });
}

function methodOf(options: TrainCommandOptions) {
  if (options.method === 'full') return { kind: 'full' } as const;
  if (options.method === 'partial') {
    if (!options.layers && !options.modules)
      throw new InvalidArgumentError('--method partial needs --layers or --modules.');
    return { kind: 'partial', layers: options.layers, modules: options.modules } as const;
  }
  if (options.layers || options.modules)
    throw new InvalidArgumentError('--layers and --modules apply only to --method partial.');
  const targets = options.loraTargets.trim();
  return {
    kind: 'lora',
    rank: options.loraR,
    alpha: options.loraAlpha,
    dropout: options.loraDropout,
    targetModules: targets === 'all-linear' ? 'all-linear' : list(String)(targets),
  } as const;
}

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Evaluation } from '../train/evaluate';
import { type GenerationPrompt, isExactMatch } from './generations';
import { type EvaluationReport, type GenerationSample, modelScores } from './scores';

/** One model's results on the validation set: its loss and accuracy, and its answer to each prompt. */
export interface ModelResults {
  readonly evaluation: Evaluation | null;
  readonly answers: readonly string[];
}

export interface EvaluationInputs {
  readonly validationExamples: number;
  readonly prompts: readonly GenerationPrompt[];
  readonly base: ModelResults;
  readonly tuned: ModelResults;
}

/**
 * Writes `eval/metrics.json` (base and fine-tuned model side by side: validation loss, mean token
 * accuracy, exact match) and `eval/samples.jsonl` (each prompt with its reference and both answers).
 */
export async function writeEvaluation(outDir: string, inputs: EvaluationInputs): Promise<EvaluationReport> {
  const { prompts, base, tuned } = inputs;
  const matches = (answers: readonly string[]) =>
    answers.map((text, index) => isExactMatch(text, prompts[index]?.reference ?? ''));
  const report: EvaluationReport = {
    validation_examples: inputs.validationExamples,
    base: modelScores(base.evaluation, matches(base.answers)),
    tuned: modelScores(tuned.evaluation, matches(tuned.answers)),
  };
  const samples = prompts.map((prompt, index): GenerationSample => {
    const question =
      typeof prompt.prompt === 'string' ? { prompt: prompt.prompt } : { messages: prompt.prompt };
    return {
      index,
      ...question,
      reference: prompt.reference,
      base: base.answers[index] ?? '',
      tuned: tuned.answers[index] ?? '',
    };
  });
  const dir = join(outDir, 'eval');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'metrics.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(
    join(dir, 'samples.jsonl'),
    samples.map((sample) => `${JSON.stringify(sample)}\n`).join(''),
  );
  return report;
}

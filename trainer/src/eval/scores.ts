import type { Evaluation } from '../train/evaluate';

/** One model's scores on the validation set, under OpenAI's metric names. */
export interface ModelScores {
  readonly valid_loss: number | null;
  readonly valid_mean_token_accuracy: number | null;
  /** Share of the generated answers equal to the reference; null when no answer was generated. */
  readonly exact_match: number | null;
  readonly exact_match_examples: number;
}

/** `eval/metrics.json`: the base and the fine-tuned model on the same validation examples. */
export interface EvaluationReport {
  readonly validation_examples: number;
  readonly base: ModelScores;
  readonly tuned: ModelScores;
}

/** One line of `eval/samples.jsonl`. */
export interface GenerationSample {
  readonly index: number;
  readonly messages?: readonly { readonly role: string; readonly content: string }[];
  readonly prompt?: string;
  readonly reference: string;
  readonly base: string;
  readonly tuned: string;
}

export function modelScores(evaluation: Evaluation | null, matches: readonly boolean[]): ModelScores {
  const hits = matches.filter(Boolean).length;
  return {
    valid_loss: evaluation ? evaluation.loss : null,
    valid_mean_token_accuracy: evaluation ? evaluation.meanTokenAccuracy : null,
    exact_match: matches.length > 0 ? hits / matches.length : null,
    exact_match_examples: matches.length,
  };
}

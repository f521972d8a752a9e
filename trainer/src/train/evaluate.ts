import { padSequences } from '../model/batch';
import type { LlamaModel } from '../model/llama';
import { chunks, type TokenizedExample } from './examples';

export interface Evaluation {
  /** Mean loss per trained token. */
  readonly loss: number;
  /** Share of trained tokens whose most likely prediction is the target. */
  readonly meanTokenAccuracy: number;
  /** The weight evaluated: the number of trained tokens when weights are 0 or 1. */
  readonly tokens: number;
}

/** Loss and token accuracy over examples, without dropout or gradients. */
export async function evaluate(
  model: LlamaModel,
  examples: readonly TokenizedExample[],
  batchSize: number,
  padToken: number,
): Promise<Evaluation> {
  let loss = 0;
  let weight = 0;
  let correct = 0;
  for (const group of chunks(examples, batchSize)) {
    model.forward(padSequences(group, padToken));
    const totals = await model.lossTotals();
    loss += totals.loss;
    weight += totals.weight;
    correct += totals.correct;
  }
  return {
    loss: weight > 0 ? loss / weight : Number.NaN,
    meanTokenAccuracy: weight > 0 ? correct / weight : Number.NaN,
    tokens: weight,
  };
}

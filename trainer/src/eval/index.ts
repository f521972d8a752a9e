export {
  type GenerationOptions,
  type GenerationPrompt,
  generateAnswers,
  generationPrompt,
  isExactMatch,
  type PromptMessage,
} from './generations';
export { type EvaluationInputs, type ModelResults, writeEvaluation } from './report';
export { type EvaluationReport, type GenerationSample, type ModelScores, modelScores } from './scores';

export { type DatasetFormat, type DatasetProblemCode, DatasetProblemCodes } from './problems';
export {
  type ChatExample,
  type ChatMessage,
  type DatasetExample,
  type DatasetProblem,
  type DatasetReport,
  DatasetValidator,
  type DatasetValidatorOptions,
  estimateExampleTokens,
  type PromptCompletionExample,
  summarizeProblems,
  validateDataset,
} from './validator';

export {
  type EncodedExample,
  type EncodeExampleOptions,
  encodeChatExample,
  encodeExample,
  encodePromptCompletionExample,
  type RenderedChat,
  renderChatExample,
} from './encode';
export { DataError, ExampleError } from './errors';
export {
  type ChatExample,
  type ChatMessage,
  type ChatRole,
  chatRoles,
  isChatExample,
  type PromptCompletionExample,
  parseTrainingExample,
  type TrainingExample,
} from './examples';
export { type JsonlExample, readJsonlExamples } from './jsonl';

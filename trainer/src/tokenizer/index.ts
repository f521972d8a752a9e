export type { ApplyChatTemplateOptions, TemplateMessage } from './chat-template';
export { ChatTemplateError, TokenizerError, TokenizerFileError } from './errors';
export type { CharSpan } from './offsets';
export {
  type DecodeOptions,
  type EncodeOptions,
  type EncodingWithOffsets,
  loadTokenizer,
  type SpecialToken,
  Tokenizer,
  type UnicodeNormalization,
} from './tokenizer';

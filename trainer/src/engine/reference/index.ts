export { attentionSizes, ReferenceBackend, type ReferencePrecision } from './backend';

export { attentionSizes, ReferenceBackend, type ReferencePrecision } from './backend';
export { clipFactor } from './elementwise';

export { ReferenceBackend, type ReferencePrecision } from './backend';

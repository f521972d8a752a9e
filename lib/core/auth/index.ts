export {
  type GeneratedApiKey,
  generateApiKey,
  hashSecret,
  type ParsedApiKey,
  parseApiKey,
  redactApiKey,
  secretMatches,
} from './api-keys';
export { type AuditedCall, auditRecord } from './audit';
export { canGrantRole, keyOfRole, requireRole, targetTeam } from './permissions';

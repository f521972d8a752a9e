export {
  type GeneratedApiKey,
  generateApiKey,
  hashSecret,
  type ParsedApiKey,
  parseApiKey,
  redactApiKey,
  secretMatches,
} from './api-keys';
export { canGrantRole, keyOfRole, requireRole, targetTeam } from './permissions';

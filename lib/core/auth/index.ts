export {
  type GeneratedApiKey,
  generateApiKey,
  hashSecret,
  type ParsedApiKey,
  parseApiKey,
  redactApiKey,
  secretMatches,
} from './api-keys';
export { canGrantRole, requireRole, targetTeam } from './permissions';

export { ID_PREFIXES, type IdKind, isId, newId, TEAM_ID_PATTERN } from './ids';

export { openApiProblems } from './check';
export {
  buildOpenApiDocument,
  OPENAPI_DOCUMENT_PATH,
  OPENAPI_VERSION,
  type OpenApiDocument,
  pathParameterNames,
  renderOpenApiDocument,
} from './document';
export { OPERATIONS, type OperationDoc, TAGS } from './operations';
export { RESPONSE_SCHEMAS, type ResponseName } from './responses';

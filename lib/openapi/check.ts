/**
 * A structural check of an OpenAPI 3.0 document: the fields the specification requires, the
 * keywords a 3.0 Schema Object may hold, every `$ref` resolving, unique operation ids, and path
 * templates matched by their path parameters. It is not a full validator; it catches what a
 * generator can get wrong. API Gateway's greedy `{name+}` segment counts as parameter `name`,
 * as API Gateway's own exports declare it.
 */
export function openApiProblems(document: unknown): string[] {
  const problems: string[] = [];
  const report = (at: string, problem: string) => problems.push(`${at}: ${problem}`);
  if (!isObject(document)) return ['document: is not an object'];

  checkRefs(document, document, '#', report);
  if (typeof document.openapi !== 'string' || !/^3\.0\.\d+$/.test(document.openapi)) {
    report('openapi', 'must be a 3.0.x version string');
  }
  allowOnly(document, ROOT_FIELDS, '#', report);
  const info = document.info;
  if (!isObject(info) || typeof info.title !== 'string' || typeof info.version !== 'string') {
    report('info', 'needs title and version strings');
  }
  for (const [index, server] of asArray(document.servers).entries()) {
    checkServer(server, `servers/${index}`, report);
  }
  const components = isObject(document.components) ? document.components : {};
  allowOnly(components, COMPONENT_FIELDS, 'components', report);
  for (const [kind, entries] of Object.entries(components)) {
    for (const name of Object.keys(isObject(entries) ? entries : {})) {
      if (!/^[a-zA-Z0-9.\-_]+$/.test(name))
        report(`components/${kind}/${name}`, 'is not a valid component name');
    }
  }
  const schemes = isObject(components.securitySchemes) ? components.securitySchemes : {};
  for (const [name, scheme] of Object.entries(schemes)) checkSecurityScheme(scheme, name, report);
  for (const [name, schema] of Object.entries(isObject(components.schemas) ? components.schemas : {})) {
    checkSchema(schema, `components/schemas/${name}`, report);
  }
  checkSecurity(document.security, schemes, 'security', report);

  const tags = new Set(asArray(document.tags).map((tag) => (isObject(tag) ? tag.name : undefined)));
  const operationIds = new Map<string, string>();
  if (!isObject(document.paths)) report('paths', 'is required');
  for (const [path, item] of Object.entries(isObject(document.paths) ? document.paths : {})) {
    const at = `paths/${path}`;
    if (!path.startsWith('/')) report(at, "must start with '/'");
    if (!isObject(item)) {
      report(at, 'is not a path item');
      continue;
    }
    allowOnly(item, PATH_ITEM_FIELDS, at, report);
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      const opAt = `${at}/${method}`;
      if (!isObject(operation)) {
        report(opAt, 'is not an operation');
        continue;
      }
      allowOnly(operation, OPERATION_FIELDS, opAt, report);
      if (typeof operation.operationId === 'string') {
        const other = operationIds.get(operation.operationId);
        if (other) report(opAt, `operationId ${operation.operationId} is also ${other}'s`);
        operationIds.set(operation.operationId, opAt);
      }
      for (const tag of asArray(operation.tags)) {
        if (!tags.has(tag)) report(opAt, `tag ${String(tag)} is not among the document's tags`);
      }
      checkSecurity(operation.security, schemes, `${opAt}/security`, report);
      checkParameters(
        document,
        path,
        [...asArray(item.parameters), ...asArray(operation.parameters)],
        opAt,
        report,
      );
      if (operation.requestBody !== undefined) {
        const body = resolve(document, operation.requestBody);
        if (!isObject(body) || !isObject(body.content) || Object.keys(body.content).length === 0) {
          report(`${opAt}/requestBody`, 'needs content');
        } else {
          checkContent(body.content, `${opAt}/requestBody/content`, report);
        }
      }
      checkResponses(document, operation.responses, `${opAt}/responses`, report);
    }
  }
  return problems;
}

type Report = (at: string, problem: string) => void;
type JsonObject = { [key: string]: unknown };

const ROOT_FIELDS = ['openapi', 'info', 'servers', 'paths', 'components', 'security', 'tags', 'externalDocs'];
const COMPONENT_FIELDS = [
  'schemas',
  'responses',
  'parameters',
  'examples',
  'requestBodies',
  'headers',
  'securitySchemes',
  'links',
  'callbacks',
];
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const PATH_ITEM_FIELDS = [...HTTP_METHODS, '$ref', 'summary', 'description', 'servers', 'parameters'];
const OPERATION_FIELDS = [
  'tags',
  'summary',
  'description',
  'externalDocs',
  'operationId',
  'parameters',
  'requestBody',
  'responses',
  'callbacks',
  'deprecated',
  'security',
  'servers',
];
/** OpenAPI 3.0's Schema Object: a subset of JSON Schema (Wright draft 00) and its own fields. */
const SCHEMA_FIELDS = [
  'title',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
  'enum',
  'type',
  'allOf',
  'oneOf',
  'anyOf',
  'not',
  'items',
  'properties',
  'additionalProperties',
  'description',
  'format',
  'default',
  'nullable',
  'discriminator',
  'readOnly',
  'writeOnly',
  'xml',
  'externalDocs',
  'example',
  'deprecated',
];
const SCHEMA_TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object'];
const PARAMETER_LOCATIONS = ['query', 'header', 'path', 'cookie'];

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function allowOnly(value: JsonObject, fields: readonly string[], at: string, report: Report): void {
  for (const key of Object.keys(value)) {
    if (!fields.includes(key) && !key.startsWith('x-'))
      report(at, `has a field OpenAPI 3.0 does not define: ${key}`);
  }
}

function pointer(document: JsonObject, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = document;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isObject(node) || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

function resolve(document: JsonObject, value: unknown): unknown {
  return isObject(value) && typeof value.$ref === 'string' ? pointer(document, value.$ref) : value;
}

/** Every `$ref` anywhere; the values of `example`, `default` and `enum` are data, not the document's. */
function checkRefs(document: JsonObject, node: unknown, at: string, report: Report, names = false): void {
  if (Array.isArray(node)) {
    for (const [index, item] of node.entries()) checkRefs(document, item, `${at}/${index}`, report);
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    const here = `${at}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (names) {
      // Keys of `properties`, `paths` and the like are names, whatever they spell.
      checkRefs(document, value, here, report);
    } else if (key === '$ref' && typeof value === 'string') {
      if (pointer(document, value) === undefined) report(at, `$ref ${value} does not resolve`);
      // OpenAPI 3.0 ignores whatever stands beside a $ref, so anything there is lost on readers.
      const siblings = Object.keys(node).filter((other) => other !== '$ref');
      if (siblings.length > 0)
        report(at, `$ref has siblings, which OpenAPI 3.0 ignores: ${siblings.join(', ')}`);
    } else if (!DATA_FIELDS.includes(key)) {
      checkRefs(document, value, here, report, NAME_MAPS.includes(key));
    }
  }
}

const DATA_FIELDS = ['example', 'default', 'enum'];
const NAME_MAPS = [
  'paths',
  'properties',
  'schemas',
  'responses',
  'parameters',
  'headers',
  'content',
  'securitySchemes',
  'variables',
  'requestBodies',
  'examples',
  'links',
  'callbacks',
];

function checkServer(server: unknown, at: string, report: Report): void {
  if (!isObject(server) || typeof server.url !== 'string') {
    report(at, 'needs a url');
    return;
  }
  const variables = isObject(server.variables) ? server.variables : {};
  for (const match of server.url.matchAll(/\{([^}]+)\}/g)) {
    const variable = variables[match[1] as string];
    if (!isObject(variable) || typeof variable.default !== 'string') {
      report(at, `variable ${match[1]} needs a default`);
    }
  }
}

function checkSecurityScheme(scheme: unknown, name: string, report: Report): void {
  const at = `components/securitySchemes/${name}`;
  if (!isObject(scheme)) {
    report(at, 'is not an object');
    return;
  }
  if (scheme.type === 'http' && typeof scheme.scheme !== 'string') report(at, 'http needs a scheme');
  if (scheme.type === 'apiKey' && (typeof scheme.name !== 'string' || typeof scheme.in !== 'string')) {
    report(at, 'apiKey needs name and in');
  }
  if (!['apiKey', 'http', 'oauth2', 'openIdConnect'].includes(String(scheme.type)))
    report(at, 'has an unknown type');
}

function checkSecurity(security: unknown, schemes: JsonObject, at: string, report: Report): void {
  if (security === undefined) return;
  if (!Array.isArray(security)) {
    report(at, 'must be an array');
    return;
  }
  for (const requirement of security) {
    for (const name of Object.keys(isObject(requirement) ? requirement : {})) {
      if (!(name in schemes)) report(at, `names ${name}, which is no security scheme`);
    }
  }
}

function checkParameters(
  document: JsonObject,
  path: string,
  parameters: unknown[],
  at: string,
  report: Report,
): void {
  const seen = new Set<string>();
  const inPath = new Set<string>();
  for (const [index, raw] of parameters.entries()) {
    const parameter = resolve(document, raw);
    const pAt = `${at}/parameters/${index}`;
    if (!isObject(parameter) || typeof parameter.name !== 'string' || typeof parameter.in !== 'string') {
      report(pAt, 'needs name and in');
      continue;
    }
    if (!PARAMETER_LOCATIONS.includes(parameter.in)) report(pAt, `in: ${parameter.in} is not a location`);
    const key = `${parameter.in}:${parameter.name.toLowerCase()}`;
    if (seen.has(key)) report(pAt, `${parameter.in} parameter ${parameter.name} is declared twice`);
    seen.add(key);
    if (parameter.in === 'path') {
      inPath.add(parameter.name);
      if (parameter.required !== true) report(pAt, 'a path parameter must be required: true');
    }
    if ((parameter.schema === undefined) === (parameter.content === undefined)) {
      report(pAt, 'needs exactly one of schema and content');
    }
    if (parameter.schema !== undefined) checkSchema(parameter.schema, `${pAt}/schema`, report);
    if (parameter.style === 'deepObject' && parameter.in !== 'query')
      report(pAt, 'deepObject is for query only');
  }
  const template = [...path.matchAll(/\{([^}]+?)\+?\}/g)].map((match) => match[1] as string);
  for (const name of template) {
    if (!inPath.has(name)) report(at, `path parameter ${name} of ${path} is not declared`);
  }
  for (const name of inPath) {
    if (!template.includes(name)) report(at, `path parameter ${name} is not in ${path}`);
  }
}

function checkContent(content: JsonObject, at: string, report: Report): void {
  for (const [mediaType, media] of Object.entries(content)) {
    if (!isObject(media)) {
      report(`${at}/${mediaType}`, 'is not a media type object');
    } else if (media.schema !== undefined) {
      checkSchema(media.schema, `${at}/${mediaType}/schema`, report);
    }
  }
}

function checkResponses(document: JsonObject, responses: unknown, at: string, report: Report): void {
  if (!isObject(responses) || Object.keys(responses).length === 0) {
    report(at, 'needs at least one');
    return;
  }
  for (const [status, raw] of Object.entries(responses)) {
    if (status !== 'default' && !/^[1-5](\d\d|XX)$/.test(status))
      report(at, `${status} is not a status code`);
    const response = resolve(document, raw);
    if (!isObject(response) || typeof response.description !== 'string') {
      report(`${at}/${status}`, 'needs a description');
      continue;
    }
    for (const [name, header] of Object.entries(isObject(response.headers) ? response.headers : {})) {
      const hAt = `${at}/${status}/headers/${name}`;
      if (!isObject(header)) report(hAt, 'is not a header object');
      else if ('name' in header || 'in' in header) report(hAt, 'a header has neither name nor in');
      else if (header.schema !== undefined) checkSchema(header.schema, `${hAt}/schema`, report);
    }
    if (isObject(response.content)) checkContent(response.content, `${at}/${status}/content`, report);
  }
}

function checkSchema(schema: unknown, at: string, report: Report): void {
  if (!isObject(schema)) {
    report(at, 'a schema must be an object');
    return;
  }
  if (typeof schema.$ref === 'string') return;
  allowOnly(schema, SCHEMA_FIELDS, at, report);
  if (schema.type !== undefined && !SCHEMA_TYPES.includes(schema.type as string)) {
    report(
      at,
      `type must be one of ${SCHEMA_TYPES.join(', ')} (one string), not ${JSON.stringify(schema.type)}`,
    );
  }
  if (schema.type === 'array' && schema.items === undefined) report(at, 'an array needs items');
  // OpenAPI 3.0.3: nullable adds null only to a type given in the same schema.
  if (schema.nullable === true && schema.type === undefined) report(at, 'nullable needs a type beside it');
  for (const keyword of ['exclusiveMinimum', 'exclusiveMaximum']) {
    if (schema[keyword] !== undefined && typeof schema[keyword] !== 'boolean') {
      report(at, `${keyword} is a boolean in OpenAPI 3.0`);
    }
  }
  if (schema.required !== undefined) {
    const required = schema.required;
    if (
      !Array.isArray(required) ||
      required.length === 0 ||
      required.some((name) => typeof name !== 'string')
    ) {
      report(at, 'required must be a non-empty array of names');
    }
  }
  if (schema.enum !== undefined && (!Array.isArray(schema.enum) || schema.enum.length === 0)) {
    report(at, 'enum must be a non-empty array');
  }
  if (typeof schema.pattern === 'string') {
    try {
      new RegExp(schema.pattern, 'u');
    } catch {
      report(at, `pattern ${schema.pattern} is not a regular expression`);
    }
  }
  if (schema.items !== undefined) checkSchema(schema.items, `${at}/items`, report);
  if (isObject(schema.additionalProperties)) {
    checkSchema(schema.additionalProperties, `${at}/additionalProperties`, report);
  } else if (schema.additionalProperties !== undefined && typeof schema.additionalProperties !== 'boolean') {
    report(at, 'additionalProperties must be a boolean or a schema');
  }
  if (schema.not !== undefined) checkSchema(schema.not, `${at}/not`, report);
  for (const [name, property] of Object.entries(isObject(schema.properties) ? schema.properties : {})) {
    checkSchema(property, `${at}/properties/${name}`, report);
  }
  for (const keyword of ['allOf', 'anyOf', 'oneOf']) {
    if (schema[keyword] === undefined) continue;
    if (!Array.isArray(schema[keyword]) || schema[keyword].length === 0) {
      report(at, `${keyword} must be a non-empty array`);
      continue;
    }
    for (const [index, item] of (schema[keyword] as unknown[]).entries()) {
      checkSchema(item, `${at}/${keyword}/${index}`, report);
    }
  }
}

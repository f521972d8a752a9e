import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  buildOpenApiDocument,
  OPENAPI_DOCUMENT_PATH,
  openApiProblems,
  renderOpenApiDocument,
} from '../lib/openapi';

// `npm run openapi`: regenerates the committed description from lambdas/routes.ts and the schemas.
const document = buildOpenApiDocument();
const problems = openApiProblems(document);
if (problems.length > 0) {
  console.error(`Not written: the OpenAPI document has problems:\n${problems.join('\n')}`);
  process.exit(1);
}
const target = join(__dirname, '..', OPENAPI_DOCUMENT_PATH);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, renderOpenApiDocument(document));
const paths = document.paths as Record<string, object>;
const operations = Object.values(paths).reduce((count, item) => count + Object.keys(item).length, 0);
console.log(`Wrote ${OPENAPI_DOCUMENT_PATH}: ${operations} operations.`);

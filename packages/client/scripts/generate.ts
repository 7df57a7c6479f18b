import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';
import { buildOpenApiDocuments } from '../../../test/support/openapi-documents';

const HOW = '// Regenerate with `npm run client:generate` at the repository root; a test fails while this file is stale.\n';

/** Writes both APIs' documents and the types generated from them under `root` (the package folder by default). */
export async function generate(root: string): Promise<void> {
  const documents = await buildOpenApiDocuments();
  for (const api of ['command', 'query'] as const) {
    const json = `${JSON.stringify(documents[api], null, 2)}\n`;
    const types = astToString(await openapiTS(documents[api] as unknown as OpenAPI3, { silent: true }));
    write(join(root, 'openapi', `${api}-api.json`), json);
    write(join(root, 'src', 'generated', `${api}-api.ts`), `${COMMENT_HEADER}${HOW}${types}`);
  }
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

if (require.main === module) {
  // `--out <dir>` writes elsewhere, so a test can compare a fresh generation with the committed files.
  const at = process.argv.indexOf('--out');
  const root = at > 0 ? resolve(process.argv[at + 1]) : resolve(__dirname, '..');
  generate(root).then(
    () => console.log(`wrote openapi/*-api.json and src/generated/*-api.ts in ${root}`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

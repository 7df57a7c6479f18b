import type { OpenAPIObject } from '@nestjs/swagger';
import type { Pool } from 'pg';
import { ViewFreshness } from '../../read-model/query-api/freshness';
import { QueryApiModule } from '../../read-model/query-api.module';
import type { ViewStore } from '../../read-model/view-store/view-store';
import { CommandApiModule } from '../../write-model/command-api.module';
import { createHttpApp } from '../../src/http/http-app';
import { COMMAND_API, createOpenApiDocument, QUERY_API } from '../../src/http/openapi';
import { Authenticator } from '../../src/identity/authenticator';
import { generateDevKey } from '../../src/identity/dev-key';
import { createLogger } from '../../src/logger';

/**
 * Both APIs' documents built from the modules alone: the stores are never called while a
 * document is generated, so stand-ins do and no database is needed.
 */
export async function buildOpenApiDocuments(): Promise<{ command: OpenAPIObject; query: OpenAPIObject }> {
  const logger = createLogger('openapi', 'silent');
  const store = {} as ViewStore;
  // Never asked to verify anything while a document is built.
  const authenticator = new Authenticator({ jwksUrl: '', issuer: '', audience: '', devKey: generateDevKey(), roleClaim: 'role' });
  const commandApp = await createHttpApp(CommandApiModule.forRoot({} as Pool), { logger, openapi: COMMAND_API, authenticator });
  const queryApp = await createHttpApp(QueryApiModule.forRoot(store, new ViewFreshness(store, 'openapi')), {
    logger,
    openapi: QUERY_API,
    authenticator,
  });
  try {
    return { command: createOpenApiDocument(commandApp, COMMAND_API), query: createOpenApiDocument(queryApp, QUERY_API) };
  } finally {
    await commandApp.close();
    await queryApp.close();
  }
}

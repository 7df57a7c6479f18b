import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { CommandApiModule } from '../../write-model/command-api.module';
import { writeModelProblem } from '../../write-model/shared/problems';
import type { Config } from '../config';
import { HealthController } from '../http/health';
import { closeHttpApp, createHttpApp } from '../http/http-app';
import { COMMAND_API } from '../http/openapi';
import { observeRequests } from '../http/request-log';
import type { Logger } from '../logger';
import { createRegistry } from '../metrics';
import { createPool } from '../postgres';

/** The command API process: validates, decides and appends; needs only PostgreSQL. */
export async function startCommandApi(
  config: Config,
  logger: Logger,
): Promise<{ app: INestApplication; drain(): void; stop(): Promise<void> }> {
  const pool = createPool(config.databaseUrl, { max: 20 });
  const registry = createRegistry();
  const app = await createHttpApp(CommandApiModule.forRoot(pool, { registry }), {
    logger,
    mappers: [writeModelProblem],
    openapi: COMMAND_API,
    store: 'write store',
  });
  observeRequests(app.getHttpServer() as Server, { logger, registry });
  await app.listen(config.commandApiPort, '0.0.0.0');
  logger.info({ port: config.commandApiPort }, 'command API listening');
  return {
    app,
    drain: () => app.get(HealthController).drain(),
    async stop() {
      await closeHttpApp(app);
      await pool.end();
    },
  };
}

import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { COMMAND_CONTROLLERS, CommandApiModule } from '../../write-model/command-api.module';
import { AppendSignal } from '../../write-model/event-store/append-signal';
import { commandMetrics, commandOutcomes } from '../../write-model/shared/command-metrics';
import { writeModelProblem } from '../../write-model/shared/problems';
import type { Config } from '../config';
import { Authenticator } from '../identity/authenticator';
import { HealthController } from '../http/health';
import { guardServer } from '../http/edge';
import { closeHttpApp, createHttpApp } from '../http/http-app';
import { COMMAND_API } from '../http/openapi';
import { observeRequests } from '../http/request-log';
import type { Logger } from '../logger';
import { createRegistry } from '../metrics';
import { createPool } from '../postgres';

/**
 * The command API process: validates, decides and appends; needs only PostgreSQL. NATS, when it
 * can be reached, only carries the append signals that wake an idle relay.
 */
export async function startCommandApi(
  config: Config,
  logger: Logger,
): Promise<{ app: INestApplication; drain(): void; stop(): Promise<void> }> {
  const pool = createPool(config.databaseUrl, { max: 20, clientName: 'converge command-api' });
  const registry = createRegistry();
  const metrics = commandMetrics(registry);
  const signal = new AppendSignal(config.namespace);
  // In the background: commands do not wait for NATS, and until it answers the relay finds their events by polling.
  signal.connect(config.natsUrl, `converge-command-api ${config.replicaId}`, logger);
  const app = await createHttpApp(CommandApiModule.forRoot(pool, { registry, metrics, signal, cacheSize: config.aggregateCacheSize }), {
    logger,
    mappers: [writeModelProblem],
    openapi: COMMAND_API,
    authenticator: new Authenticator(config.identity),
    corsOrigins: config.edge.corsOrigins,
    store: 'write store',
  });
  observeRequests(app.getHttpServer() as Server, { logger, registry, answered: commandOutcomes(COMMAND_CONTROLLERS, metrics) });
  guardServer(app.getHttpServer() as Server, config.edge.rateLimit);
  await app.listen(config.commandApiPort, config.edge.host);
  logger.info({ port: config.commandApiPort }, 'command API listening');
  return {
    app,
    drain: () => app.get(HealthController).drain(),
    async stop() {
      await closeHttpApp(app);
      await signal.close();
      await pool.end();
    },
  };
}

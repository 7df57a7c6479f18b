import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { allProjections } from '../../read-model/projections';
import { readModelProblem } from '../../read-model/query-api/problems';
import { ViewFreshness } from '../../read-model/query-api/freshness';
import { QueryApiModule } from '../../read-model/query-api.module';
import { ViewReader } from '../../read-model/query-api/view-response';
import { projectionLagMetrics, queryMetrics } from '../../read-model/query-api/query-metrics';
import { ProjectionLagProbe } from '../../read-model/projector/projection-lag';
import { CACHED_VIEWS } from '../../read-model/query-cache/cached-views';
import { fastReads } from '../../read-model/query-cache/fast-path';
import { createReadCache } from '../../read-model/query-cache/read-cache';
import { createViewStore } from '../../read-model/view-store/create-view-store';
import type { Config } from '../config';
import { Authenticator } from '../identity/authenticator';
import { HealthController } from '../http/health';
import { guardServer } from '../http/edge';
import { closeHttpApp, createHttpApp } from '../http/http-app';
import { QUERY_API } from '../http/openapi';
import { observeRequests } from '../http/request-log';
import type { Logger } from '../logger';
import { createRegistry } from '../metrics';
import { dialNats } from '../nats';

/** The query API process: reads the read store only. */
export async function startQueryApi(
  config: Config,
  logger: Logger,
): Promise<{ app: INestApplication; drain(): void; stop(): Promise<void> }> {
  const store = await createViewStore(config.readStoreUrl, { logger, clientName: 'converge query-api' });
  // The query API reads views it does not write: it still declares their typed fields to the store.
  try {
    for (const projection of allProjections(config)) {
      for (const view of projection.views) await store.ensureCollection(view);
    }
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  // NATS only carries checkpoint notices and consumer lag here: the API serves without it and
  // starts listening once it connects.
  const freshness = new ViewFreshness(store, config.namespace, logger);
  const registry = createRegistry();
  // The read cache serves a view only once it hears the projectors' notices (NATS): until then, the store.
  const cache = config.cache.enabled
    ? createReadCache({
        settings: config.cache,
        store,
        namespace: config.namespace,
        registry,
        logger: logger.child({ component: 'read-cache' }),
      })
    : undefined;
  let probe: ProjectionLagProbe | undefined;
  // Dialled in the background: the API serves without NATS, and stop() closes the connection whenever it comes.
  const nats = dialNats(config.natsUrl, 'converge-query-api', {
    logger,
    purpose: 'checkpoint notices',
    connected: async (nc) => {
      freshness.attach(nc);
      probe = new ProjectionLagProbe(nc, config.namespace);
      await cache?.sync.attach(nc);
    },
  });
  const reader = new ViewReader(freshness, cache?.cache, cache?.sync, queryMetrics(registry));
  projectionLagMetrics(
    registry,
    allProjections(config).map((p) => p.name),
    { checkpoint: (projection) => store.checkpoint(projection), lag: async (projection) => probe?.measure(projection) },
  );
  const app = await createHttpApp(QueryApiModule.forRoot(store, freshness, { cache, registry, reader }), {
    logger,
    mappers: [readModelProblem],
    openapi: QUERY_API,
    authenticator: new Authenticator(config.identity),
    corsOrigins: config.edge.corsOrigins,
    store: 'read store',
  });
  // The cache's fast path answers plain reads of cached documents before express sees them; logged and timed like the rest.
  const first = cache && fastReads(CACHED_VIEWS, cache.cache, reader, store);
  observeRequests(app.getHttpServer() as Server, { logger, registry, ...(first && { first }) });
  guardServer(app.getHttpServer() as Server, config.edge.rateLimit);
  await app.listen(config.queryApiPort, config.edge.host);
  logger.info({ port: config.queryApiPort }, 'query API listening');
  return {
    app,
    drain: () => app.get(HealthController).drain(),
    async stop() {
      await closeHttpApp(app);
      await cache?.close();
      await nats.close();
      await store.close();
    },
  };
}

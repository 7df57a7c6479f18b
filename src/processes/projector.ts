import { allProjections } from '../../read-model/projections';
import { Projector } from '../../read-model/projector/projector';
import { createViewStore } from '../../read-model/view-store/create-view-store';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { connectNats } from '../nats';

/** The projector process: one durable consumer per projection, writing the read store. */
export async function startProjector(
  config: Config,
  logger: Logger,
  options: { only?: string[] } = {},
): Promise<{ projectors: Projector[]; stop(): Promise<void> }> {
  const store = await createViewStore(config.readStoreUrl, { logger });
  const nc = await connectNats(config.natsUrl, 'converge-projector', logger);
  const projectors = allProjections(config)
    .filter((p) => !options.only || options.only.includes(p.name))
    .map(
      (projection) =>
        new Projector({
          projection,
          store,
          nc,
          namespace: config.namespace,
          logger: logger.child({ projection: projection.name }),
          batchSize: config.projectionBatchSize,
          maxAttempts: config.projectionMaxAttempts,
          batchDelayMs: config.projectionBatchDelayMs,
        }),
    );
  for (const projector of projectors) await projector.start();
  logger.info({ projections: projectors.map((p) => p.name) }, 'projector running');
  return {
    projectors,
    async stop() {
      await Promise.all(projectors.map((p) => p.stop()));
      await nc.drain().catch(() => undefined);
      await store.close();
    },
  };
}

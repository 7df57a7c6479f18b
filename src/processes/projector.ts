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
  const nc = await connectNats(config.natsUrl, 'converge-projector', logger).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
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
  try {
    for (const projector of projectors) await projector.start();
  } catch (error) {
    // A store or NATS that went away mid-start: release everything, the caller starts afresh.
    await Promise.all(projectors.map((p) => p.stop().catch(() => undefined)));
    await nc.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
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

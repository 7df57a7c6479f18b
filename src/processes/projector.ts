import { LagWatchdog } from '../../read-model/projector/lag-watchdog';
import { ProjectionLagProbe } from '../../read-model/projector/projection-lag';
import { Projector } from '../../read-model/projector/projector';
import { projectorMetrics } from '../../read-model/projector/projector-metrics';
import { allProjections } from '../../read-model/projections';
import { createViewStore } from '../../read-model/view-store/create-view-store';
import type { Config } from '../config';
import { startOpsServer } from '../http/ops-server';
import type { Logger } from '../logger';
import { createRegistry } from '../metrics';
import { connectNats } from '../nats';

/** The projector process: one durable consumer per projection, writing the read store; its lag watchdog. */
export async function startProjector(
  config: Config,
  logger: Logger,
  options: { only?: string[] } = {},
): Promise<{ projectors: Projector[]; watchdog: LagWatchdog; opsPort: number; drain(): void; stop(): Promise<void> }> {
  const store = await createViewStore(config.readStoreUrl, { logger });
  const nc = await connectNats(config.natsUrl, 'converge-projector', logger).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const registry = createRegistry();
  const metrics = projectorMetrics(registry, async () => {
    const counts = new Map<string, number>();
    for (const letter of await store.deadLetters()) counts.set(letter.projection, (counts.get(letter.projection) ?? 0) + 1);
    return counts;
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
          metrics,
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
  const probe = new ProjectionLagProbe(nc, config.namespace);
  const watchdog = new LagWatchdog({
    projections: projectors.map((p) => p.name),
    measure: (projection) => probe.measure(projection),
    thresholdSeconds: config.ops.lagAlertSeconds,
    forMs: config.ops.lagAlertForMs,
    stuckAfterMs: config.ops.stuckAfterMs,
    webhookUrl: config.ops.alertWebhookUrl,
    logger: logger.child({ component: 'lag-watchdog' }),
  });
  watchdog.start();
  const ops = await startOpsServer({
    port: config.ops.projectorPort,
    registry,
    logger,
    checks: { readStore: () => store.checkpoints(), nats: () => nc.flush(), projections: () => watchdog.readiness() },
  });
  logger.info({ projections: projectors.map((p) => p.name), opsPort: ops.port }, 'projector running');
  return {
    projectors,
    watchdog,
    opsPort: ops.port,
    drain: () => ops.drain(),
    async stop() {
      await ops.close();
      await watchdog.stop();
      await Promise.all(projectors.map((p) => p.stop()));
      await nc.drain().catch(() => undefined);
      await store.close();
    },
  };
}

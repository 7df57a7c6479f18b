import { randomBytes } from 'node:crypto';
import { LagWatchdog } from '../../read-model/projector/lag-watchdog';
import { ProjectionOwnership } from '../../read-model/projector/ownership';
import { ProjectionLagProbe } from '../../read-model/projector/projection-lag';
import { Projector } from '../../read-model/projector/projector';
import { projectorMetrics } from '../../read-model/projector/projector-metrics';
import { allProjections } from '../../read-model/projections';
import { createViewStore } from '../../read-model/view-store/create-view-store';
import { SoleLease } from '../../read-model/view-store/sole-lease';
import { LeaseLostError } from '../../read-model/view-store/view-store';
import type { Config } from '../config';
import { OpsServer, opsServerFor } from '../http/ops-server';
import type { Logger } from '../logger';
import { createRegistry } from '../metrics';
import { closeNats, connectNats } from '../nats';

/** The read-store lease whose holder announces the lag watchdog's alerts. */
export const WATCHDOG_LEASE = 'projector-lag-watchdog';

/**
 * The projector process: one durable consumer per projection, writing the read store, and its
 * lag watchdog. Any number may run: each projection is run by the replica holding its lease
 * (ownership.ts).
 */
export async function startProjector(
  config: Config,
  logger: Logger,
  options: { only?: string[]; ops?: OpsServer } = {},
): Promise<{ projectors: Projector[]; ownership: ProjectionOwnership; watchdog: LagWatchdog; opsPort: number; drain(): void; stop(): Promise<void> }> {
  const store = await createViewStore(config.readStoreUrl, { logger, clientName: 'converge projector' });
  // createViewStore has run the read store's migrations already.
  const nc = await connectNats(config.natsUrl, `converge-projector ${config.replicaId}`, logger).catch(async (error: unknown) => {
    // A store or NATS that went away mid-start: release the store, the caller starts afresh.
    await store.close().catch(() => undefined);
    throw error;
  });
  const registry = createRegistry();
  const metrics = projectorMetrics(registry, async () => {
    const counts = new Map<string, number>();
    for (const letter of await store.deadLetters()) counts.set(letter.projection, (counts.get(letter.projection) ?? 0) + 1);
    return counts;
  });
  const owner = `${config.replicaId}/${process.pid}/${randomBytes(3).toString('hex')}`;
  const projections = allProjections(config).filter((p) => !options.only || options.only.includes(p.name));
  const running = new Map<string, Projector>();
  const ownership = new ProjectionOwnership({
    leases: store,
    projections: projections.map((p) => p.name),
    replicaId: config.replicaId,
    owner,
    ttlMs: config.projectorLeaseTtlMs,
    logger: logger.child({ replica: config.replicaId }),
    async start(name, fence, lost) {
      const projector = new Projector({
        projection: projections.find((p) => p.name === name)!,
        store,
        nc,
        namespace: config.namespace,
        logger: logger.child({ projection: name, replica: config.replicaId }),
        batchSize: config.projectionBatchSize,
        maxAttempts: config.projectionMaxAttempts,
        batchDelayMs: config.projectionBatchDelayMs,
        metrics,
        // Which lease each commit was made under: the replica tests read it to prove fencing.
        onBatch: (batch) =>
          logger.debug({ projection: name, token: fence.token, checkpoint: batch.checkpoint, replica: config.replicaId }, 'batch committed'),
        lease: {
          fence,
          lost,
          async confirm() {
            if (!(await store.renewLease(fence, owner, config.projectorLeaseTtlMs))) throw new LeaseLostError(fence);
          },
        },
      });
      await projector.start();
      running.set(name, projector);
      return {
        async stop() {
          running.delete(name);
          await projector.stop();
        },
      };
    },
  });
  try {
    await ownership.start();
  } catch (error) {
    await ownership.stop().catch(() => undefined);
    await nc.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
  // Lag is measured on the durable consumers, whichever replica owns them, so every replica's watchdog sees the same.
  const probe = new ProjectionLagProbe(nc, config.namespace);
  // Only the holder of this lease announces alerts: one alert per lagging projection, not one per replica.
  const alerting = new SoleLease(store, WATCHDOG_LEASE, owner, config.projectorLeaseTtlMs);
  const watchdog = new LagWatchdog({
    projections: projections.map((p) => p.name),
    measure: (projection) => probe.measure(projection),
    thresholdSeconds: config.ops.lagAlertSeconds,
    forMs: config.ops.lagAlertForMs,
    stuckAfterMs: config.ops.stuckAfterMs,
    webhookUrl: config.ops.alertWebhookUrl,
    logger: logger.child({ component: 'lag-watchdog' }),
    announces: () => alerting.held(),
  });
  watchdog.start();
  const ops = await opsServerFor(options.ops, {
    port: config.ops.projectorPort,
    registry,
    logger,
    checks: { readStore: () => store.checkpoints(), nats: () => nc.flush(), projections: () => watchdog.readiness(ownership.owned) },
  });
  logger.info({ replica: config.replicaId, projections: ownership.owned, opsPort: ops.port }, 'projector running');
  return {
    get projectors() {
      return [...running.values()];
    },
    ownership,
    watchdog,
    opsPort: ops.port,
    drain: () => ops.drain(),
    async stop() {
      await ops.close();
      await watchdog.stop();
      await alerting.release();
      await ownership.stop();
      await closeNats(nc);
      await store.close();
    },
  };
}

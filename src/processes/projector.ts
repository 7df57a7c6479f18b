import { randomBytes } from 'node:crypto';
import { ProjectionOwnership } from '../../read-model/projector/ownership';
import { allProjections } from '../../read-model/projections';
import { Projector } from '../../read-model/projector/projector';
import { createViewStore } from '../../read-model/view-store/create-view-store';
import { LeaseLostError } from '../../read-model/view-store/view-store';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { connectNats } from '../nats';

/**
 * The projector process: one durable consumer per projection, writing the read store. Any
 * number may run: each projection is run by the replica holding its lease (ownership.ts).
 */
export async function startProjector(
  config: Config,
  logger: Logger,
  options: { only?: string[] } = {},
): Promise<{ projectors: Projector[]; ownership: ProjectionOwnership; stop(): Promise<void> }> {
  const store = await createViewStore(config.readStoreUrl, { logger });
  await store.init();
  const nc = await connectNats(config.natsUrl, `converge-projector ${config.replicaId}`, logger);
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
        // Which lease each commit was made under: the replica tests read it to prove fencing.
        onBatch: (batch) => logger.debug({ projection: name, token: fence.token, checkpoint: batch.checkpoint, replica: config.replicaId }, 'batch committed'),
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
  await ownership.start();
  logger.info({ replica: config.replicaId, projections: ownership.owned }, 'projector running');
  return {
    get projectors() {
      return [...running.values()];
    },
    ownership,
    async stop() {
      await ownership.stop();
      await nc.drain().catch(() => undefined);
      await store.close();
    },
  };
}

import { RelayLease } from '../../write-model/leases/relay-lease';
import { Relay } from '../../write-model/relay/relay';
import { relayMetrics } from '../../write-model/relay/relay-metrics';
import type { Config } from '../config';
import { OpsServer, opsServerFor } from '../http/ops-server';
import type { Logger } from '../logger';
import { createRegistry } from '../metrics';
import { closeNats, connectNats } from '../nats';
import { createPool } from '../postgres';

/**
 * The relay process: the event log → JetStream, in commit order, exactly once. Several may run:
 * the one holding the publishing lease (write-model/leases/relay-lease.ts) publishes, the others
 * stand by and take over when its session ends.
 */
export async function startRelay(
  config: Config,
  logger: Logger,
  options: { ops?: OpsServer } = {},
): Promise<{ relay: Relay; opsPort: number; drain(): void; stop(): Promise<void> }> {
  // One connection more than the loop needs: the scrape's lag query never waits behind a publish pass.
  const pool = createPool(config.databaseUrl, { max: 3, clientName: 'converge relay' });
  const nc = await connectNats(config.natsUrl, `converge-relay ${config.replicaId}`, logger).catch(async (error: unknown) => {
    await pool.end().catch(() => undefined);
    throw error;
  });
  const registry = createRegistry();
  // The gauges read the relay's cursor when scraped, after it exists.
  const holder: { relay?: Relay } = {};
  const metrics = relayMetrics(registry, pool, () => holder.relay?.publishedCursor ?? null);
  const relay = (holder.relay = new Relay({
    pool,
    nc,
    namespace: config.namespace,
    logger,
    metrics,
    streamReplicas: config.streamReplicas,
    // Appenders announce their commits: idle, the relay sleeps until one does instead of polling every few ms.
    appendSignals: true,
    idlePollMs: config.relayIdlePollMs,
  }));
  const lease = new RelayLease({
    databaseUrl: config.databaseUrl,
    namespace: config.namespace,
    replicaId: config.replicaId,
    checkIntervalMs: config.relayLeaseCheckMs,
  });
  let stopping = false;
  let release: (() => Promise<void>) | undefined;
  const serve = async () => {
    while (!stopping) {
      logger.info({ replica: config.replicaId }, 'relay standing by for the publishing lease');
      const held = await lease.acquire().catch((error: unknown) => {
        if (!stopping) logger.warn({ err: error }, 'relay lease: waiting failed; retrying');
        return undefined;
      });
      if (!held) {
        if (!stopping) await new Promise((resolve) => setTimeout(resolve, config.relayLeaseCheckMs));
        continue;
      }
      release = () => held.release();
      if (stopping) break;
      logger.info({ replica: config.replicaId }, 'relay holds the publishing lease: publishing');
      relay.start();
      await held.lost;
      if (stopping) break;
      logger.warn({ replica: config.replicaId }, 'relay lost its publishing lease: standing down');
      await relay.stop();
      await held.release();
    }
  };
  const serving = serve();
  const ops = await opsServerFor(options.ops, {
    port: config.ops.relayPort,
    registry,
    logger,
    checks: { postgres: () => pool.query('SELECT 1'), nats: () => nc.flush() },
  });
  logger.info({ namespace: config.namespace, replica: config.replicaId, opsPort: ops.port }, 'relay running');
  return {
    relay,
    opsPort: ops.port,
    drain: () => ops.drain(),
    async stop() {
      await ops.close();
      stopping = true;
      await lease.cancel();
      await relay.stop();
      await release?.();
      await serving.catch(() => undefined);
      await closeNats(nc);
      await pool.end();
    },
  };
}

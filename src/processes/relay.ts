import { Relay } from '../../write-model/relay/relay';
import { relayMetrics } from '../../write-model/relay/relay-metrics';
import type { Config } from '../config';
import { startOpsServer } from '../http/ops-server';
import type { Logger } from '../logger';
import { createRegistry } from '../metrics';
import { connectNats } from '../nats';
import { createPool } from '../postgres';

/** The relay process: the event log → JetStream, in commit order, exactly once. */
export async function startRelay(
  config: Config,
  logger: Logger,
): Promise<{ relay: Relay; opsPort: number; drain(): void; stop(): Promise<void> }> {
  // One connection more than the loop needs: the scrape's lag query never waits behind a publish pass.
  const pool = createPool(config.databaseUrl, { max: 3 });
  const nc = await connectNats(config.natsUrl, 'converge-relay', logger);
  const registry = createRegistry();
  // The gauges read the relay's cursor when scraped, after it exists.
  const holder: { relay?: Relay } = {};
  const metrics = relayMetrics(registry, pool, () => holder.relay?.publishedCursor ?? null);
  const relay = (holder.relay = new Relay({ pool, nc, namespace: config.namespace, logger, metrics }));
  relay.start();
  const ops = await startOpsServer({
    port: config.ops.relayPort,
    registry,
    logger,
    checks: { postgres: () => pool.query('SELECT 1'), nats: () => nc.flush() },
  });
  logger.info({ namespace: config.namespace, opsPort: ops.port }, 'relay running');
  return {
    relay,
    opsPort: ops.port,
    drain: () => ops.drain(),
    async stop() {
      await ops.close();
      await relay.stop();
      await nc.drain().catch(() => undefined);
      await pool.end();
    },
  };
}

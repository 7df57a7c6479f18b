import { Relay } from '../../write-model/relay/relay';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { connectNats } from '../nats';
import { createPool } from '../postgres';

/** The relay process: the event log → JetStream, in commit order, exactly once. */
export async function startRelay(config: Config, logger: Logger): Promise<{ relay: Relay; stop(): Promise<void> }> {
  const pool = createPool(config.databaseUrl, { max: 2 });
  const nc = await connectNats(config.natsUrl, 'converge-relay', logger);
  const relay = new Relay({ pool, nc, namespace: config.namespace, logger });
  relay.start();
  logger.info({ namespace: config.namespace }, 'relay running');
  return {
    relay,
    async stop() {
      await relay.stop();
      await nc.drain().catch(() => undefined);
      await pool.end();
    },
  };
}

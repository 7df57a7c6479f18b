import { connect } from 'nats';
import type { Config } from '../config';
import { CheckpointNotice, checkpointSubject } from '../nats';

/**
 * Tells running query APIs about a view change made outside the projector (a rebuild's swap,
 * a retried dead letter), so their read caches drop what it voids. Best effort, bounded: a
 * query API that misses it resynchronises its cache when it next reconnects or starts.
 */
export async function announceToQueryApis(config: Config, notice: CheckpointNotice): Promise<boolean> {
  try {
    const nc = await connect({ servers: config.natsUrl, name: 'converge-cli', timeout: 2_000, maxReconnectAttempts: 0, noAsyncTraces: true });
    nc.publish(checkpointSubject(config.namespace), JSON.stringify(notice));
    await nc.drain();
    return true;
  } catch {
    return false;
  }
}

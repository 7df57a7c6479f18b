import { DiscardPolicy, JetStreamManager, RetentionPolicy, StorageType } from 'nats';
import { eventStreamName, eventSubjects } from './names';

/**
 * Creates (or updates) the event stream; idempotent, safe for every process to call at start-up.
 * `replicas` (NATS_STREAM_REPLICAS: copies kept by a JetStream cluster) is set by the relay, the
 * stream's writer; a caller that leaves it out keeps what the stream has (1 on creation).
 */
export async function ensureEventStream(jsm: JetStreamManager, namespace: string, options: { replicas?: number } = {}): Promise<void> {
  const name = eventStreamName(namespace);
  const config = {
    name,
    subjects: [eventSubjects(namespace)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    // Message ids (= event ids) are remembered this long to drop duplicates of a republish.
    duplicate_window: 2 * 60 * 1_000_000_000,
    num_replicas: options.replicas ?? 1,
  };
  try {
    const existing = await jsm.streams.info(name);
    await jsm.streams.update(name, { ...config, num_replicas: options.replicas ?? existing.config.num_replicas });
  } catch (error) {
    if ((error as { code?: string }).code !== '404' && !/stream not found/i.test(String(error))) throw error;
    await jsm.streams.add(config);
  }
}

import { connect, JetStreamManager, NatsConnection, RetentionPolicy, StorageType, DiscardPolicy } from 'nats';
import type { Logger } from './logger';

/** The one JetStream stream that carries every domain event of a namespace. */
export function eventStreamName(namespace: string): string {
  return `${namespace}_events`.toUpperCase().replace(/-/g, '_');
}

export function consumerName(namespace: string, owner: string): string {
  return `${namespace}_${owner}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * Core NATS subject on which projectors announce each committed checkpoint (outside the
 * event stream's subjects, so JetStream never stores these).
 */
export function checkpointSubject(namespace: string): string {
  return `_converge.${namespace}.checkpoints`;
}

export interface CheckpointNotice {
  projection: string;
  orderKey: string;
  position: number;
  /** ISO time the last applied event was recorded. */
  eventRecordedAt: string;
}

export async function connectNats(url: string, name: string, logger?: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers: url,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    // Async stack traces cost two Error objects per publish: a fifth of the relay's CPU.
    noAsyncTraces: true,
  });
  if (logger) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect' || status.type === 'reconnect') logger.info({ nats: status.type }, 'NATS connection');
      }
    })();
  }
  return nc;
}

/** Creates (or updates) the event stream; idempotent, safe for every process to call at start-up. */
export async function ensureEventStream(jsm: JetStreamManager, namespace: string): Promise<void> {
  const name = eventStreamName(namespace);
  const config = {
    name,
    subjects: [`${namespace}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    // Message ids (= event ids) are remembered this long to drop duplicates of a republish.
    duplicate_window: 2 * 60 * 1_000_000_000,
    num_replicas: 1,
  };
  try {
    await jsm.streams.info(name);
    await jsm.streams.update(name, config);
  } catch (error) {
    if ((error as { code?: string }).code !== '404' && !/stream not found/i.test(String(error))) throw error;
    await jsm.streams.add(config);
  }
}

import { connect, Events, NatsConnection } from 'nats';
import type { Logger } from '../logger';
import { redact } from '../postgres';

/** How often a process waiting for its first NATS connection says so. */
const FIRST_CONNECT_WARNING_MS = 5_000;

export async function connectNats(url: string, name: string, logger?: Logger): Promise<NatsConnection> {
  // waitOnFirstConnect waits for NATS however long it takes: say what is awaited, instead of a silent start-up.
  const waiting = logger
    ? setInterval(() => logger.warn(`cannot reach NATS at ${redact(url)} yet, still trying; check NATS_URL`), FIRST_CONNECT_WARNING_MS).unref()
    : undefined;
  const nc = await connect({
    // NATS_URL may list a cluster's servers, comma-separated.
    servers: url.split(',').map((server) => server.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    // Async stack traces cost two Error objects per publish: a fifth of the relay's CPU.
    noAsyncTraces: true,
  }).finally(() => clearInterval(waiting));
  if (logger) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === Events.Disconnect || status.type === Events.Reconnect) logger.info({ nats: status.type }, 'NATS connection');
      }
    })();
  }
  return nc;
}

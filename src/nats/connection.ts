import { connect, Events, NatsConnection } from 'nats';
import type { Logger } from '../logger';
import { redact } from '../postgres';

/** How often a process waiting for its first NATS connection says so. */
const FIRST_CONNECT_WARNING_MS = 5_000;

/**
 * A connection that redials for ever once made. By default the first connection is awaited however
 * long NATS takes; `waitOnFirstConnect: false` fails at once instead, for a caller that retries on
 * its own terms (and can stop retrying).
 */
export async function connectNats(
  url: string,
  name: string,
  logger?: Logger,
  options: { waitOnFirstConnect?: boolean } = {},
): Promise<NatsConnection> {
  const waitOnFirstConnect = options.waitOnFirstConnect ?? true;
  // waitOnFirstConnect waits for NATS however long it takes: say what is awaited, instead of a silent start-up.
  const waiting =
    logger && waitOnFirstConnect
      ? setInterval(
          () => logger.warn(`cannot reach NATS at ${redact(url)} yet, still trying; check NATS_URL`),
          FIRST_CONNECT_WARNING_MS,
        ).unref()
      : undefined;
  const nc = await connect({
    // NATS_URL may list a cluster's servers, comma-separated.
    servers: url.split(',').map((server) => server.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect,
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

import { connect, Events, NatsConnection } from 'nats';
import type { Logger } from '../logger';
import { stillTrying } from '../unreachable';

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
    logger && waitOnFirstConnect ? setInterval(() => logger.warn(stillTrying('NATS', url)), FIRST_CONNECT_WARNING_MS).unref() : undefined;
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

/** How long closeNats lets a drain run before it closes the connection instead. */
const DRAIN_GRACE_MS = 2_000;

/**
 * Drains a connection on stop (its subscriptions finish the messages in hand, queued publishes
 * are flushed), but closes it once `graceMs` has passed. A drain waits for the server's answer:
 * a server that is frozen, or whose host has vanished, keeps the socket open and never answers,
 * and the process would not stop (a killed server is different: the refused reconnect ends it).
 */
export async function closeNats(nc: NatsConnection, graceMs = DRAIN_GRACE_MS): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
  try {
    await Promise.race([nc.drain().catch(() => undefined), grace]);
  } finally {
    clearTimeout(timer);
  }
  if (!nc.isClosed()) await nc.close().catch(() => undefined);
}

/** A connection dialNats is making or has made; close() ends the attempts and closes it. */
export interface NatsDial {
  close(): Promise<void>;
}

/** How often dialNats tries again while NATS cannot be reached. */
const DIAL_RETRY_MS = 1_000;

/**
 * Connects in the background for a process that works without NATS and only does more with it
 * (the command API's append signals, the query API's notices): start-up never waits, an attempt
 * that finds NATS away fails fast and is tried again every `retryMs`, and `connected` gets the
 * connection once one is made. close() ends the attempts and closes the connection, also one an
 * attempt still in flight brings, or one `connected` is still waiting on: a process stopped while
 * NATS is away leaves no client redialling behind it.
 */
export function dialNats(
  url: string,
  name: string,
  options: {
    logger?: Logger;
    /** What waits for NATS, for the log: "append signals", "checkpoint notices". */
    purpose: string;
    connected(nc: NatsConnection): void | Promise<void>;
    retryMs?: number;
  },
): NatsDial {
  const { logger, purpose } = options;
  let nc: NatsConnection | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  /** When the last "still trying" was said; 0 while no attempt has failed. */
  let warned = 0;
  const attempt = () => {
    connectNats(url, name, logger, { waitOnFirstConnect: false }).then(
      async (made) => {
        if (closed) return void (await made.close().catch(() => undefined));
        nc = made;
        if (warned) logger?.info(`NATS answers: ${purpose} on`);
        try {
          await options.connected(made);
        } catch (error) {
          if (!closed) logger?.warn({ err: error }, `NATS: setting up ${purpose} failed`);
        }
      },
      (error: unknown) => {
        if (closed) return;
        // Said like a process waiting on its first connection says it, but with what waits meanwhile.
        if (Date.now() - warned >= FIRST_CONNECT_WARNING_MS) {
          warned = Date.now();
          const reason = (error as { code?: string }).code ?? String(error);
          logger?.warn({ reason }, stillTrying('NATS', url, undefined, `no ${purpose} until then`));
        }
        retry = setTimeout(attempt, options.retryMs ?? DIAL_RETRY_MS).unref();
      },
    );
  };
  attempt();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      // Closed, not drained: what it carries is best effort, and a drain waits for a server that may be away.
      await nc?.close().catch(() => undefined);
    },
  };
}

import type { NatsConnection } from 'nats';
import type { Logger } from '../../src/logger';
import { appendedSubject, connectNats } from '../../src/nats';

/** How often a signal that connects on its own tries NATS again while it cannot be reached. */
const RETRY_MS = 1_000;

/**
 * Tells relays that events were just committed, so that an idle relay reads them at once
 * instead of on its next poll. Best effort, over core NATS: appends in one turn of the event loop
 * send one message; before there is a connection, or while NATS is away, nothing is sent and
 * the relay finds the events on its idle poll (RELAY_IDLE_POLL_MS). Commands never wait for it.
 */
export class AppendSignal {
  private nc?: NatsConnection;
  private queued = false;
  /** The connection connect() made, closed by close(); one that attach() lent is its owner's. */
  private owned?: NatsConnection;
  private retry?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly namespace: string) {}

  /** Sends on a connection the process already has (the process manager's). */
  attach(nc: NatsConnection): void {
    this.nc = nc;
  }

  /**
   * Connects on its own (the command API, which needs NATS for nothing else), trying again every
   * second while NATS cannot be reached, so that neither start-up nor commands ever wait for it.
   */
  connect(url: string, name: string, logger?: Logger): void {
    let said = false;
    const attempt = () => {
      connectNats(url, name, undefined, { waitOnFirstConnect: false }).then(
        (nc) => {
          if (this.closed) return void nc.close();
          this.owned = nc;
          this.attach(nc);
          if (said) logger?.info('NATS answers: append signals on');
        },
        (error: unknown) => {
          if (this.closed) return;
          if (!said)
            logger?.warn({ err: error }, 'NATS unreachable: no append signals until it answers (the relay finds new events by polling)');
          said = true;
          this.retry = setTimeout(attempt, RETRY_MS).unref();
        },
      );
    };
    attempt();
  }

  /** Stops sending, and closes the connection connect() made (or the one an attempt still in flight makes). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.nc = undefined;
    // Closed, not drained: a signal left unsent costs nothing, and a drain waits for a server that may be away.
    await this.owned?.close().catch(() => undefined);
  }

  appended(): void {
    if (!this.nc || this.queued) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      try {
        this.nc?.publish(appendedSubject(this.namespace));
      } catch {
        // A closed or draining connection: the relay's idle poll finds the events.
      }
    });
  }
}

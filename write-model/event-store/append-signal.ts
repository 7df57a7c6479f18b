import type { NatsConnection } from 'nats';
import type { Logger } from '../../src/logger';
import { appendedSubject, dialNats, NatsDial } from '../../src/nats';

/**
 * Tells relays that events were just committed, so that an idle relay reads them at once
 * instead of on its next poll. Best effort, over core NATS: appends in one turn of the event loop
 * send one message; before there is a connection, or while NATS is away, nothing is sent and
 * the relay finds the events on its idle poll (RELAY_IDLE_POLL_MS). Commands never wait for it.
 */
export class AppendSignal {
  private nc?: NatsConnection;
  private queued = false;
  /** The connection connect() dials, closed by close(); one that attach() lent is its owner's. */
  private dial?: NatsDial;

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
    this.dial = dialNats(url, name, {
      logger,
      purpose: 'append signals',
      connected: (nc) => this.attach(nc),
    });
  }

  /** Stops sending, and closes the connection connect() made (or the one an attempt still in flight makes). */
  async close(): Promise<void> {
    this.nc = undefined;
    await this.dial?.close();
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

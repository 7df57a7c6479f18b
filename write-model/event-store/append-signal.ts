import type { NatsConnection } from 'nats';
import { appendedSubject } from '../../src/nats';

/**
 * Tells relays that events were just committed, so that an idle relay reads them at once
 * instead of on its next poll. Best effort, over core NATS: appends in one turn of the event loop
 * send one message; before a connection is attached, or while NATS is away, nothing is sent and
 * the relay finds the events on its idle poll (RELAY_IDLE_POLL_MS). Commands never wait for it.
 */
export class AppendSignal {
  private nc?: NatsConnection;
  private queued = false;

  constructor(private readonly namespace: string) {}

  attach(nc: NatsConnection): void {
    this.nc = nc;
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

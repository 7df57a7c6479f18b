import type { Pool } from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import type { RelayCursor } from './relay';

/** What the relay loop reports as it goes; passed in, a no-op by default. */
export interface RelayCollector {
  published(events: number): void;
  publishFailed(): void;
  connection(connected: boolean): void;
  signalled(): void;
}

export const noRelayMetrics: RelayCollector = {
  published: () => undefined,
  publishFailed: () => undefined,
  connection: () => undefined,
  signalled: () => undefined,
};

/**
 * `converge_relay_*` on the relay process's registry. Head, published position and lag are
 * read when Prometheus scrapes (one indexed query), so they stay true while the loop is stuck.
 */
export function relayMetrics(registry: Registry, pool: Pool, cursor: () => RelayCursor | null): RelayCollector {
  const registers = [registry];
  const published = new Counter({ name: 'converge_relay_events_published_total', help: 'events published to JetStream', registers });
  const errors = new Counter({
    name: 'converge_relay_publish_errors_total',
    help: 'relay passes that failed (publish, NATS or PostgreSQL error)',
    registers,
  });
  const connected = new Gauge({
    name: 'converge_relay_nats_connected',
    help: '1 while the relay is connected to NATS, 0 while it redials',
    registers,
  });
  connected.set(1);
  const signals = new Counter({
    name: 'converge_relay_append_signals_total',
    help: "appenders' signals of committed events received (none while events are published: the relay finds them by its idle poll)",
    registers,
  });
  let sample: Promise<{ head: number; events: number; oldest: Date | null }> | undefined;
  // Four gauges, one query per scrape: the first collect() of a scrape runs it, the others join it
  // while it is in flight; once it has answered, the next scrape asks again (never a stale head).
  const measure = () => {
    if (!sample) {
      const at = cursor() ?? { txId: '0', position: 0 };
      sample = pool
        .query<{ head: string | null; events: string; oldest: Date | null }>(
          `SELECT (SELECT max(position) FROM events) AS head, count(*) AS events, min(recorded_at) AS oldest
             FROM events WHERE (tx_id, position) > ($1::text::xid8, $2::bigint)`,
          [at.txId, at.position],
        )
        .then(({ rows: [row] }) => ({ head: Number(row.head ?? 0), events: Number(row.events), oldest: row.oldest }))
        .finally(() => setImmediate(() => (sample = undefined)));
    }
    return sample;
  };
  new Gauge({
    name: 'converge_relay_log_head_position',
    help: 'highest global position in the event log',
    registers,
    async collect() {
      this.set((await measure()).head);
    },
  });
  new Gauge({
    name: 'converge_relay_published_position',
    help: 'position of the last event the relay knows is in the stream',
    registers,
    collect() {
      this.set(cursor()?.position ?? 0);
    },
  });
  new Gauge({
    name: 'converge_relay_lag_events',
    help: 'committed events not yet published',
    registers,
    async collect() {
      this.set((await measure()).events);
    },
  });
  new Gauge({
    name: 'converge_relay_lag_seconds',
    help: 'age of the oldest committed event not yet published (0 when none)',
    registers,
    async collect() {
      const { oldest } = await measure();
      this.set(oldest ? Math.max(0, Date.now() - oldest.getTime()) / 1000 : 0);
    },
  });
  return {
    published: (events) => published.inc(events),
    publishFailed: () => errors.inc(),
    connection: (up) => connected.set(up ? 1 : 0),
    signalled: () => signals.inc(),
  };
}

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProjectionLag } from '../projector/projection-lag';
import type { Checkpoint } from '../view-store/view-store';

/** What the query API's readers report; passed in, a no-op by default. */
export interface QueryCollector {
  /** A read with a consistency token waited this long; `reached` false: it timed out and answered stale. */
  tokenWaited(projection: string, seconds: number, reached: boolean): void;
}

export const noQueryMetrics: QueryCollector = { tokenWaited: () => undefined };

export function queryMetrics(registry: Registry): QueryCollector {
  const registers = [registry];
  const waits = new Counter({
    name: 'converge_query_token_waits_total',
    help: 'reads that waited for a consistency token: outcome reached, or stale (timed out, answered with what the view had)',
    labelNames: ['projection', 'outcome'],
    registers,
  });
  const duration = new Histogram({
    name: 'converge_query_token_wait_seconds',
    help: 'time a read waited for its consistency token',
    labelNames: ['projection'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  return {
    tokenWaited(projection, seconds, reached) {
      waits.inc({ projection, outcome: reached ? 'reached' : 'stale' });
      duration.observe({ projection }, seconds);
    },
  };
}

/**
 * Every projection's position and lag, exported by the query API rather than the projector: it
 * reads the checkpoints in the read store and the consumers' state on the JetStream server, so
 * the lag keeps rising in Prometheus while the projector is down (the case the alerts exist for).
 */
export function projectionLagMetrics(
  registry: Registry,
  projections: string[],
  sources: { checkpoint(projection: string): Promise<Checkpoint | undefined>; lag(projection: string): Promise<ProjectionLag | undefined> },
): void {
  const registers = [registry];
  const labelNames = ['projection'] as const;
  let sample: Promise<Map<string, { position?: number; lag?: ProjectionLag }>> | undefined;
  let sampledAt = 0;
  // One look per scrape, shared by the three gauges.
  const measure = () => {
    if (!sample || Date.now() - sampledAt > 500) {
      sampledAt = Date.now();
      sample = Promise.all(
        projections.map(async (projection) => {
          const [checkpoint, lag] = await Promise.all([
            sources.checkpoint(projection).catch(() => undefined),
            sources.lag(projection).catch(() => undefined),
          ]);
          return [projection, { position: checkpoint?.position, lag }] as const;
        }),
      ).then((entries) => new Map(entries));
    }
    return sample;
  };
  const gauge = (name: string, help: string, value: (m: { position?: number; lag?: ProjectionLag }) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        this.reset();
        for (const [projection, measured] of await measure()) {
          const v = value(measured);
          if (v !== undefined) this.set({ projection }, v);
        }
      },
    });
  gauge('converge_projection_position', "global position of the last event in the projection's checkpoint (read store)", (m) => m.position);
  gauge('converge_projection_lag_events', 'events in the stream the projection has not applied yet', (m) => m.lag?.events);
  gauge(
    'converge_projection_lag_seconds',
    'age of the oldest event the projection has not applied yet (0 when caught up)',
    (m) => m.lag?.seconds,
  );
}

import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the projector runtime reports; passed in, a no-op by default (unit code, rebuild, tests). */
export interface ProjectorCollector {
  batchCommitted(projection: string, batch: { events: number; seconds: number; position: number; deadLetters: number }): void;
  redelivered(projection: string, messages: number): void;
}

export const noProjectorMetrics: ProjectorCollector = {
  batchCommitted: () => undefined,
  redelivered: () => undefined,
};

/**
 * `converge_projection_*` on the projector's registry. The dead letters still stored are read at
 * scrape time (`deadLettersNow`), so a replay from the CLI shows without a restart.
 */
export function projectorMetrics(registry: Registry, deadLettersNow: () => Promise<Map<string, number>>): ProjectorCollector {
  const registers = [registry];
  const labelNames = ['projection'] as const;
  const position = new Gauge({
    name: 'converge_projection_applied_position',
    help: 'global position of the last event the projection applied',
    labelNames,
    registers,
  });
  const applied = new Counter({
    name: 'converge_projection_events_applied_total',
    help: 'events applied (committed with the checkpoint)',
    labelNames,
    registers,
  });
  const duration = new Histogram({
    name: 'converge_projection_batch_duration_seconds',
    help: 'time from taking a batch to its commit with the checkpoint',
    labelNames,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const redeliveries = new Counter({
    name: 'converge_projection_redeliveries_total',
    help: 'messages JetStream delivered more than once',
    labelNames,
    registers,
  });
  const deadLettered = new Counter({
    name: 'converge_projection_dead_letters_total',
    help: 'events moved to the dead-letter store',
    labelNames,
    registers,
  });
  new Gauge({
    name: 'converge_projection_dead_letters',
    help: 'dead letters stored now (not yet replayed)',
    labelNames,
    registers,
    async collect() {
      this.reset();
      for (const [projection, count] of await deadLettersNow()) this.set({ projection }, count);
    },
  });
  return {
    batchCommitted(projection, batch) {
      position.set({ projection }, batch.position);
      applied.inc({ projection }, batch.events);
      duration.observe({ projection }, batch.seconds);
      if (batch.deadLetters) deadLettered.inc({ projection }, batch.deadLetters);
    },
    redelivered(projection, messages) {
      redeliveries.inc({ projection }, messages);
    },
  };
}

import { Counter, Gauge, Histogram, register as defaultRegistry, type Registry } from 'prom-client';
import type { DifferenceKind } from './reconcile-report';

/** What the reconciler found and repaired, on the process's registry (the alert rules read the differences). */
export class ReconcilerMetrics {
  readonly runs: Counter;
  readonly documentsChecked: Counter<'projection'>;
  readonly differences: Counter<'projection' | 'kind'>;
  readonly repairs: Counter<'projection'>;
  readonly lastRun: Gauge;
  readonly duration: Histogram;
  readonly leaseHeld: Gauge;

  constructor(registry: Registry = defaultRegistry) {
    const registers = [registry];
    this.runs = new Counter({ name: 'converge_reconciler_runs_total', help: 'reconciler runs completed', registers });
    this.documentsChecked = new Counter({
      name: 'converge_reconciler_documents_checked_total',
      help: 'view documents compared with the log',
      labelNames: ['projection'],
      registers,
    });
    this.differences = new Counter({
      name: 'converge_reconciler_differences_total',
      help: 'view documents found differing from the log: changed (body differs), missing (absent from the view), extra (not in the log)',
      labelNames: ['projection', 'kind'],
      registers,
    });
    this.repairs = new Counter({
      name: 'converge_reconciler_repairs_total',
      help: 'differing documents written back to what the log says',
      labelNames: ['projection'],
      registers,
    });
    this.lastRun = new Gauge({ name: 'converge_reconciler_last_run_timestamp_seconds', help: 'when the last run finished (Unix time)', registers });
    this.duration = new Histogram({
      name: 'converge_reconciler_run_duration_seconds',
      help: 'how long a run took (every projection)',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.leaseHeld = new Gauge({
      name: 'converge_reconciler_lease_held',
      help: '1 while this replica holds the reconciler lease and reconciles, 0 while it stands by for another',
      registers,
    });
  }

  /** Every projection's series exist from the start at 0, so rate() and increase() see the first difference. */
  seed(projections: string[]): void {
    for (const projection of projections) {
      this.documentsChecked.inc({ projection }, 0);
      this.repairs.inc({ projection }, 0);
      for (const kind of ['changed', 'missing', 'extra'] satisfies DifferenceKind[]) this.differences.inc({ projection, kind }, 0);
    }
  }
}

import type { ViewStore } from '../view-store/view-store';
import { orderKey } from '../../src/contracts';

export type DifferenceKind = 'changed' | 'missing' | 'extra';

export interface ReconcileFinding {
  collection: string;
  id: string;
  kind: DifferenceKind;
  /** What the log gives (null: no such document) and what the view held. */
  expected: Record<string, unknown> | null;
  actual: Record<string, unknown> | null;
  repaired: boolean;
}

export interface ProjectionReconcileReport {
  projection: string;
  /** The position the view was compared at (its checkpoint when the run began); null: no checkpoint yet. */
  position: number | null;
  checked: number;
  /** Documents past that position when read: compared at a later run. */
  deferred: number;
  differences: Record<DifferenceKind, number>;
  repaired: number;
  /** The first findings (the log lines have every one). */
  findings: ReconcileFinding[];
}

export interface ReconcileReport {
  run: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Every document is checked at least once in this many runs (see the README). */
  cycleRuns: number;
  projections: ProjectionReconcileReport[];
}

/** The report is kept as one document of a collection of its own, so the query API and `converge status` read it from the read store. */
export const REPORT_COLLECTION = 'reconciler_runs';
const REPORT_ID = 'last';
const REPORT_OWNER = 'reconciler';

export async function saveReport(store: ViewStore, report: ReconcileReport): Promise<void> {
  await store.ensureCollection({ collection: REPORT_COLLECTION, fields: {} });
  // The run's finishing time orders the writes, so an older reconciler replica never overwrites a newer report.
  const key = orderKey(0, Date.parse(report.finishedAt));
  await store.commit({
    projection: REPORT_OWNER,
    changes: [{ collection: REPORT_COLLECTION, id: REPORT_ID, doc: report as unknown as Record<string, unknown>, applied: key }],
    checkpoint: { orderKey: key, position: report.run, eventRecordedAt: null, pending: 0 },
  });
}

export async function loadReport(store: ViewStore): Promise<ReconcileReport | null> {
  if (!(await store.listCollections()).includes(REPORT_COLLECTION)) return null;
  const stored = await store.get(REPORT_COLLECTION, REPORT_ID);
  return stored ? (stored.doc as unknown as ReconcileReport) : null;
}

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

/**
 * Reports are kept as documents of a collection of their own (the last run's, and the last one
 * that found differences), so the query API and `converge status` read them from the read store.
 */
export const REPORT_COLLECTION = 'reconciler_runs';
const LAST = 'last';
const LAST_WITH_DIFFERENCES = 'last-with-differences';
const REPORT_OWNER = 'reconciler';

export function differencesIn(report: ReconcileReport): number {
  return report.projections.reduce((n, p) => n + p.differences.changed + p.differences.missing + p.differences.extra, 0);
}

export async function saveReport(store: ViewStore, report: ReconcileReport): Promise<void> {
  await store.ensureCollection({ collection: REPORT_COLLECTION, fields: {} });
  // The run's finishing time orders the writes, so an older reconciler replica never overwrites a newer report.
  const key = orderKey(0, Date.parse(report.finishedAt));
  const doc = report as unknown as Record<string, unknown>;
  await store.commit({
    projection: REPORT_OWNER,
    changes: [
      { collection: REPORT_COLLECTION, id: LAST, doc, applied: key },
      ...(differencesIn(report) ? [{ collection: REPORT_COLLECTION, id: LAST_WITH_DIFFERENCES, doc, applied: key }] : []),
    ],
    checkpoint: { orderKey: key, position: report.run, eventRecordedAt: null, pending: 0 },
  });
}

/** The last run's report and the last one that found differences (null: none yet). */
export async function loadReports(store: ViewStore): Promise<{ last: ReconcileReport | null; lastWithDifferences: ReconcileReport | null }> {
  if (!(await store.listCollections()).includes(REPORT_COLLECTION)) return { last: null, lastWithDifferences: null };
  const found = await store.getMany(REPORT_COLLECTION, [LAST, LAST_WITH_DIFFERENCES]);
  const report = (id: string) => (found.get(id)?.doc as unknown as ReconcileReport | undefined) ?? null;
  return { last: report(LAST), lastWithDifferences: report(LAST_WITH_DIFFERENCES) };
}

/** What `converge status` and the status page show of a run: totals over every projection. */
export function summarizeReport(report: ReconcileReport) {
  const differences = { changed: 0, missing: 0, extra: 0 };
  for (const p of report.projections) for (const kind of ['changed', 'missing', 'extra'] as const) differences[kind] += p.differences[kind];
  return {
    run: report.run,
    finishedAt: report.finishedAt,
    durationMs: report.durationMs,
    cycleRuns: report.cycleRuns,
    checked: report.projections.reduce((n, p) => n + p.checked, 0),
    differences,
    repaired: report.projections.reduce((n, p) => n + p.repaired, 0),
    findings: report.projections.flatMap((p) => p.findings.map((f) => ({ projection: p.projection, ...f }))),
  };
}

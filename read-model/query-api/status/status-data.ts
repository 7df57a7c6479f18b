import { ORDERS } from '../../order-summary/order-summary.projection';
import { loadReports, summarizeReport } from '../../reconciler/reconcile-report';
import type { ViewStore } from '../../view-store/view-store';
import type { ViewFreshness } from '../freshness';

/** A view this many seconds behind (or less) is ok. */
export const OK_LAG_SECONDS = 5;
/** A view with a backlog whose checkpoint has not moved for this long is stuck, not merely lagging. */
export const STUCK_AFTER_SECONDS = 15;
/** Samples kept for the lag chart: one a second at most, for ten minutes. */
const HISTORY_MS = 10 * 60_000;
const SAMPLE_EVERY_MS = 1_000;
/** Order statuses whose saga has not reached a final state. */
const IN_FLIGHT = ['pending', 'stock_reserved', 'paid'] as const;

export type ProjectionState = 'ok' | 'lagging' | 'stuck';

export interface LagSample {
  at: string;
  lag: Record<string, { events: number; seconds: number }>;
}

/**
 * What GET /status/data answers, read from the read store and JetStream only (the query API
 * never touches the write store). Lag samples are kept in memory as the page asks for them.
 */
export class StatusData {
  private readonly history: LagSample[] = [];

  constructor(
    private readonly store: ViewStore,
    private readonly freshness: ViewFreshness,
    private readonly projections: string[],
  ) {}

  async read() {
    const now = Date.now();
    const checkpoints = new Map((await this.store.checkpoints()).map((c) => [c.projection, c]));
    const letters = await this.store.deadLetters();
    const projections = await Promise.all(
      this.projections.map(async (name) => {
        const checkpoint = checkpoints.get(name);
        const events = await this.freshness.pendingEvents(name, checkpoint);
        const recorded = checkpoint?.eventRecordedAt ? new Date(checkpoint.eventRecordedAt).getTime() : now;
        const seconds = events > 0 ? Math.max(0, (now - recorded) / 1000) : 0;
        const still = checkpoint?.updatedAt ? (now - new Date(checkpoint.updatedAt).getTime()) / 1000 : Infinity;
        const state: ProjectionState = events === 0 || seconds <= OK_LAG_SECONDS ? 'ok' : still >= STUCK_AFTER_SECONDS ? 'stuck' : 'lagging';
        return {
          name,
          state,
          position: checkpoint?.position ?? 0,
          updatedAt: checkpoint?.updatedAt ? new Date(checkpoint.updatedAt).toISOString() : null,
          lag: { events, seconds: Math.round(seconds * 10) / 10 },
          deadLetters: letters.filter((letter) => letter.projection === name).length,
        };
      }),
    );
    this.sample(now, projections);
    const [relay, reports, sagas] = await Promise.all([this.relay(), loadReports(this.store), this.sagas()]);
    return {
      generatedAt: new Date(now).toISOString(),
      thresholds: { okLagSeconds: OK_LAG_SECONDS, stuckAfterSeconds: STUCK_AFTER_SECONDS },
      projections,
      history: this.history,
      relay,
      reconciler: {
        lastRun: reports.last && summarizeReport(reports.last),
        lastWithDifferences: reports.lastWithDifferences && summarizeReport(reports.lastWithDifferences),
      },
      sagas,
    };
  }

  private sample(now: number, projections: { name: string; lag: { events: number; seconds: number } }[]): void {
    const last = this.history[this.history.length - 1];
    if (last && now - Date.parse(last.at) < SAMPLE_EVERY_MS) return;
    this.history.push({ at: new Date(now).toISOString(), lag: Object.fromEntries(projections.map((p) => [p.name, p.lag])) });
    while (this.history.length && now - Date.parse(this.history[0].at) > HISTORY_MS) this.history.shift();
  }

  /** The relay as JetStream shows it: the last event it published and when. */
  private async relay() {
    try {
      const stream = await this.freshness.eventStream();
      return stream ? { ...stream, error: null } : { lastSequence: null, lastPublishedAt: null, messages: null, error: 'NATS not connected yet' };
    } catch (error) {
      return { lastSequence: null, lastPublishedAt: null, messages: null, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Orders whose saga has not finished, by the step they are at (from the order-summary view). */
  private async sagas() {
    if (!(await this.store.listCollections()).includes(ORDERS)) return { inFlight: 0, byStatus: Object.fromEntries(IN_FLIGHT.map((s) => [s, 0])) };
    const counts = await Promise.all(IN_FLIGHT.map((status) => this.store.count(ORDERS, [{ field: 'status', op: 'eq', value: status }])));
    return { inFlight: counts.reduce((a, b) => a + b, 0), byStatus: Object.fromEntries(IN_FLIGHT.map((s, i) => [s, counts[i]])) };
  }
}

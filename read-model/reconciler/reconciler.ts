import { isDeepStrictEqual } from 'node:util';
import type { EventLog, RecordedEvent } from '../../src/contracts';
import type { Logger } from '../../src/logger';
import { documentsTouched } from '../projector/apply-batch';
import type { Projection } from '../projector/projection';
import type { Checkpoint, StoredDocument, ViewChange, ViewStore } from '../view-store/view-store';
import { ProjectionModel } from './projection-model';
import type { DifferenceKind, ProjectionReconcileReport, ReconcileFinding, ReconcileReport } from './reconcile-report';
import type { ReconcilerMetrics } from './reconciler-metrics';

export interface ReconcilerOptions {
  projections: Projection[];
  store: ViewStore;
  log: EventLog;
  logger: Logger;
  metrics?: ReconcilerMetrics;
  /** Every document is checked at least once in this many runs: each run takes 1/cycleRuns of each view. */
  cycleRuns: number;
  /** A run's slice of a view is at least this many documents (small views are checked whole every run). */
  minSlice: number;
  batchSize?: number;
  /** Told which documents a run repaired (read caches drop them). */
  onRepaired?: (projection: string, checkpoint: Checkpoint, changes: ViewChange[]) => void;
}

/** The read-store lease the reconciling replica holds; other replicas stand by. */
export const RECONCILER_LEASE = 'reconciler';

/** Findings kept in the stored report per projection (every one is logged). */
const REPORTED = 20;

interface ProjectionState {
  model: ProjectionModel;
  /** Documents changed by the log since the last run (or deferred), not yet compared: collection → ids. */
  due: Map<string, Set<string>>;
  /** Per collection, the last id of the previous slice (undefined: start from the first). */
  sliceAfter: Map<string, string | undefined>;
  /** The first run compares only the slice: "changed since the last run" needs a last run. */
  primed: boolean;
}

/**
 * Compares each projection's live views with the log and repairs what differs, while the
 * projector keeps writing. A run compares every view at the live checkpoint K it read first:
 * the in-memory model is moved on to exactly K; a live document whose order key is past K has
 * moved on since and waits for a later run. Repairs go through the store's guarded commit,
 * each replacing only the very document compared (`replaces`), so one the projector changes
 * meanwhile is never written backwards.
 *
 * Cost bound: a run reads the log since the last run, and compares the documents those events
 * changed plus a slice of max(minSlice, ceil(n / cycleRuns)) of each view's n documents, taken
 * in id order from where the last slice stopped, so every document is compared at least once
 * every cycleRuns runs.
 */
export class Reconciler {
  private readonly states = new Map<string, ProjectionState>();
  private runs = 0;

  constructor(private readonly options: ReconcilerOptions) {
    for (const projection of options.projections) {
      this.states.set(projection.name, { model: new ProjectionModel(projection), due: new Map(), sliceAfter: new Map(), primed: false });
    }
    options.metrics?.seed(options.projections.map((p) => p.name));
  }

  async run(): Promise<ReconcileReport> {
    const started = new Date();
    const end = this.options.metrics?.duration.startTimer();
    const projections: ProjectionReconcileReport[] = [];
    for (const projection of this.options.projections) projections.push(await this.reconcile(projection));
    end?.();
    this.runs += 1;
    this.options.metrics?.runs.inc();
    const finished = new Date();
    this.options.metrics?.lastRun.set(finished.getTime() / 1000);
    return {
      run: this.runs,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      cycleRuns: this.options.cycleRuns,
      projections,
    };
  }

  private async reconcile(projection: Projection): Promise<ProjectionReconcileReport> {
    const { store, log, metrics } = this.options;
    const state = this.states.get(projection.name)!;
    const report: ProjectionReconcileReport = {
      projection: projection.name, position: null, checked: 0, deferred: 0,
      differences: { changed: 0, missing: 0, extra: 0 }, repaired: 0, findings: [],
    };
    const checkpoint = await store.checkpoint(projection.name);
    if (!checkpoint) return report; // never projected: nothing to compare yet
    report.position = checkpoint.position;
    const at = checkpoint.orderKey;
    // A rebuild swapped in a view from an earlier position than the model holds: start the model again.
    if (at < state.model.at) this.states.set(projection.name, (state.model = new ProjectionModel(projection), state));
    const changed = await state.model.advanceTo(log, at, this.options.batchSize ?? 5000);
    if (state.primed) for (const [collection, ids] of changed) for (const id of ids) due(state, collection).add(id);
    state.primed = true;

    // Documents a dead-lettered event touches (here or in the live projector) are reported, never repaired:
    // the dead-letter workflow owns them.
    const letters = (await store.deadLetters(projection.name)).map((letter) => letter.event as unknown as RecordedEvent);
    const unsettled = documentsTouched(projection, letters);
    for (const [collection, ids] of state.model.unsettled) {
      if (!unsettled.has(collection)) unsettled.set(collection, new Set());
      for (const id of ids) unsettled.get(collection)!.add(id);
    }

    const existing = new Set(await store.listCollections());
    for (const view of projection.views) {
      const collection = view.collection;
      if (!existing.has(collection)) continue;
      const ids = new Set([...(state.due.get(collection) ?? []), ...(await this.slice(state, collection))]);
      if (!ids.size) continue;
      const live = await store.getMany(collection, [...ids]);
      const repairs: { change: ViewChange; finding: ReconcileFinding }[] = [];
      for (const id of ids) {
        const actual = live.get(id);
        if (actual && actual.applied > at) {
          // Moved on since K: compared at a later run, at a later K.
          due(state, collection).add(id);
          report.deferred += 1;
          continue;
        }
        state.due.get(collection)?.delete(id);
        report.checked += 1;
        const expected = state.model.get(collection, id);
        const kind = differenceOf(expected, actual);
        if (!kind) continue;
        report.differences[kind] += 1;
        metrics?.differences.inc({ projection: projection.name, kind });
        const finding: ReconcileFinding = {
          collection, id, kind, expected: expected ? plain(expected.doc) : null, actual: actual ? plain(actual.doc) : null, repaired: false,
        };
        if (unsettled.get(collection)?.has(id)) {
          if (report.findings.length < REPORTED) report.findings.push(finding);
          this.options.logger.warn({ projection: projection.name, collection, id, kind, expected: finding.expected, actual: finding.actual },
            'reconciler left a differing document alone: an event of it is dead-lettered (see converge dead-letters)');
          continue;
        }
        repairs.push({ change: repairOf(collection, id, expected, actual), finding });
      }
      if (repairs.length) await this.repair(projection.name, checkpoint, repairs, report);
    }
    metrics?.documentsChecked.inc({ projection: projection.name }, report.checked);
    return report;
  }

  /**
   * The next slice of a view, in id order from where the last one stopped, wrapping round to
   * the first ids: live ids and the model's in the same id ranges (missing documents are found there).
   */
  private async slice(state: ProjectionState, collection: string): Promise<string[]> {
    const { cycleRuns, minSlice, store } = this.options;
    const size = Math.max(minSlice, Math.ceil(state.model.size(collection) / cycleRuns));
    const from = state.sliceAfter.get(collection);
    const page = await store.find(collection, { limit: size, ...(from !== undefined && { after: { value: from, id: from } }) });
    const ids = page.map((doc) => doc.id);
    /** Id ranges taken: (after, upTo], undefined meaning open. */
    const ranges: [after: string | undefined, upTo: string | undefined][] = [];
    let next: string | undefined;
    if (page.length === size) {
      next = page[page.length - 1].id;
      ranges.push([from, next]);
    } else {
      ranges.push([from, undefined]);
      if (from !== undefined) {
        // The end of the view: the rest of the slice comes from its start.
        const rest = (await store.find(collection, { limit: size - page.length })).filter((doc) => doc.id <= from);
        ids.push(...rest.map((doc) => doc.id));
        const full = rest.length === size - page.length && rest[rest.length - 1].id < from;
        next = full ? rest[rest.length - 1].id : undefined;
        ranges.push([undefined, full ? next : from]);
      }
    }
    state.sliceAfter.set(collection, next);
    const inRange = (id: string) => ranges.some(([after, upTo]) => (after === undefined || id > after) && (upTo === undefined || id <= upTo));
    for (const id of state.model.ids(collection)) if (inRange(id)) ids.push(id);
    return ids;
  }

  private async repair(
    projection: string,
    checkpoint: Checkpoint,
    repairs: { change: ViewChange; finding: ReconcileFinding }[],
    report: ProjectionReconcileReport,
  ): Promise<void> {
    const { store, logger, metrics } = this.options;
    const collection = repairs[0].change.collection;
    const changes = repairs.map((r) => r.change);
    // The checkpoint is passed as it is (it only moves forward): a repair moves no position.
    await store.commit({
      projection,
      changes,
      checkpoint: { orderKey: checkpoint.orderKey, position: checkpoint.position, eventRecordedAt: checkpoint.eventRecordedAt, pending: checkpoint.pending },
    });
    // What the guard let through: a document the projector changed meanwhile was left to it.
    const after = await store.getMany(collection, changes.map((c) => c.id));
    const landed: ViewChange[] = [];
    for (const { change, finding } of repairs) {
      const now = after.get(change.id);
      const done = change.doc === null ? !now : !!now && now.applied === change.applied && isDeepStrictEqual(plain(now.doc), plain(change.doc));
      finding.repaired = done;
      if (report.findings.length < REPORTED) report.findings.push(finding);
      if (!done) {
        logger.warn({ projection, collection, id: change.id, kind: finding.kind }, 'reconciler left a differing document to the projector (it moved on)');
        continue;
      }
      landed.push(change);
      report.repaired += 1;
      metrics?.repairs.inc({ projection });
      logger.warn(
        { projection, collection, id: change.id, kind: finding.kind, expected: finding.expected, actual: finding.actual },
        'reconciler repaired a view document that differed from the event log',
      );
    }
    if (landed.length) this.options.onRepaired?.(projection, checkpoint, landed);
  }
}

function due(state: ProjectionState, collection: string): Set<string> {
  if (!state.due.has(collection)) state.due.set(collection, new Set());
  return state.due.get(collection)!;
}

function differenceOf(expected: StoredDocument | undefined, actual: StoredDocument | undefined): DifferenceKind | undefined {
  if (!expected && !actual) return undefined;
  if (!actual) return 'missing';
  if (!expected) return 'extra';
  return isDeepStrictEqual(plain(expected.doc), plain(actual.doc)) ? undefined : 'changed';
}

/** The change that makes the live document what the log says, replacing only the version that was compared. */
function repairOf(collection: string, id: string, expected: StoredDocument | undefined, actual: StoredDocument | undefined): ViewChange {
  if (!actual) return { collection, id, doc: expected!.doc, applied: expected!.applied };
  if (!expected) return { collection, id, doc: null, applied: actual.applied, replaces: actual.applied };
  return { collection, id, doc: expected.doc, applied: expected.applied, replaces: actual.applied };
}

/** What the stores keep of a document: JSON, so undefined fields and key order do not count. */
function plain(doc: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
}

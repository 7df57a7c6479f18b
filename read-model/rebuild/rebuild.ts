import { setTimeout as sleep } from 'node:timers/promises';
import { orderKey, ORIGIN_ORDER_KEY, RecordedEvent } from '../../src/contracts';
import type { Projection } from '../projector/projection';
import type { Checkpoint, ViewStore } from '../view-store/view-store';
import type { EventLog, LeaseHolder, RebuildLeases } from '../../src/contracts';
import { projectInMemory, ViewBatches } from '../projector/view-batches';
import { openShadow, shadowCollection, shadowName, shadowState, swapShadow } from './shadow';

/** Shadow documents kept between batches: hot documents (a busy sku, a day's sales) are read once. */
const SHADOW_DOCUMENTS_IN_MEMORY = 50_000;

export interface RebuildOptions {
  projection: Projection;
  store: ViewStore;
  log: EventLog;
  leases: RebuildLeases;
  /** Events read from the log and committed to the shadow per batch. */
  batchSize?: number;
  maxAttempts?: number;
  /** At most this many events per second, to spare a busy system's stores; unlimited when absent. */
  maxRate?: number;
  /** Start again from the beginning even when a shadow could be resumed. */
  fresh?: boolean;
  /** Stops after the batch in hand; the shadow keeps its checkpoint, so a later run resumes. */
  signal?: AbortSignal;
  /** Longest wait for transactions older than the handover to finish. */
  freezeTimeoutMs?: number;
  onStart?(start: { projection: string; resumedFrom: Position | null; total: number }): void;
  onProgress?(progress: { done: number; total: number }): void;
  /** Called once the shadow is in place (e.g. to tell read caches that every entry of these collections is void). */
  onSwapped?(swap: RebuildSwap): Promise<void> | void;
}

export interface RebuildSwap {
  projection: string;
  /** The live collections now holding the rebuilt documents. */
  collections: string[];
  /** The live checkpoint the swap set; undefined for an empty log. */
  at: Omit<Checkpoint, 'projection' | 'updatedAt'> | undefined;
}

export interface Position {
  orderKey: string;
  position: number;
}

export interface RebuildResult {
  projection: string;
  resumedFrom: Position | null;
  /** Events replayed by this run (not counting what a resumed shadow already held). */
  replayed: number;
  seconds: number;
  eventsPerSecond: number;
  /** The live views' new checkpoint; null for an empty log. */
  swappedAt: Position | null;
  /** How long the relay's horizon was held for the handover. */
  frozenMs: number;
  deadLetters: number;
}

export class RebuildInterrupted extends Error {
  override name = 'RebuildInterrupted';
  constructor(readonly projection: string, readonly at: Position | null) {
    super(`rebuild of ${projection} interrupted at position ${at?.position ?? 0}; run it again to resume from there`);
  }
}

type CommitCheckpoint = Omit<Checkpoint, 'projection' | 'updatedAt'>;

/**
 * Rebuilds a projection from the event log without downtime: replays the log into shadow
 * collections (resuming after the shadow's checkpoint), then hands over.
 *
 * Handover, and why it neither loses nor doubles an event while the live projector runs on:
 * the lease's connection holds the append marker and a transaction id, which freezes the horizon
 * the relay reads below (the oldest running appender), so nothing newer than the frozen head F
 * reaches JetStream. The shadow is replayed up to F; the live projector can only be at or behind F. Each shadow
 * collection is then renamed over the live one (atomic; queries see the old or the new view,
 * never neither), the live checkpoint moves forward to the shadow's, and the freeze ends. The projector
 * continues from its own position: events up to F are no-ops against documents that already
 * hold them (the per-document order-key guard), later ones apply on top of the rebuilt view.
 * A batch the projector loaded from the old view and commits after the rename holds only
 * events up to F, so the guard rejects it too. A log-replay after the swap instead would race
 * the projector on documents missing events between the shadow and the projector's position.
 */
export async function rebuildProjection(options: RebuildOptions): Promise<RebuildResult> {
  const { projection, store, log, signal } = options;
  const batchSize = options.batchSize ?? 5000;
  const lease = await options.leases.acquire(projection.name);
  try {
    const resumed = await openShadow(store, projection, options.fresh);
    let at: CommitCheckpoint | undefined = resumed && {
      orderKey: resumed.orderKey,
      position: resumed.position,
      eventRecordedAt: resumed.eventRecordedAt,
      pending: 0,
    };
    const resumedFrom = resumed ? { orderKey: resumed.orderKey, position: resumed.position } : null;
    // Only the event types the projection handles are read: the rest would change nothing.
    const types = Object.keys(projection.handlers);
    let total = (await log.countAfter(at?.orderKey ?? ORIGIN_ORDER_KEY, types)).count;
    options.onStart?.({ projection: projection.name, resumedFrom, total });

    // This process is the shadow's only writer (the lease), so hot documents can stay in memory.
    const replay = new ViewBatches({
      projection,
      target: store,
      maxAttempts: options.maxAttempts ?? 5,
      checkpointName: shadowName(projection),
      rename: (collection) => shadowCollection(projection, collection),
      keepDocuments: SHADOW_DOCUMENTS_IN_MEMORY,
    });
    const started = performance.now();
    let done = 0;
    const step = async (events: RecordedEvent[]) => {
      const checkpoint = ViewBatches.checkpointAfter(events);
      await replay.apply(events, checkpoint);
      at = checkpoint;
      done += events.length;
      total = Math.max(total, done);
      options.onProgress?.({ done, total });
    };
    const interrupted = async () => {
      await replay.flush();
      return new RebuildInterrupted(projection.name, at ? { orderKey: at.orderKey, position: at.position } : null);
    };

    // Catch up: large reads, the next one prefetched while this one is applied and committed.
    const read = (after: string) => {
      const events = log.readAfter(after, batchSize, types);
      events.catch(() => undefined); // a prefetch left behind (interrupt, failed commit) must not crash the process
      return events;
    };
    let next = read(at?.orderKey ?? ORIGIN_ORDER_KEY);
    for (;;) {
      if (signal?.aborted) throw await interrupted();
      const events = await next;
      if (events.length === batchSize) next = read(keyOf(events[events.length - 1]));
      if (events.length) await step(events);
      if (events.length < batchSize) break;
      if (options.maxRate) await throttle(done, options.maxRate, started, signal);
    }
    await replay.flush();
    if (signal?.aborted) throw await interrupted();

    // Handover under the frozen horizon: what remains is at most a few batches.
    const freeze = await lease.freezeLog(options.freezeTimeoutMs ?? 30_000);
    const frozenAt = performance.now();
    let swapped: { deadLetters: number };
    try {
      for (;;) {
        const events = await log.readAfter(at?.orderKey ?? ORIGIN_ORDER_KEY, batchSize, types);
        if (!events.length) break;
        await step(events);
      }
      await replay.flush();
      swapped = await swapShadow(store, projection, at);
    } finally {
      await freeze.release();
    }
    await options.onSwapped?.({ projection: projection.name, collections: projection.views.map((v) => v.collection), at });
    const finished = performance.now();
    const seconds = (finished - started) / 1000;
    return {
      projection: projection.name,
      resumedFrom,
      replayed: done,
      seconds,
      eventsPerSecond: seconds > 0 ? Math.round(done / seconds) : done,
      swappedAt: at ? { orderKey: at.orderKey, position: at.position } : null,
      frozenMs: Math.round(finished - frozenAt),
      deadLetters: swapped.deadLetters,
    };
  } finally {
    await lease.release();
  }
}

export interface RebuildEstimate {
  projection: string;
  /** A shadow left by an interrupted rebuild, which a run would resume after. */
  resumeFrom: Position | null;
  /** Events a run would replay (those the projection handles), and all events in the log after the same point. */
  events: number;
  logEvents: number;
  /** Read-and-apply rate of one sample batch (no writes, so an upper bound), and the time it projects. */
  sampledEventsPerSecond: number | null;
  estimatedSeconds: number | null;
  runningRebuild: LeaseHolder | null;
}

/** What a rebuild would do, writing nothing: the `--dry-run`. */
export async function estimateRebuild(options: Pick<RebuildOptions, 'projection' | 'store' | 'log' | 'leases' | 'batchSize'>): Promise<RebuildEstimate> {
  const { projection, store, log } = options;
  const state = await shadowState(store, projection);
  const resume = state.checkpoint && state.complete ? state.checkpoint : undefined;
  const after = resume?.orderKey ?? ORIGIN_ORDER_KEY;
  const types = Object.keys(projection.handlers);
  const [all, relevant, holder] = await Promise.all([
    log.countAfter(after),
    log.countAfter(after, types),
    options.leases.holder(projection.name),
  ]);
  const started = performance.now();
  const sample = await log.readAfter(after, options.batchSize ?? 5000, types);
  await projectInMemory(projection, sample);
  const rate = sample.length ? Math.round(sample.length / Math.max((performance.now() - started) / 1000, 1e-6)) : null;
  return {
    projection: projection.name,
    resumeFrom: resume ? { orderKey: resume.orderKey, position: resume.position } : null,
    events: relevant.count,
    logEvents: all.count,
    sampledEventsPerSecond: rate,
    estimatedSeconds: estimatedSeconds(relevant.count, rate),
    runningRebuild: holder ?? null,
  };
}

/**
 * Seconds a replay of `events` takes at `rate` events/s, rounded up to a tenth: a fast
 * sample over a small log must not read as "0 s" while there is work to do. Null when
 * nothing is to be replayed.
 */
export function estimatedSeconds(events: number, rate: number | null): number | null {
  if (!events || !rate) return null;
  return Math.max(0.1, Math.ceil((events / rate) * 10) / 10);
}

function keyOf(event: RecordedEvent): string {
  return orderKey(event.txId, event.position);
}

async function throttle(done: number, maxRate: number, started: number, signal?: AbortSignal): Promise<void> {
  const ahead = (done / maxRate) * 1000 - (performance.now() - started);
  if (ahead > 0) await sleep(ahead, undefined, { signal }).catch(() => undefined);
}

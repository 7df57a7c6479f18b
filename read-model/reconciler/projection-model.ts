import { orderKey, ORIGIN_ORDER_KEY, type EventLog, type RecordedEvent } from '../../src/contracts';
import type { Projection } from '../projector/projection';
import { documentsTouched } from '../projector/apply-batch';
import { MemoryViews, ViewBatches } from '../projector/view-batches';
import type { StoredDocument } from '../view-store/view-store';

/**
 * A projection's views folded from the log in memory, kept between reconciler runs and moved
 * on only by the events since the last run (the same ViewBatches runtime verify folds into), so
 * a run reads the new part of the log, never the whole of it again.
 */
export class ProjectionModel {
  private readonly views = new MemoryViews();
  private readonly batches: ViewBatches;
  private readonly types: string[];
  /** The order key the model holds the views at. */
  private position = ORIGIN_ORDER_KEY;
  /** Documents an event could not be applied to here (its handler threw): the model cannot vouch for them. */
  readonly unsettled = new Map<string, Set<string>>();

  constructor(private readonly projection: Projection) {
    this.batches = new ViewBatches({ projection, target: this.views, maxAttempts: 1 });
    this.types = Object.keys(projection.handlers);
  }

  get at(): string {
    return this.position;
  }

  /** Applies the log's events up to `upTo` (inclusive); returns the documents they changed, as collection → ids. */
  async advanceTo(log: EventLog, upTo: string, batchSize: number): Promise<Map<string, Set<string>>> {
    const touched = new Map<string, Set<string>>();
    while (this.position < upTo) {
      const read = await log.readAfter(this.position, batchSize, this.types);
      const events = read.filter((event) => keyOf(event) <= upTo);
      if (events.length) {
        const { outcome } = await this.batches.apply(events, ViewBatches.checkpointAfter(events));
        await this.batches.flush();
        const failed = outcome.deadLetters.map((letter) => letter.event as unknown as RecordedEvent);
        for (const [collection, ids] of documentsTouched(this.projection, failed)) {
          if (!this.unsettled.has(collection)) this.unsettled.set(collection, new Set());
          for (const id of ids) this.unsettled.get(collection)!.add(id);
        }
        for (const change of outcome.changes) {
          if (!touched.has(change.collection)) touched.set(change.collection, new Set());
          touched.get(change.collection)!.add(change.id);
        }
      }
      // Events of other projections are not read: the log ends for this one at upTo.
      if (events.length < read.length || read.length < batchSize) {
        this.position = upTo;
        break;
      }
      this.position = keyOf(events[events.length - 1]);
    }
    return touched;
  }

  get(collection: string, id: string): StoredDocument | undefined {
    return this.views.get(collection, id);
  }

  /** Ids held in a collection, for the rotating slice. */
  ids(collection: string): IterableIterator<string> {
    return (this.views.collections.get(collection) ?? new Map<string, StoredDocument>()).keys();
  }

  size(collection: string): number {
    return this.views.collections.get(collection)?.size ?? 0;
  }
}

function keyOf(event: RecordedEvent): string {
  return orderKey(event.txId, event.position);
}

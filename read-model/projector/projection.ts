import type { RecordedEvent } from '../../src/contracts';
import type { ViewSchema } from '../view-store/view-store';

export type ViewDocument = Record<string, unknown>;

/** "When this event, change that document like so": pure, no I/O. */
export interface ProjectionHandler<E extends RecordedEvent = RecordedEvent, D extends object = any> {
  collection: string;
  /** The document the event changes. */
  documentId(event: E): string;
  /** The new document from the current one (undefined when there is none yet); null deletes it, undefined leaves it. */
  apply(doc: D | undefined, event: E): D | null | undefined;
}

export interface Projection {
  /** Fixed names (DESIGN.md): product-catalog, inventory-levels, ... */
  name: string;
  views: ViewSchema[];
  /** Per event type, the documents it changes; other event types are passed over. */
  handlers: Record<string, ProjectionHandler<any>[]>;
}

/** Collection names are per projection; a rebuild writes the same documents to shadow names. */
export function collectionName(projection: Projection, view: string, shadow?: string): string {
  return shadow ? `${view}__${shadow}` : view;
}

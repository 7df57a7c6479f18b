/** The shape every event has in the log and on the wire; shared by both sides. */

export interface EventMetadata {
  correlationId: string;
  causationId?: string;
  idempotencyKey?: string;
  /** Who asked: the verified token's subject (or the internal process). */
  actor?: string;
  /** The actor's role: admin, catalog, inventory, support, customer or service. */
  actorRole?: string;
}

/** An event as a decider emits it: no position yet. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}

/** An event as the log holds it. */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  /** Global position: the log's sequence value (unique, not commit-ordered). */
  position: number;
  /** The appending transaction's id; (txId, position) is the relay's total order. */
  txId: string;
  eventId: string;
  streamId: string;
  streamType: string;
  streamVersion: number;
  type: Type;
  schemaVersion: number;
  data: Data;
  metadata: EventMetadata;
  recordedAt: Date;
}

/**
 * A point in the relay's order: the log is published ordered by (txId, position),
 * which respects commit order for every stream. Encoded as a fixed-width string
 * so that comparing two keys as strings compares them in that order.
 */
export function orderKey(txId: string | number | bigint, position: number | bigint): string {
  return `${String(txId).padStart(20, '0')}:${String(position).padStart(20, '0')}`;
}

export function parseOrderKey(key: string): { txId: string; position: number } {
  const match = /^(\d{20}):(\d{20})$/.exec(key);
  if (!match) throw new Error(`not an order key: ${key}`);
  return { txId: BigInt(match[1]).toString(), position: Number(match[2]) };
}

export const ORIGIN_ORDER_KEY = orderKey(0, 0);

export function subjectFor(namespace: string, streamType: string, eventType: string): string {
  return `${namespace}.${streamType}.${eventType}`;
}

/** The event type a message's subject names (subjectFor's last token), read without decoding the body. */
export function eventTypeOfSubject(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}

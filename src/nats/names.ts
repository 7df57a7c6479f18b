/** Every JetStream and core NATS name of a namespace, defined once. */

/** The one JetStream stream that carries every domain event of a namespace. */
export function eventStreamName(namespace: string): string {
  return `${namespace}_events`.toUpperCase().replace(/-/g, '_');
}

/** Subjects of every event of a namespace: `<namespace>.<stream type>.<event type>`. */
export function eventSubjects(namespace: string): string {
  return `${namespace}.>`;
}

/** Subjects of the events of one stream type (e.g. every order event). */
export function streamTypeSubjects(namespace: string, streamType: string): string {
  return `${namespace}.${streamType}.>`;
}

/** The durable consumer of one projection. */
export function projectionConsumerName(namespace: string, projection: string): string {
  return consumerName(namespace, `projection-${projection}`);
}

/** The durable consumer of the order saga (shared by every process-manager replica). */
export function sagaConsumerName(namespace: string): string {
  return consumerName(namespace, 'order-saga');
}

function consumerName(namespace: string, owner: string): string {
  return `${namespace}_${owner}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * Core NATS subject on which projectors announce each committed checkpoint (outside the
 * event stream's subjects, so JetStream never stores these).
 */
export function checkpointSubject(namespace: string): string {
  return `_converge.${namespace}.checkpoints`;
}

/**
 * Core NATS subject on which appenders say that they just committed events, so that an idle relay
 * wakes at once instead of finding them on its next poll (outside the event stream's subjects).
 */
export function appendedSubject(namespace: string): string {
  return `_converge.${namespace}.appended`;
}

export interface CheckpointNotice {
  projection: string;
  orderKey: string;
  position: number;
  /** ISO time the last applied event was recorded. */
  eventRecordedAt: string;
  /** The checkpoint the batch started from: a notice whose `previous` is not the last one heard means some were lost. */
  previous?: string;
  /** The documents the batch changed, as [collection, id, order key now applied]: what read caches invalidate. */
  changed?: [collection: string, id: string, applied: string][];
  /** Collections a rebuild just swapped in: every cached document of them is void. */
  swapped?: string[];
}

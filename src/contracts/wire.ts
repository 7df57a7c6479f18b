import { headers as natsHeaders, MsgHdrs } from 'nats';
import { RecordedEvent, subjectFor } from './envelope';
import { upcast } from './upcasters';

/** Header names on every JetStream message; the body is the whole event as JSON. */
export const H = {
  position: 'Converge-Position',
  txId: 'Converge-Tx-Id',
  streamId: 'Converge-Stream-Id',
  streamVersion: 'Converge-Stream-Version',
  eventType: 'Converge-Event-Type',
  schemaVersion: 'Converge-Schema-Version',
  correlationId: 'Converge-Correlation-Id',
  causationId: 'Converge-Causation-Id',
} as const;

export interface WireMessage {
  subject: string;
  /** The JetStream message id (de-duplication): the event id. */
  msgID: string;
  headers: MsgHdrs;
  data: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEvent(namespace: string, event: RecordedEvent): WireMessage {
  // A fresh header set: append, since set() would first search it for each name to replace.
  const h = natsHeaders();
  h.append(H.position, String(event.position));
  h.append(H.txId, event.txId);
  h.append(H.streamId, event.streamId);
  h.append(H.streamVersion, String(event.streamVersion));
  h.append(H.eventType, event.type);
  h.append(H.schemaVersion, String(event.schemaVersion));
  if (event.metadata.correlationId) h.append(H.correlationId, event.metadata.correlationId);
  if (event.metadata.causationId) h.append(H.causationId, event.metadata.causationId);
  return {
    subject: subjectFor(namespace, event.streamType, event.type),
    msgID: event.eventId,
    headers: h,
    data: encoder.encode(JSON.stringify(event)),
  };
}

/** Decodes a message body back into a recorded event in its type's current schema. */
export function decodeEvent(data: Uint8Array): RecordedEvent {
  // Parsed into a fresh object, so the time is set in place rather than by copying every field.
  const event = JSON.parse(decoder.decode(data)) as Omit<RecordedEvent, 'recordedAt'> & { recordedAt: string | Date };
  event.recordedAt = new Date(event.recordedAt);
  return upcast(event as RecordedEvent);
}

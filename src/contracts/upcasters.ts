import type { RecordedEvent } from './envelope';

/** Turns a stored event of an old schema version into the next version's shape. */
export type Upcaster = (data: Record<string, unknown>) => unknown;

/** `${type}@${fromVersion}` → the step to fromVersion + 1. */
const steps = new Map<string, Upcaster>([
  // ProductRegistered v1 stored the price as a number of EUR cents.
  ['ProductRegistered@1', (data) => ({ ...data, price: { amount: data.price, currency: 'EUR' } })],
]);

/** Brings an event read from the log to its type's current schema, step by step. */
export function upcast<E extends RecordedEvent>(event: E): E {
  let current = event;
  for (;;) {
    const step = steps.get(`${current.type}@${current.schemaVersion}`);
    if (!step) return current;
    // Every event's data is stored as a JSON object.
    current = { ...current, data: step(current.data as Record<string, unknown>), schemaVersion: current.schemaVersion + 1 };
  }
}

import { NotFoundException } from '@nestjs/common';
import type { Response } from 'express';
import { validationProblem } from '../../src/http/problem';
import type { Checkpoint, ViewStore } from '../view-store/view-store';

/** What every query answer says about the view it was read from. */
export interface ViewMeta {
  projection: string;
  /** Global position of the last event the view has applied (0: none yet). */
  position: number;
  /** Events the projection still had to apply when it last committed, and how old its newest applied event is. */
  lag: { events: number; ms: number };
  updatedAt: string | null;
}

export async function viewMeta(store: ViewStore, projection: string, now = Date.now()): Promise<ViewMeta> {
  return describe(projection, await store.checkpoint(projection), now);
}

export function describe(projection: string, checkpoint: Checkpoint | undefined, now = Date.now()): ViewMeta {
  const events = checkpoint?.pending ?? 0;
  const behindMs = checkpoint?.eventRecordedAt && events > 0 ? now - new Date(checkpoint.eventRecordedAt).getTime() : 0;
  return {
    projection,
    position: checkpoint?.position ?? 0,
    lag: { events, ms: Math.max(0, behindMs) },
    updatedAt: checkpoint?.updatedAt ? new Date(checkpoint.updatedAt).toISOString() : null,
  };
}

/** Headers a client can read without parsing the body. */
export function setViewHeaders(res: Response, meta: ViewMeta): void {
  res.setHeader('View-Position', String(meta.position));
  res.setHeader('View-Lag-Events', String(meta.lag.events));
}

export function notFound(what: string): NotFoundException {
  return new NotFoundException(`${what} not found`);
}

/** Opaque keyset cursor bound to the sort it was made for. */
export function encodeCursor(sort: string, value: unknown, id: string): string {
  return Buffer.from(JSON.stringify([sort, value, id])).toString('base64url');
}

export function decodeCursor(cursor: string, sort: string): { value: string | number | boolean | null; id: string } {
  try {
    const [madeFor, value, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const scalar = value === null || ['string', 'number', 'boolean'].includes(typeof value);
    if (madeFor === sort && scalar && typeof id === 'string') return { value, id };
  } catch {
    // fall through to the validation error
  }
  throw validationProblem([{ field: 'cursor', messages: ['cursor is not one this query returned (or the sort changed)'] }]);
}

/** Reads a dotted path (e.g. price.amount) from a view document. */
export function valueAt(doc: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], doc);
}

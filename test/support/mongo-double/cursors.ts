/** Server-side cursors: results are materialised once and handed out in batches across getMore. */
import { calculateObjectSize, Long, type Document } from 'bson';
import { toNumber } from './bson-order';
import { CommandError } from './errors';

const DEFAULT_FIRST_BATCH = 101;
/** Replies must stay under maxBsonObjectSize; keep headroom for the envelope. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 16 * 1024;

interface OpenCursor {
  ns: string;
  docs: Document[];
  position: number;
}

export class CursorRegistry {
  private nextId = 1;
  private readonly open = new Map<number, OpenCursor>();

  /** Reply for find/aggregate/list*: the first batch, and a live cursor id if more remain. */
  first(ns: string, docs: Document[], batchSize?: unknown, singleBatch = false): Document {
    const cursor: OpenCursor = { ns, docs, position: 0 };
    const batch = this.take(cursor, batchSize === undefined ? DEFAULT_FIRST_BATCH : toBatchSize(batchSize));
    let id = 0;
    if (!singleBatch && cursor.position < docs.length) {
      id = this.nextId++;
      this.open.set(id, cursor);
    }
    return { cursor: { firstBatch: batch, id: Long.fromNumber(id), ns }, ok: 1 };
  }

  more(cursorId: unknown, collection: unknown, batchSize?: unknown): Document {
    const id = toNumber(cursorId);
    const cursor = this.open.get(id);
    if (!cursor) throw new CommandError('CursorNotFound', `cursor id ${id} not found`);
    const expected = cursor.ns.slice(cursor.ns.indexOf('.') + 1);
    if (typeof collection === 'string' && collection !== expected) {
      throw new CommandError('Unauthorized', `Requested getMore on namespace '${collection}', but cursor belongs to a different namespace ${cursor.ns}`);
    }
    // getMore without a batchSize (or 0) returns as much as fits in one reply.
    const batch = this.take(cursor, batchSize === undefined ? Number.POSITIVE_INFINITY : toBatchSize(batchSize) || Number.POSITIVE_INFINITY);
    const exhausted = cursor.position >= cursor.docs.length;
    if (exhausted) this.open.delete(id);
    return { cursor: { nextBatch: batch, id: Long.fromNumber(exhausted ? 0 : id), ns: cursor.ns }, ok: 1 };
  }

  kill(ids: unknown[]): Document {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const raw of ids) {
      const id = toNumber(raw);
      (this.open.delete(id) ? killed : notFound).push(Long.fromNumber(id));
    }
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
  }

  private take(cursor: OpenCursor, limit: number): Document[] {
    const batch: Document[] = [];
    let bytes = 0;
    while (batch.length < limit && cursor.position < cursor.docs.length) {
      const doc = cursor.docs[cursor.position];
      const size = calculateObjectSize(doc);
      if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
      batch.push(doc);
      bytes += size;
      cursor.position += 1;
    }
    return batch;
  }
}

function toBatchSize(value: unknown): number {
  const n = toNumber(value);
  if (!Number.isFinite(n) || n < 0) throw new CommandError('BadValue', 'batchSize must be non-negative');
  return n;
}

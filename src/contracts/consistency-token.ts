/**
 * A consistency token names one write: the transaction and last position that
 * committed it (its place in the relay's order) and the stream version it produced.
 * Opaque to clients; the query API waits until a view has applied that place.
 */
export interface ConsistencyToken {
  txId: string;
  position: number;
  streamId: string;
  version: number;
  /** When the write committed (ms since the epoch): how long a stale reader has been waiting for it. */
  at: number;
}

export function encodeToken(token: ConsistencyToken): string {
  return Buffer.from(JSON.stringify([token.txId, token.position, token.streamId, token.version, token.at])).toString(
    'base64url',
  );
}

export function decodeToken(value: string): ConsistencyToken | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 5) return undefined;
    const [txId, position, streamId, version, at] = parsed as unknown[];
    if (typeof txId !== 'string' || !/^\d{1,20}$/.test(txId)) return undefined;
    if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) return undefined;
    if (typeof streamId !== 'string' || typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) return undefined;
    if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0) return undefined;
    return { txId, position, streamId, version, at };
  } catch {
    return undefined;
  }
}


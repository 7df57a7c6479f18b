import type { JetStreamManager, StoredMsg } from 'nats';
import { H, orderKey } from '../../src/contracts';

/**
 * The first stream sequence whose event comes after `afterKey`. The stream is in the
 * relay's order, so a binary search over sequences finds it in ~log2(n) reads; the
 * checkpoint stays a position in the event log, not a transport detail.
 */
export async function firstSequenceAfter(jsm: JetStreamManager, stream: string, afterKey: string): Promise<number> {
  const { state } = await jsm.streams.info(stream);
  if (state.messages === 0) return state.last_seq + 1;
  let low = state.first_seq;
  let high = state.last_seq + 1;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const found = await messageAtOrAfter(jsm, stream, middle, high);
    if (!found) {
      high = middle;
      continue;
    }
    if (keyOf(found) > afterKey) high = middle;
    else low = found.seq + 1;
  }
  return low;
}

async function messageAtOrAfter(jsm: JetStreamManager, stream: string, seq: number, limit: number) {
  // A deleted sequence (rare: only by hand) is stepped over.
  for (let s = seq; s < limit; s++) {
    try {
      return await jsm.streams.getMessage(stream, { seq: s });
    } catch (error) {
      if (!/no message found|not found/i.test(String(error))) throw error;
    }
  }
  return undefined;
}

function keyOf(message: StoredMsg): string {
  return orderKey(message.header.get(H.txId), Number(message.header.get(H.position)));
}

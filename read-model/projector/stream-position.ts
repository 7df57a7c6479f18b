import type { JetStreamManager, StoredMsg } from 'nats';
import { H, orderKey } from '../../src/contracts';

/**
 * The first stream sequence whose event comes after `afterKey`. The stream is in the
 * relay's order, so a binary search over sequences finds it in ~log2(n) reads; the
 * checkpoint stays a position in the event log, not a transport detail. The two common
 * cases take one or two reads: a projection starting from scratch (the first message is
 * already after the key) and one restarting caught up (the last message is not).
 */
export async function firstSequenceAfter(jsm: JetStreamManager, stream: string, afterKey: string): Promise<number> {
  const { state } = await jsm.streams.info(stream);
  if (state.messages === 0) return state.last_seq + 1;
  let low = state.first_seq;
  let high = state.last_seq + 1;
  const first = await messageAtOrAfter(jsm, stream, low, high);
  if (!first || keyOf(first) > afterKey) return first?.seq ?? high;
  low = first.seq + 1;
  const last = await messageAtOrBefore(jsm, stream, high - 1, low);
  if (!last || keyOf(last) <= afterKey) return high;
  high = last.seq;
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

// A deleted sequence (rare: only by hand) is stepped over.
async function messageAtOrAfter(jsm: JetStreamManager, stream: string, seq: number, limit: number) {
  for (let s = seq; s < limit; s++) {
    const found = await messageAt(jsm, stream, s);
    if (found) return found;
  }
  return undefined;
}

async function messageAtOrBefore(jsm: JetStreamManager, stream: string, seq: number, floor: number) {
  for (let s = seq; s >= floor; s--) {
    const found = await messageAt(jsm, stream, s);
    if (found) return found;
  }
  return undefined;
}

async function messageAt(jsm: JetStreamManager, stream: string, seq: number): Promise<StoredMsg | undefined> {
  try {
    return await jsm.streams.getMessage(stream, { seq });
  } catch (error) {
    if (!/no message found|not found/i.test(String(error))) throw error;
    return undefined;
  }
}

function keyOf(message: StoredMsg): string {
  return orderKey(message.header.get(H.txId), Number(message.header.get(H.position)));
}

import { headers, JetStreamManager, NatsConnection } from 'nats';
import { H, orderKey } from '../../src/contracts';
import { connectNats, ensureEventStream, eventStreamName } from '../../src/nats';
import { NATS_URL, uniqueName } from '../../test/support/env';
import { firstSequenceAfter } from './stream-position';

/** Events in the relay's order: (txId, position) grows with the stream sequence, several events a transaction. */
const EVENTS = Array.from({ length: 40 }, (_, i) => ({ txId: String(1000 + Math.floor(i / 3)), position: 10 + i }));
const keyAt = (i: number) => orderKey(EVENTS[i].txId, EVENTS[i].position);

describe('firstSequenceAfter', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const namespace = uniqueName('cvtpos');
  const stream = eventStreamName(namespace);
  let lookups = 0;
  /** The manager with getMessage counted: the search's cost is its stream reads. */
  let counted: JetStreamManager;

  beforeAll(async () => {
    nc = await connectNats(NATS_URL, 'test-stream-position');
    jsm = await nc.jetstreamManager();
    await ensureEventStream(jsm, namespace);
    const js = nc.jetstream();
    for (const event of EVENTS) {
      const h = headers();
      h.append(H.txId, event.txId);
      h.append(H.position, String(event.position));
      await js.publish(`${namespace}.test.Happened`, new Uint8Array(), { headers: h });
    }
    const streams = new Proxy(jsm.streams, {
      get: (target, property, receiver) => {
        if (property !== 'getMessage') return Reflect.get(target, property, receiver) as unknown;
        return (...args: Parameters<typeof target.getMessage>) => {
          lookups += 1;
          return target.getMessage(...args);
        };
      },
    });
    counted = new Proxy(jsm, {
      get: (target, property, receiver) => (property === 'streams' ? streams : Reflect.get(target, property, receiver)),
    });
  });
  afterAll(async () => {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  });

  const search = async (afterKey: string) => {
    lookups = 0;
    const seq = await firstSequenceAfter(counted, stream, afterKey);
    return { seq, lookups };
  };

  it('finds the first message after any key, at every point of the stream', async () => {
    // Sequences start at 1: the message after key i is sequence i + 2.
    for (let i = 0; i < EVENTS.length; i++) expect((await search(keyAt(i))).seq).toBe(i + 2);
    // A key between two events (a position no event has) and one before the stream.
    expect((await search(orderKey(EVENTS[20].txId, EVENTS[20].position + 0.5))).seq).toBe(22);
    expect((await search(orderKey(0, 0))).seq).toBe(1);
  });

  it('starts from scratch with one read and resumes caught up with two', async () => {
    expect(await search(orderKey(0, 0))).toEqual({ seq: 1, lookups: 1 });
    expect(await search(keyAt(EVENTS.length - 1))).toEqual({ seq: EVENTS.length + 1, lookups: 2 });
    // In between, a binary search: about log2(40) reads more.
    expect((await search(keyAt(25))).lookups).toBeLessThanOrEqual(2 + 7);
  });

  it('steps over deleted messages at either end', async () => {
    await jsm.streams.deleteMessage(stream, 1);
    await jsm.streams.deleteMessage(stream, EVENTS.length);
    expect((await search(orderKey(0, 0))).seq).toBe(2);
    expect((await search(keyAt(EVENTS.length - 2))).seq).toBe(EVENTS.length + 1);
    expect((await search(keyAt(EVENTS.length - 3))).seq).toBe(EVENTS.length - 1);
    expect((await search(keyAt(10))).seq).toBe(12);
  });
});

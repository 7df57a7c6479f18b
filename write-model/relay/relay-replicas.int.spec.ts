import { JetStreamManager, NatsConnection } from 'nats';
import { decodeEvent } from '../../src/contracts';
import { connectNats, eventStreamName } from '../../src/nats';
import { runConverge } from '../../test/support/rebuild';
import { Replica, spawnReplica } from '../../test/support/replicas';
import { eventually, startTestSystem, TestSystem } from '../../test/support/system';
import { EventStore } from '../event-store/event-store';
import { relayLeaseHolders } from '../leases/relay-lease';

jest.setTimeout(150_000);

/** Every message of the stream, in stream order (event ids). */
async function streamEventIds(jsm: JetStreamManager, stream: string): Promise<string[]> {
  const { state } = await jsm.streams.info(stream);
  const ids: string[] = [];
  for (let seq = state.first_seq; state.messages && seq <= state.last_seq; seq += 1) {
    const message = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (message) ids.push(decodeEvent(message.data).eventId);
  }
  return ids;
}

describe('relay replicas', () => {
  let system: TestSystem;
  let nc: NatsConnection;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    system = await startTestSystem({ pieces: [] });
    nc = await connectNats(system.env.NATS_URL, 'relay-replicas-test');
  });
  afterAll(async () => {
    for (const replica of replicas) replica.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await nc.close();
    await system.dispose();
  });

  const spawnRelay = (id: string) => {
    const replica = spawnReplica('relay', id, { ...system.env, LOG_LEVEL: 'info' });
    replicas.push(replica);
    return replica;
  };
  const activeRelay = () =>
    eventually(async () => (await relayLeaseHolders(system.writePool, system.config.namespace)).active?.holder, 30_000, 'a relay to publish');

  it('one publishes, the standby takes over when it is SIGKILLed mid-stream: the stream equals the log, in order, exactly once', async () => {
    const a = spawnRelay('relay-a');
    const b = spawnRelay('relay-b');
    const first = await activeRelay();
    // The other one waits for the lock: a standby, not a second publisher.
    await eventually(async () => (await relayLeaseHolders(system.writePool, system.config.namespace)).standbys.length === 1, 30_000, 'a standby');
    const [active, standby] = first === 'converge relay relay-a' ? [a, b] : [b, a];
    const status = JSON.parse((await runConverge(['status', '--json'], system.env)).stdout);
    expect(status.relay.publisher.holder).toBe(`converge relay ${active.id}`);
    expect(status.relay.standbys.map((s: { holder: string }) => s.holder)).toEqual([`converge relay ${standby.id}`]);

    const events = new EventStore(system.writePool);
    const jsm = await nc.jetstreamManager();
    const stream = eventStreamName(system.config.namespace);
    let appended = 0;
    let appending = true;
    // Many small concurrent appends, as command traffic makes them, until told to stop.
    const writers = Array.from({ length: 6 }, async (_, w) => {
      for (let v = 0; appending; v += 1) {
        await events.appendToStream(`w${w}`, 'thing', [{ type: 'Happened', data: { w, v } }, { type: 'Happened', data: { w, v, again: true } }], {
          expectedVersion: v * 2,
          metadata: { correlationId: 'relay-replicas' },
        });
        appended += 2;
      }
    });
    // Mid-stream: the active relay has published part of what is being appended.
    await eventually(async () => ((await jsm.streams.info(stream).catch(() => undefined))?.state.messages ?? 0) > 300, 30_000, 'the stream to fill');
    const killedAt = Date.now();
    active.kill('SIGKILL');
    await eventually(async () => (await relayLeaseHolders(system.writePool, system.config.namespace)).active?.holder === `converge relay ${standby.id}`, 30_000, 'the standby to take the lease');
    console.log(`relay takeover after SIGKILL: ${Date.now() - killedAt} ms`);
    await eventually(async () => appended > 1500, 60_000, 'more appends after the takeover');
    appending = false;
    await Promise.all(writers);

    const { rows } = await system.writePool.query<{ event_id: string }>('SELECT event_id FROM events ORDER BY tx_id, position');
    const log = rows.map((row) => row.event_id);
    expect(log.length).toBe(appended);
    await eventually(async () => (await jsm.streams.info(stream)).state.messages >= log.length, 60_000, 'the stream to hold the whole log');
    expect(await streamEventIds(jsm, stream)).toEqual(log);
  });
});

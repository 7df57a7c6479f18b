import { NatsConnection } from 'nats';
import { allProjections } from '../../read-model/projections';
import { projectInMemory } from '../../read-model/projector/view-batches';
import { EventStore } from '../../write-model/event-store/event-store';
import { startNatsCluster, PrivateNatsCluster } from '../../test/support/nats-cluster';
import { eventually, http, projectionsCaughtUp, startTestSystem, TestSystem } from '../../test/support/system';
import { connectNats } from './connection';
import { eventStreamName } from './names';
import { readWholeLog } from '../../test/support/rebuild';

jest.setTimeout(240_000);

/** The whole system on a 3-node JetStream cluster, the node leading the event stream killed mid-traffic. */
describe('on a 3-node JetStream cluster', () => {
  let cluster: PrivateNatsCluster;
  let system: TestSystem;
  let nc: NatsConnection;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    nc = await connectNats(cluster.url, 'cluster-test');
    // JetStream needs a meta leader before a stream can be made.
    await eventually(async () => (await (await nc.jetstreamManager()).getAccountInfo().catch(() => undefined)) !== undefined, 60_000, 'JetStream ready');
    system = await startTestSystem({ natsUrl: cluster.url, env: { NATS_STREAM_REPLICAS: '3' } });
  }, 120_000);
  afterAll(async () => {
    await system?.dispose();
    await nc?.close().catch(() => undefined);
    await cluster?.dispose();
  });

  it('loses nothing when the stream leader dies while commands flow; views equal a rebuild', async () => {
    const jsm = await nc.jetstreamManager();
    const stream = eventStreamName(system.config.namespace);
    const info = await eventually(async () => {
      const found = await jsm.streams.info(stream).catch(() => undefined);
      return found?.cluster?.leader && (found.cluster.replicas?.length ?? 0) === 2 ? found : undefined;
    }, 60_000, 'the stream with 3 replicas and a leader');
    expect(info.config.num_replicas).toBe(3);

    let n = 0;
    let flowing = true;
    const failures: number[] = [];
    const writers = Array.from({ length: 4 }, async (_, w) => {
      while (flowing) {
        const sku = `CL-${w}-${n++}`;
        const created = await http('POST', `${system.commandUrl}/products`, { sku, name: `Cluster ${sku}`, price: { amount: 100, currency: 'EUR' } });
        if (created.status !== 201) failures.push(created.status);
        const received = await http('POST', `${system.commandUrl}/inventory/${sku}/receipts`, { quantity: 3 });
        if (received.status !== 200) failures.push(received.status);
      }
    });
    await eventually(async () => n > 40, 60_000, 'commands flowing');
    const leader = info.cluster!.leader!;
    cluster.kill(leader);
    const after = await eventually(async () => {
      const found = await jsm.streams.info(stream).catch(() => undefined);
      return found?.cluster?.leader && found.cluster.leader !== leader ? found : undefined;
    }, 90_000, 'a new stream leader');
    console.log(`stream leader ${leader} killed; new leader ${after.cluster!.leader}`);
    const atKill = n;
    await eventually(async () => n > atKill + 60, 90_000, 'commands flowing after the leader died');
    flowing = false;
    await Promise.all(writers);
    // Commands need only PostgreSQL: none failed while NATS elected a new leader.
    expect(failures).toEqual([]);

    const projections = allProjections({ lowStockThreshold: system.config.lowStockThreshold });
    await projectionsCaughtUp(system, projections.map((p) => p.name), 120_000);
    const log = await readWholeLog(new EventStore(system.writePool));
    expect((await jsm.streams.info(stream)).state.messages).toBe(log.length);
    for (const projection of projections) {
      const expected = (await projectInMemory(projection, log)).collections;
      for (const view of projection.views) {
        const live = await system.store.find(view.collection, { limit: 10_000 });
        const want = [...(expected.get(view.collection)?.values() ?? [])];
        expect({ view: view.collection, count: live.length }).toEqual({ view: view.collection, count: want.length });
        const byId = new Map(live.map((d) => [d.id, d.doc]));
        for (const doc of want) expect(byId.get(doc.id)).toEqual(JSON.parse(JSON.stringify(doc.doc)));
      }
    }
  });
});

import { AckPolicy, connect, DeliverPolicy } from 'nats';
import { orderKey } from '../src/contracts';
import { connectNats, ensureEventStream, eventStreamName } from '../src/nats';
import { dropDatabase } from '../src/postgres';
import { PRODUCTS, productCatalogProjection } from '../read-model/product-catalog/product-catalog.projection';
import { Projector } from '../read-model/projector/projector';
import { createViewStore } from '../read-model/view-store/create-view-store';
import { Relay } from '../write-model/relay/relay';
import { fillEventLog } from './event-log';
import { Benchmark, databaseUrl, freshDatabase, NATS_URL, ratioRow, scaled, sideBySide, uniqueName, waitFor } from './harness';

const EVENTS = 30_000;
/** The projector's default batch; the raw consumer gets the same pull size and ack window. */
const BATCH = 500;

/**
 * Live projection throughput (product-catalog into a PostgreSQL read store, messages already
 * in the stream, timed from start() to the checkpoint at the last event) vs a raw pull
 * consumer draining the same messages with acks, side by side.
 */
export const projectionBenchmark: Benchmark = {
  name: 'projection',
  async run(ctx) {
    const count = scaled(ctx, EVENTS, 2_000);
    const write = await freshDatabase(ctx, 'cvb_proj', 'write-store', 8);
    const events = await fillEventLog(write.pool, count);
    const last = events[events.length - 1];
    const lastKey = orderKey(last.txId, last.position);
    const namespace = uniqueName('cvbproj');
    const stream = eventStreamName(namespace);
    const nc = await connectNats(NATS_URL, 'converge-projector');
    ctx.defer(() => nc.close());
    const jsm = await nc.jetstreamManager();
    await ensureEventStream(jsm, namespace);
    ctx.defer(() => jsm.streams.delete(stream).catch(() => undefined));

    // Fill the stream with the relay itself, untimed.
    const relay = new Relay({ pool: write.pool, nc, namespace, logger: ctx.logger });
    relay.start();
    await waitFor(async () => (await jsm.streams.info(stream)).state.last_seq >= count, 120_000, 'the stream to fill', 20);
    await relay.stop();

    // The projector gets the product's connection; the baseline a plain client with the library's defaults.
    const raw = await connect({ servers: NATS_URL, name: 'bench-raw-consumer' });
    ctx.defer(() => raw.close());
    const js = raw.jetstream();
    const rawConsume = async (round: number) => {
      const durable = `raw_${round}`;
      const started = process.hrtime.bigint();
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        max_ack_pending: BATCH * 4,
      });
      const consumer = await js.consumers.get(stream, durable);
      let seen = 0;
      let drained!: () => void;
      const done = new Promise<void>((resolve) => (drained = resolve));
      const messages = await consumer.consume({
        max_messages: BATCH * 2,
        callback: (message) => {
          message.ack();
          if (++seen === count) drained();
        },
      });
      await done;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      await messages.close().catch(() => undefined);
      await jsm.consumers.delete(stream, durable).catch(() => undefined);
      return { ops: count, seconds };
    };

    let startUp = 0;
    const project = async () => {
      const readUrl = databaseUrl(uniqueName('cvb_proj_read'));
      ctx.defer(() => dropDatabase(readUrl));
      const store = await createViewStore(readUrl); // migrates the read store, untimed
      try {
        let caughtUp: (() => void) | undefined;
        const done = new Promise<void>((resolve) => (caughtUp = resolve));
        const projector = new Projector({
          projection: productCatalogProjection,
          store,
          nc,
          namespace,
          logger: ctx.logger,
          batchSize: BATCH,
          // Fired after each committed batch: the moment its checkpoint is visible to readers.
          onBatch: (batch) => {
            if (batch.checkpoint >= lastKey) caughtUp!();
          },
        });
        const started = process.hrtime.bigint();
        await projector.start();
        startUp += Number(process.hrtime.bigint() - started) / 1e6;
        await done;
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        await projector.stop();
        const checkpoint = await store.checkpoint(productCatalogProjection.name);
        if (checkpoint?.position !== last.position) {
          throw new Error(`checkpoint at ${checkpoint?.position}, expected the last event's position ${last.position}`);
        }
        const products = await store.count(PRODUCTS);
        if (products !== Math.min(500, count)) throw new Error(`product view holds ${products} documents`);
        return { ops: count, seconds };
      } finally {
        await store.close();
        await dropDatabase(readUrl);
      }
    };

    // One untimed run of each side first: the server, the client and each side's own code are warm when timed.
    await rawConsume(-1);
    await project();
    startUp = 0;
    const rounds = 3;
    const measured = await sideBySide(rounds, rawConsume, project);
    return [
      ratioRow('projection vs raw pull consume', measured, 'ev/s', 0.5, '≥ 50%', [
        `${count} messages; product-catalog on a PostgreSQL read store, batch ${BATCH}, timed from start() (incl. ` +
          `${Math.round(startUp / rounds)} ms start-up on average) to the commit of the last event's checkpoint; ` +
          `raw: pull consumer, explicit ack per message, same pull size and ack window`,
      ]),
    ];
  },
};

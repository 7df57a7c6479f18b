import { connect, JetStreamManager } from 'nats';
import { encodeEvent } from '../src/contracts';
import { connectNats, ensureEventStream, eventStreamName } from '../src/nats';
import { createPool } from '../src/postgres';
import { Relay } from '../write-model/relay/relay';
import { fillEventLog } from './event-log';
import { Benchmark, freshDatabase, NATS_URL, ratioRow, scaled, sideBySide, uniqueName, waitFor } from './harness';

const EVENTS = 20_000;
/** The relay's own default batch: the baseline keeps the same number of publishes in flight. */
const PIPELINE = 1_000;

/**
 * Relay throughput, from an empty JetStream stream to caught up with a pre-filled log, vs raw
 * pipelined JetStream publishes of the very same messages (subject, body, msgID, headers)
 * from one client, side by side.
 */
export const relayBenchmark: Benchmark = {
  name: 'relay',
  async run(ctx) {
    const count = scaled(ctx, EVENTS, 2_000);
    const write = await freshDatabase(ctx, 'cvb_relay', 'write-store', 8);
    const events = await fillEventLog(write.pool, count);
    const last = events[events.length - 1];
    // The relay gets the product's connection; the baseline a plain client with the library's defaults.
    const nc = await connectNats(NATS_URL, 'converge-relay');
    ctx.defer(() => nc.close());
    const raw = await connect({ servers: NATS_URL, name: 'bench-raw-publisher' });
    ctx.defer(() => raw.close());
    const js = raw.jetstream();
    const jsm = await nc.jetstreamManager();

    /** A fresh, empty event stream for one run; deleted by the benchmark's clean-up or right after the run. */
    const freshStream = async () => {
      const namespace = uniqueName('cvbrelay');
      await ensureEventStream(jsm, namespace);
      const drop = () => jsm.streams.delete(eventStreamName(namespace)).catch(() => undefined);
      ctx.defer(drop);
      return { namespace, drop };
    };

    const rawPublish = async () => {
      const { namespace, drop } = await freshStream();
      const messages = events.map((event) => encodeEvent(namespace, event));
      const started = process.hrtime.bigint();
      for (let i = 0; i < messages.length; i += PIPELINE) {
        await Promise.all(
          messages.slice(i, i + PIPELINE).map((m) => js.publish(m.subject, m.data, { msgID: m.msgID, headers: m.headers })),
        );
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      await expectMessages(jsm, namespace, count);
      await drop();
      return { ops: count, seconds };
    };

    const relayRun = async () => {
      const { namespace, drop } = await freshStream();
      const pool = createPool(write.url, { max: 2 });
      const relay = new Relay({ pool, nc, namespace, logger: ctx.logger });
      const started = process.hrtime.bigint();
      relay.start();
      // The relay's cursor moves once JetStream acknowledged a batch at the expected sequences: the
      // moment the baseline's last publishes resolve. Watching it costs the server nothing, where a
      // stream-info request every few milliseconds would compete with the publishes being timed.
      await waitFor(() => relay.publishedCursor?.position === last.position, 120_000, 'the relay to catch up', 1);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      await relay.stop();
      await pool.end();
      await expectMessages(jsm, namespace, count);
      await drop();
      return { ops: count, seconds };
    };

    // One untimed run of each side first: the server, the client and each side's own code are warm when timed.
    await rawPublish();
    await relayRun();
    const measured = await sideBySide(3, rawPublish, relayRun);
    const sizes = events.map((e) => encodeEvent('bench', e).data.length);
    const mean = Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length);
    return [
      ratioRow('relay vs raw pipelined publish', measured, 'msg/s', 0.8, '≥ 80%', [
        `${count} events per run; message body ${mean} B on average, msgID and 6-8 headers; ` +
          `baseline publishes ${PIPELINE} at a time from one client; relay timed from start() on an empty stream until its cursor (moved by JetStream's acks) reaches the last event`,
      ]),
    ];
  },
};

async function expectMessages(jsm: JetStreamManager, namespace: string, count: number): Promise<void> {
  const { state } = await jsm.streams.info(eventStreamName(namespace));
  if (state.messages !== count) throw new Error(`stream ${eventStreamName(namespace)} holds ${state.messages} messages, expected ${count}`);
}

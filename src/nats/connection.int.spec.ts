import { Writable } from 'node:stream';
import type { NatsConnection } from 'nats';
import pino from 'pino';
import { startNatsServer, PrivateNatsServer } from '../../test/support/nats-server';
import { eventually } from '../../test/support/system';
import { closeNats, connectNats, dialNats } from './connection';

/** The two ways a process lets go of NATS without waiting on a server that is away. */
describe('NATS connections that never wait on an absent server', () => {
  let nats: PrivateNatsServer;

  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats.dispose();
  });

  it('closeNats drains a connection while NATS answers, and closes one after its grace while NATS answers nothing', async () => {
    const live = await connectNats(nats.url, 'test-close-live');
    const received: string[] = [];
    const sub = live.subscribe('test.drain');
    void (async () => {
      for await (const message of sub) received.push(message.string());
    })();
    live.publish('test.drain', 'in flight');
    let started = Date.now();
    await closeNats(live, 60_000);
    // Well under the grace: the drain ended it, not the timer (bounds this loose hold on a loaded machine).
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(live.isClosed()).toBe(true);
    // A drain, not a close: the subscription handled what was in flight first.
    expect(received).toEqual(['in flight']);

    const stranded = await connectNats(nats.url, 'test-close-stranded');
    stranded.subscribe('test.stranded');
    await stranded.flush(); // nothing the server owes this connection is still on its way
    // Frozen, as a vanished host is: the socket stays open and a drain's flush is never answered (a killed server's
    // refused reconnects end a drain within a second; this one would wait for nats.js's ping timeouts, minutes).
    await nats.pause();
    try {
      started = Date.now();
      await closeNats(stranded, 1_000);
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(20_000); // not nats.js's ping time-outs, which take minutes
      expect(stranded.isClosed()).toBe(true);
    } finally {
      nats.resume();
    }
  });

  it('dialNats says NATS is away, connects once it answers, and close() ends the connection', async () => {
    const lines: { msg: string }[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { msg: string });
          done();
        },
      }),
    );
    await nats.stop();
    const connected: NatsConnection[] = [];
    const dial = dialNats(nats.url, 'test-dial', {
      logger,
      purpose: 'test notices',
      retryMs: 100,
      connected: (nc) => void connected.push(nc),
    });
    try {
      await eventually(async () => lines.some((line) => line.msg.startsWith('cannot reach NATS at')), 5_000, 'the warning');
      expect(lines.find((line) => line.msg.startsWith('cannot reach NATS at'))!.msg).toBe(
        `cannot reach NATS at ${nats.url} yet, still trying; check NATS_URL (no test notices until then)`,
      );
      expect(connected).toEqual([]);
      await nats.restart();
      await eventually(async () => connected.length === 1, 10_000, 'the connection once NATS answers');
      await connected[0].flush();
      expect(lines.map((line) => line.msg)).toContain('NATS answers: test notices on');
    } finally {
      await dial.close();
    }
    expect(connected[0].isClosed()).toBe(true);
  });

  it('dialNats closed before NATS answers never connects, even once NATS is back', async () => {
    await nats.stop();
    const connected: NatsConnection[] = [];
    const dial = dialNats(nats.url, 'test-dial-closed', {
      purpose: 'test notices',
      retryMs: 100,
      connected: (nc) => void connected.push(nc),
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await dial.close();
    } finally {
      await nats.restart();
    }
    // Longer than several retry periods: no attempt is left to connect.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(connected).toEqual([]);
  });
});

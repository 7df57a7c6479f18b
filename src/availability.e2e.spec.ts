import { startNatsServer, PrivateNatsServer } from '../test/support/nats-server';
import { eventually, http, Piece, startTestSystem, TestSystem } from '../test/support/system';

/** Commands need only PostgreSQL: with NATS down they succeed, and the views catch up when it returns. */
describe('availability while NATS is down', () => {
  let nats: PrivateNatsServer;
  let system: TestSystem;

  beforeAll(async () => {
    nats = await startNatsServer();
    system = await startTestSystem({ natsUrl: nats.url });
  });
  afterAll(async () => {
    await system.dispose();
    await nats.dispose();
  });

  it('accepts commands during the outage and reflects all of them once NATS is back', async () => {
    expect(
      (await http('POST', `${system.commandUrl}/products`, { sku: 'UP-1', name: 'Before', price: { amount: 1, currency: 'EUR' } })).status,
    ).toBe(201);
    await eventually(async () => (await http('GET', `${system.queryUrl}/products/UP-1`)).status === 200);

    await nats.stop();
    const skus = Array.from({ length: 10 }, (_, i) => `DOWN-${i}`);
    for (const sku of skus) {
      const created = await http('POST', `${system.commandUrl}/products`, { sku, name: sku, price: { amount: 100, currency: 'EUR' } });
      expect(created.status).toBe(201);
      expect((await http('POST', `${system.commandUrl}/inventory/${sku}/receipts`, { quantity: 3 })).status).toBe(200);
    }
    // While NATS is down nothing new can reach the views.
    expect((await http('GET', `${system.queryUrl}/products/DOWN-0`)).status).toBe(404);

    await nats.restart();
    await eventually(
      async () => {
        const { body } = await http('GET', `${system.queryUrl}/inventory?limit=100`);
        return body?.data?.filter((i: { sku: string; onHand: number }) => i.sku.startsWith('DOWN-') && i.onHand === 3).length === 10;
      },
      30_000,
      'every command made during the outage to be projected',
    );
    // Each view catches up on its own: the catalog may still be a batch behind the inventory.
    const all = ['UP-1', ...skus].sort();
    const listed = await eventually(
      async () => {
        const { body } = await http('GET', `${system.queryUrl}/products?limit=100`);
        const found = (body?.data ?? []).map((p: { sku: string }) => p.sku).sort();
        return found.length >= all.length && found;
      },
      30_000,
      'the catalog to list every product',
    );
    expect(listed).toEqual(all);
  });

  it('starts the command API and takes commands while NATS is unreachable: it connects only for its append signals', async () => {
    await system.stop('command-api');
    await nats.stop();
    try {
      await system.start('command-api');
      expect((await http('GET', `${system.commandUrl}/health/ready`)).status).toBe(200);
      const created = await http('POST', `${system.commandUrl}/products`, {
        sku: 'NO-NATS',
        name: 'Offline',
        price: { amount: 5, currency: 'EUR' },
      });
      expect(created.status).toBe(201);
      // Stopping it while its NATS connection is still pending returns too.
      await system.stop('command-api');
      await system.start('command-api');
    } finally {
      await nats.restart();
    }
    await eventually(
      async () => (await http('GET', `${system.queryUrl}/products/NO-NATS`)).status === 200,
      30_000,
      'NO-NATS in the catalog',
    );
  });

  it('starts the query API and serves reads while NATS is unreachable', async () => {
    await system.stop('query-api');
    await nats.stop();
    try {
      await system.start('query-api');
      const list = await http('GET', `${system.queryUrl}/products?limit=100`);
      expect(list.status).toBe(200);
      expect(list.body.data.length).toBeGreaterThan(0);
      expect((await http('GET', `${system.queryUrl}/health/ready`)).status).toBe(200);
    } finally {
      await nats.restart();
    }
  });

  it('stops every process promptly while NATS answers nothing (a vanished host), and starts them again once it is back', async () => {
    await system.start('reconciler');
    // Frozen: connections stay open and nothing is answered, so nothing that waits on the server ends on its own.
    await nats.pause();
    /** Resolves with the seconds a stop took; rejects if it takes more than 15 s. */
    const timedStop = async (piece: Piece) => {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const tooLong = new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${piece} still stopping after 15 s`)), 15_000)),
      );
      try {
        await Promise.race([system.stop(piece), tooLong]);
      } finally {
        clearTimeout(timer);
      }
      return (Date.now() - started) / 1000;
    };
    try {
      const pieces: Piece[] = ['reconciler', 'query-api', 'process-manager', 'projector', 'relay', 'command-api'];
      for (const piece of pieces) expect({ piece, stopped: (await timedStop(piece)) < 10 }).toEqual({ piece, stopped: true });
      // Started and stopped again before it ever reached NATS.
      await nats.kill();
      await system.start('query-api');
      expect((await http('GET', `${system.queryUrl}/products?limit=1`)).status).toBe(200);
      expect(await timedStop('query-api')).toBeLessThan(10);
    } finally {
      await nats.restart();
    }
    for (const piece of ['command-api', 'relay', 'projector', 'process-manager', 'query-api'] as const) await system.start(piece);
    const created = await http('POST', `${system.commandUrl}/products`, {
      sku: 'AFTER-STOP',
      name: 'Back',
      price: { amount: 2, currency: 'EUR' },
    });
    expect(created.status).toBe(201);
    await eventually(
      async () => (await http('GET', `${system.queryUrl}/products/AFTER-STOP`)).status === 200,
      30_000,
      'AFTER-STOP in the catalog',
    );
  }, 120_000);
});

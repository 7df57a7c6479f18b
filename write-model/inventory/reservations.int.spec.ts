import { randomUUID } from 'node:crypto';
import { CommandBus } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { CommandApiModule } from '../command-api.module';
import { eventually, http, startTestSystem, TestSystem } from '../../test/support/system';
import { ReserveStock } from './inventory.commands';

describe('stock reservations under concurrency', () => {
  let system: TestSystem;
  let bus: CommandBus;

  beforeAll(async () => {
    system = await startTestSystem();
    const module = await Test.createTestingModule({ imports: [CommandApiModule.forRoot(system.writePool)] }).compile();
    await module.init();
    bus = module.get(CommandBus);
  });
  afterAll(() => system.dispose());

  /**
   * The 20 units went, `sold` of them to these reservations, and every other one was refused for
   * want of stock; every stock event records the levels after it, so availability never went below zero.
   */
  async function expectSoldOut(sku: string, outcomes: PromiseSettledResult<unknown>[], sold: number) {
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(outcomes.length - refused.length).toBe(sold);
    for (const { reason } of refused) {
      expect(reason).toEqual(expect.objectContaining({ reason: 'insufficient-stock', details: expect.objectContaining({ available: 0 }) }));
    }
    const { rows } = await system.writePool.query<{ available: number }>(
      `SELECT (data->>'onHand')::int - (data->>'reserved')::int AS available FROM events WHERE stream_id = $1 ORDER BY stream_version`,
      [`stock-${sku}`],
    );
    expect(rows).toHaveLength(21);
    expect(Math.min(...rows.map((r) => r.available))).toBe(0);
    expect(rows[rows.length - 1].available).toBe(0);
  }

  it('sells exactly what is available to 50 concurrent reservations, and the view agrees', async () => {
    const sku = 'HOT-1';
    expect((await http('POST', `${system.commandUrl}/products`, { sku, name: 'Hot item', price: { amount: 500, currency: 'EUR' } })).status).toBe(201);
    expect((await http('POST', `${system.commandUrl}/inventory/${sku}/receipts`, { quantity: 20 })).status).toBe(200);

    const context = () => ({ correlationId: randomUUID(), actor: 'test' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        bus.execute(new ReserveStock({ type: 'ReserveStock', sku, orderId: randomUUID(), quantity: 1 }, context())),
      ),
    );
    await expectSoldOut(sku, outcomes, 20);

    const view = await eventually(async () => {
      const { body } = await http('GET', `${system.queryUrl}/inventory/${sku}`);
      return body?.data?.reserved === 20 ? body.data : undefined;
    });
    expect(view).toEqual(expect.objectContaining({ onHand: 20, reserved: 20, available: 0, lowStock: true, movements: 21 }));
  });

  it('sells exactly what is available when two processes reserve, each deciding on the aggregates it keeps', async () => {
    const sku = 'HOT-2';
    expect((await http('POST', `${system.commandUrl}/products`, { sku, name: 'Hot item', price: { amount: 500, currency: 'EUR' } })).status).toBe(201);
    expect((await http('POST', `${system.commandUrl}/inventory/${sku}/receipts`, { quantity: 20 })).status).toBe(200);
    const replicas = await Promise.all(
      [new Registry(), new Registry()].map(async (registry) => {
        const module = await Test.createTestingModule({ imports: [CommandApiModule.forRoot(system.writePool, { registry, cacheSize: 1_000 })] }).compile();
        await module.init();
        return { bus: module.get(CommandBus), registry };
      }),
    );
    const reserve = (replica: number) =>
      replicas[replica].bus.execute(
        new ReserveStock({ type: 'ReserveStock', sku, orderId: randomUUID(), quantity: 1 }, { correlationId: randomUUID(), actor: 'test' }),
      );
    // Each keeps the stock as its first reservation left it: the first replica's is behind from the second's on.
    await reserve(0);
    await reserve(1);

    const outcomes = await Promise.allSettled(Array.from({ length: 48 }, (_, i) => reserve(i % 2)));
    await expectSoldOut(sku, outcomes, 18);

    // The kept states were used, and the stale ones caught: not a run that happened to read the store every time.
    const counted = async (name: string, labels: Record<string, string> = {}) => {
      let sum = 0;
      for (const { registry } of replicas) {
        const metric = (await registry.getSingleMetric(name)?.get())?.values ?? [];
        sum += metric.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((n, v) => n + v.value, 0);
      }
      return sum;
    };
    expect(await counted('converge_aggregate_cache_reads_total', { result: 'hit' })).toBeGreaterThan(0);
    expect(await counted('converge_aggregate_cache_stale_total')).toBeGreaterThan(0);
  });
});

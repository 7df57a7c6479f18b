import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { EventStore } from '../../write-model/event-store/event-store';
import { productAggregate } from '../../write-model/catalog/catalog.commands';
import { stockAggregate } from '../../write-model/inventory/inventory.commands';
import { AggregateStore } from '../../write-model/shared/aggregate-store';
import { orderKey, RecordedEvent } from '../../src/contracts';
import { eventually, startTestSystem, TestSystem } from '../../test/support/system';
import { allProjections } from '../projections';
import { projectInMemory } from './view-batches';
import { readWholeLog } from '../../test/support/rebuild';

const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');

describe('projector killed with SIGKILL in the middle of a batch', () => {
  let system: TestSystem;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
    system = await startTestSystem({ pieces: ['relay'] });
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await system.dispose();
  });

  const spawnProjector = () =>
    spawn(process.execPath, [MAIN, 'projector'], {
      env: { ...process.env, ...system.env, PROJECTION_BATCH_SIZE: '40', PROJECTION_BATCH_DELAY_MS: '30' },
      stdio: 'ignore',
    });

  it('converges to exactly the views a build from scratch gives', async () => {
    const aggregates = new AggregateStore(new EventStore(system.writePool));
    const context = () => ({ correlationId: randomUUID() });
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const sku = `CRASH-${i}`;
        const stock = stockAggregate(sku);
        await aggregates.handle(
          productAggregate(sku),
          { type: 'RegisterProduct', sku, name: `Crash ${i}`, description: '', price: { amount: 100 + i, currency: 'EUR' } },
          context(),
        );
        for (let n = 0; n < 30; n++) {
          const command =
            n % 3 === 2
              ? { type: 'AdjustStock' as const, sku, quantity: -1, reason: 'shrinkage' }
              : { type: 'ReceiveStock' as const, sku, quantity: 2 };
          await aggregates.handle(stock, command, context());
        }
      }),
    );
    const log = await readWholeLog(aggregates.events);
    expect(log).toHaveLength(20 * 31);
    const lastPosition = (event: RecordedEvent) => event.position;
    const final = log[log.length - 1];

    child = spawnProjector();
    // Kill once the projector is part-way through, while a batch is being applied.
    await eventually(async () => {
      const checkpoint = await system.store.checkpoint('inventory-levels');
      return checkpoint && checkpoint.position !== lastPosition(final) && log.findIndex((e) => e.position === checkpoint.position) > 120;
    }, 30_000, 'the projector to be part-way');
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    const atKill = await system.store.checkpoint('inventory-levels');
    expect(atKill!.position).not.toBe(final.position);

    child = spawnProjector();
    // Every projection, not only the two that handle these events: the others create their views when they start.
    const projections = allProjections({ lowStockThreshold: system.config.lowStockThreshold });
    const finalKey = orderKey(final.txId, final.position);
    for (const { name } of projections) {
      await eventually(async () => (await system.store.checkpoint(name))?.orderKey === finalKey, 30_000, `${name} to catch up`);
    }

    for (const projection of projections) {
      const expected = (await projectInMemory(projection, log)).collections;
      for (const view of projection.views) {
        const live = await system.store.find(view.collection, { limit: 10_000 });
        const want = [...(expected.get(view.collection)?.values() ?? [])];
        expect(live.length).toBe(want.length);
        const byId = new Map(live.map((d) => [d.id, d]));
        for (const doc of want) expect(byId.get(doc.id)?.doc).toEqual(JSON.parse(JSON.stringify(doc.doc)));
      }
    }
    const inventory = await system.store.find('inventory', { limit: 100 });
    // 30 stock movements per sku: any event applied twice (or lost) shows in the counter.
    expect(inventory.map((d) => d.doc.movements)).toEqual(Array(20).fill(30));
  });
});

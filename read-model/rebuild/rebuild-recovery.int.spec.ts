import { setTimeout as sleep } from 'node:timers/promises';
import { PostgresRebuildLeases } from '../../write-model/leases/rebuild-leases';
import { startTestSystem, TestSystem } from '../../test/support/system';
import { appendCatalogHistory, assertBuilt, caughtUp, finished, runConverge, spawnConverge } from '../../test/support/rebuild';

const SHADOW_CHECKPOINT = 'product-catalog@rebuild';

describe('converge rebuild, interrupted and contended', () => {
  let system: TestSystem;
  let leases: PostgresRebuildLeases;
  let total: number;

  /** Polls the shadow checkpoint until it is past `fraction` of the log; kills the rebuild first if it ends too soon. */
  async function shadowPast(fraction: number): Promise<number> {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(20)) {
      const position = (await system.store.checkpoint(SHADOW_CHECKPOINT))?.position ?? 0;
      if (position >= total * fraction) return position;
    }
    throw new Error(`the shadow checkpoint did not pass ${fraction * 100}% of the log`);
  }

  async function leaseReleased(): Promise<void> {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(20)) {
      if (!(await leases.holder('product-catalog'))) return;
    }
    throw new Error('the rebuild lease was not released');
  }

  beforeAll(async () => {
    assertBuilt();
    system = await startTestSystem({ pieces: ['relay', 'projector'] });
    leases = new PostgresRebuildLeases(system.config.databaseUrl, system.writePool, system.config.namespace);
    const history = await appendCatalogHistory(system.writePool, { products: 400, eventsPerProduct: 50 });
    total = history.events;
    await caughtUp(system.store, 'product-catalog', history.lastKey, 120_000);
  });
  afterAll(() => system.dispose());

  it('resumes from the shadow checkpoint after SIGKILL and ends equal to the log', async () => {
    // --max-rate keeps the run long enough to be caught in the middle.
    const doomed = spawnConverge(['rebuild', 'product-catalog', '--batch-size', '500', '--max-rate', '4000'], system.env);
    const outcome = finished(doomed);
    const reached = await shadowPast(0.25);
    doomed.kill('SIGKILL');
    expect((await outcome).signal).toBe('SIGKILL');
    const left = (await system.store.checkpoint(SHADOW_CHECKPOINT))!.position;
    expect(left).toBeGreaterThanOrEqual(reached);
    expect(left).toBeLessThan(total);
    await leaseReleased(); // the lease died with the process: no expiry to wait for

    const resumed = await runConverge(['rebuild', 'product-catalog', '--batch-size', '500', '--json'], system.env);
    expect(resumed.stderr.split('\n')[0]).toBe(
      `product-catalog: resuming from the shadow checkpoint at position ${left}, ${(total - left).toLocaleString('en-US')} events to replay`,
    );
    expect(resumed.code).toBe(0);
    const result = JSON.parse(resumed.stdout);
    expect(result.resumedFrom.position).toBe(left);
    expect(result.replayed).toBe(total - left);
    expect(await system.store.checkpoint(SHADOW_CHECKPOINT)).toBeUndefined();

    const verify = await runConverge(['verify', 'product-catalog', '--json'], system.env);
    expect(JSON.parse(verify.stdout).differences).toEqual([]);
    expect(verify.code).toBe(0);
  });

  it('refuses a second rebuild of the same projection while one runs, and resumes after Ctrl-C', async () => {
    // Slow enough (20,000 events at 1,000/s) to outlast two CLI start-ups on a busy machine; it is interrupted anyway.
    const first = spawnConverge(['rebuild', 'product-catalog', '--batch-size', '500', '--max-rate', '1000', '--fresh'], system.env);
    const firstOutcome = finished(first);
    await shadowPast(0.1);
    expect(await leases.holder('product-catalog')).toEqual({ holder: expect.stringContaining('converge rebuild product-catalog'), since: expect.any(Date) });

    const second = await runConverge(['rebuild', 'product-catalog'], system.env);
    expect(second.code).toBe(3);
    expect(second.stderr).toContain('a rebuild of product-catalog is already running');

    const status = JSON.parse((await runConverge(['status', '--json'], system.env)).stdout);
    const catalog = status.projections.find((p: { name: string }) => p.name === 'product-catalog');
    expect(catalog.rebuild.running.holder).toContain('converge rebuild product-catalog');
    expect(catalog.rebuild.shadowCheckpoint.position).toBeGreaterThan(0);
    expect(catalog.rebuild.shadowCollections).toEqual(['products__rebuild']);

    first.kill('SIGINT');
    const stopped = await firstOutcome;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/interrupted at position \d+; run it again to resume/);
    const left = (await system.store.checkpoint(SHADOW_CHECKPOINT))!.position;
    await leaseReleased();

    // A rebuild of another projection was never blocked by this one's lease.
    const other = await runConverge(['rebuild', 'inventory-levels', '--json'], system.env);
    expect(other.code).toBe(0);

    const resumed = await runConverge(['rebuild', 'product-catalog', '--json'], system.env);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).resumedFrom.position).toBe(left);
    const verify = await runConverge(['verify', '--all', '--json'], system.env);
    expect(JSON.parse(verify.stdout).map((r: { differences: unknown[] }) => r.differences)).toEqual([[], [], [], [], []]);
    expect(verify.code).toBe(0);
  });
});

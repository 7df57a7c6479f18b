import { Pool } from 'pg';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ORIGIN_ORDER_KEY } from '../../src/contracts';
import { PostgresEventLog } from '../../write-model/event-store/postgres-event-log';
import { appendCatalogHistory } from '../../test/support/rebuild';
import { projectionsCaughtUp, startTestSystem, TestSystem } from '../../test/support/system';
import { allProjections } from '../projections';
import { verifyProjection } from '../rebuild/verify';
import type { ReconcileReport } from './reconcile-report';
import { Reconciler } from './reconciler';
import { ReconcilerMetrics } from './reconciler-metrics';

const LARGE = process.env.CONVERGE_LARGE_TESTS === '1';
// The test system's own threshold (5, the default): the views were projected with it.
const PROJECTIONS = allProjections({ lowStockThreshold: 5 });
const NAMES = PROJECTIONS.map((p) => p.name);
const silent = pino({ level: 'silent' });

const catalog = (report: ReconcileReport) => report.projections.find((p) => p.projection === 'product-catalog')!;
const found = (report: ReconcileReport) => report.projections.reduce((n, p) => n + p.differences.changed + p.differences.missing + p.differences.extra, 0);

describe('Reconciler: the cost bound', () => {
  let system: TestSystem;

  afterEach(async () => {
    await system?.dispose();
  });

  it('compares every document within cycleRuns runs, and only a slice of each view per run', async () => {
    system = await startTestSystem({ pieces: ['relay', 'projector'] });
    const readPool = new Pool({ connectionString: system.config.readStoreUrl, max: 1 });
    try {
      const { skus } = await appendCatalogHistory(system.writePool, { products: 40, eventsPerProduct: 4 });
      await projectionsCaughtUp(system, NAMES, 60_000);
      const reconciler = new Reconciler({
        projections: PROJECTIONS, store: system.store, log: new PostgresEventLog(system.writePool), logger: silent, cycleRuns: 4, minSlice: 1,
      });
      expect(found(await reconciler.run())).toBe(0);
      // Spread over the id order, so the four land in different slices.
      const tampered = [skus[0], skus[13], skus[26], skus[39]];
      await readPool.query(`UPDATE view_products SET doc = jsonb_set(doc, '{name}', '"Tampered"') WHERE id = ANY($1)`, [tampered]);
      const runs: ReconcileReport[] = [];
      for (let i = 0; i < 4; i++) runs.push(await reconciler.run());
      // Each run compares a quarter of the 40 products (nothing changed in the log meanwhile)...
      for (const run of runs) expect(catalog(run).checked).toBe(10);
      // ...and the four runs together find each tampered document exactly once.
      expect(runs.flatMap((run) => catalog(run).findings.map((f) => f.id)).sort()).toEqual([...tampered].sort());
      expect(runs.map((run) => catalog(run).differences.changed).filter(Boolean).length).toBeGreaterThan(1);
      for (const projection of PROJECTIONS) {
        expect((await verifyProjection({ projection, store: system.store, log: new PostgresEventLog(system.writePool) })).differences).toEqual([]);
      }
    } finally {
      await readPool.end();
    }
  }, 120_000);

  it('reports but leaves alone a differing document whose event is dead-lettered (the dead-letter workflow owns it)', async () => {
    system = await startTestSystem({ pieces: ['relay', 'projector'] });
    const readPool = new Pool({ connectionString: system.config.readStoreUrl, max: 1 });
    try {
      const { skus } = await appendCatalogHistory(system.writePool, { products: 5, eventsPerProduct: 4 });
      await projectionsCaughtUp(system, NAMES, 60_000);
      const log = new PostgresEventLog(system.writePool);
      const [event] = (await log.readAfter(ORIGIN_ORDER_KEY, 100, ['ProductRegistered'])).filter((e) => (e.data as { sku: string }).sku === skus[2]);
      const checkpoint = (await system.store.checkpoint('product-catalog'))!;
      await system.store.commit({
        projection: 'product-catalog',
        changes: [],
        deadLetters: [{ eventId: event.eventId, projection: 'product-catalog', orderKey: checkpoint.orderKey, event: event as never, error: 'Error: test', attempts: 5, failedAt: new Date() }],
        checkpoint,
      });
      await readPool.query(`UPDATE view_products SET doc = jsonb_set(doc, '{name}', '"Tampered"') WHERE id = ANY($1)`, [[skus[2], skus[3]]]);
      const reconciler = new Reconciler({ projections: PROJECTIONS, store: system.store, log, logger: silent, cycleRuns: 1, minSlice: 1 });
      const run = catalog(await reconciler.run());
      expect(run.findings.map(({ id, repaired }) => ({ id, repaired })).sort((a, b) => a.id.localeCompare(b.id))).toEqual([
        { id: skus[2], repaired: false },
        { id: skus[3], repaired: true },
      ]);
      expect((await system.store.get('products', skus[2]))!.doc.name).toBe('Tampered');
    } finally {
      await readPool.end();
    }
  }, 120_000);

  (LARGE ? it : it.skip)('measures a run at 100,000 events (CONVERGE_LARGE_TESTS=1)', async () => {
    system = await startTestSystem({ pieces: ['relay', 'projector'] });
    const history = await appendCatalogHistory(system.writePool, { products: 2000, eventsPerProduct: 50 });
    expect(history.events).toBeGreaterThanOrEqual(100_000);
    await projectionsCaughtUp(system, NAMES, 300_000);
    const log = new PostgresEventLog(system.writePool);
    const reconciler = new Reconciler({
      projections: PROJECTIONS, store: system.store, log, logger: silent, metrics: new ReconcilerMetrics(new Registry()), cycleRuns: 60, minSlice: 500,
    });
    const timed = async <T>(work: () => Promise<T>) => {
      const started = performance.now();
      const result = await work();
      return { result, ms: Math.round(performance.now() - started) };
    };
    const first = await timed(() => reconciler.run());
    const steady: { ms: number; checked: number }[] = [];
    for (let i = 0; i < 3; i++) {
      // 1,000 new events between runs (20 products x 50), as a busy minute might bring.
      const more = await appendCatalogHistory(system.writePool, { products: 20, eventsPerProduct: 50, prefix: `NEW${i}` });
      await projectionsCaughtUp(system, NAMES, 120_000);
      const run = await timed(() => reconciler.run());
      expect(found(run.result)).toBe(0);
      const products = catalog(run.result);
      // The 20 new products plus one slice: max(500, ceil(2,000+ / 60)) documents.
      expect(products.checked).toBeLessThanOrEqual(20 + 500);
      steady.push({ ms: run.ms, checked: run.result.projections.reduce((n, p) => n + p.checked, 0) });
      expect(more.events).toBe(1000);
    }
    const verify = await timed(async () => {
      for (const projection of PROJECTIONS) await verifyProjection({ projection, store: system.store, log });
    });
    const memory = Math.round(process.memoryUsage().heapUsed / 1e6);
    console.log(
      `reconciler at ${history.events.toLocaleString('en')} events: first run (replays the log into memory) ${first.ms} ms, ` +
        `checked ${first.result.projections.reduce((n, p) => n + p.checked, 0)}; steady runs after 1,000 new events ` +
        steady.map((s) => `${s.ms} ms / ${s.checked} documents`).join(', ') +
        `; a full converge verify of the five projections ${verify.ms} ms; heap ${memory} MB`,
    );
    expect(found(first.result)).toBe(0);
  }, 900_000);
});

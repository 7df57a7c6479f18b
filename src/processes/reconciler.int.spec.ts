import { Writable } from 'node:stream';
import pino from 'pino';
import { Pool } from 'pg';
import { Registry } from 'prom-client';
import { allProjections } from '../../read-model/projections';
import { loadReports, type ReconcileReport } from '../../read-model/reconciler/reconcile-report';
import { verifyProjection } from '../../read-model/rebuild/verify';
import type { StoredDocument } from '../../read-model/view-store/view-store';
import { PostgresEventLog } from '../../write-model/event-store/postgres-event-log';
import { appendCatalogHistory, assertBuilt, runConverge } from '../../test/support/rebuild';
import { eventually, http, projectionsCaughtUp, startTestSystem, TestSystem } from '../../test/support/system';
import { loadConfig } from '../config';
import { orderKey } from '../contracts';
import { RECONCILER_LEASE } from '../../read-model/reconciler/reconciler';
import { reconcilerLeaseTtlMs, startReconciler, type RunningReconciler } from './reconciler';

const PROJECTIONS = allProjections({ lowStockThreshold: 0 }).map((p) => p.name);

describe('the reconciler (a scheduled background check of every view against the log)', () => {
  let system: TestSystem;
  let readPool: Pool;
  let skus: string[];
  let reconciler: RunningReconciler;
  const registry = new Registry();
  const reports: ReconcileReport[] = [];
  const logLines: Record<string, unknown>[] = [];
  let firstStopped = false;
  const reconcilerEnv = (replica = 'first') => ({
    ...system.env,
    RECONCILE_INTERVAL: '2s',
    RECONCILER_PORT: '0',
    RECONCILE_CYCLE_RUNS: '60',
    RECONCILE_MIN_SLICE: '500',
    CONVERGE_REPLICA_ID: replica,
  });

  beforeAll(async () => {
    assertBuilt();
    system = await startTestSystem({ pieces: ['command-api', 'relay', 'projector', 'query-api'] });
    readPool = new Pool({ connectionString: system.config.readStoreUrl, max: 1 });
    skus = (await appendCatalogHistory(system.writePool, { products: 40, eventsPerProduct: 6 })).skus;
    await projectionsCaughtUp(system, PROJECTIONS, 60_000);
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const config = loadConfig(reconcilerEnv());
    reconciler = await startReconciler(config, pino({ level: 'info' }, sink), { registry, onReport: (report) => reports.push(report) });
  });
  afterAll(async () => {
    if (!firstStopped) await reconciler?.stop();
    await readPool?.end();
    await system?.dispose();
  });

  it('finds and repairs a changed, a missing and an extra document in one scheduled run while commands are written', async () => {
    await eventually(async () => reports.length >= 1, 60_000, 'the first run');
    expect(reports[0].projections.every((p) => p.differences.changed + p.differences.missing + p.differences.extra === 0)).toBe(true);

    // Commands keep changing the first ten products throughout.
    const busy = skus.slice(0, 10);
    let writing = true;
    let written = 0;
    const writer = (async () => {
      for (let price = 2000; writing; price++) {
        const sku = busy[price % busy.length];
        const answer = await http('PUT', `${system.commandUrl}/products/${sku}/price`, { price: { amount: price, currency: 'EUR' } });
        expect(answer.status).toBe(200);
        written++;
      }
    })();
    await eventually(async () => written >= 20, 60_000, 'commands to flow');

    const quiet = skus.slice(10);
    const before = await documents(quiet);
    const [altered, deleted] = [skus[20], skus[21]];
    const ghost = 'SKU-GHOST';
    // Right after a run, in one transaction: the next run is the first to see any of it.
    const finished = reports.length;
    await eventually(async () => reports.length > finished, 60_000, 'a run to finish');
    const client = await readPool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE view_products SET doc = jsonb_set(doc, '{name}', '"Tampered"') WHERE id = $1`, [altered]);
      await client.query('DELETE FROM view_products WHERE id = $1', [deleted]);
      await client.query('INSERT INTO view_products (id, doc, applied) VALUES ($1, $2, $3)', [
        ghost, { ...before.get(skus[30])!.doc, sku: ghost, name: 'Never registered' }, orderKey(1, 1),
      ]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const tamperedAt = Date.now();
    // Read through the query API now, so its cache is likely to hold the tampered document when the repair comes.
    const tamperedAnswer = await http('GET', `${system.queryUrl}/products/${altered}`);
    expect(tamperedAnswer.status).toBe(200);

    const run = await eventually(async () => reports.find((r) => Date.parse(r.startedAt) > tamperedAt), 60_000, 'a run started after the tampering');
    const catalog = run.projections.find((p) => p.projection === 'product-catalog')!;
    expect(catalog.differences).toEqual({ changed: 1, missing: 1, extra: 1 });
    expect(catalog.repaired).toBe(3);
    expect(catalog.findings.map(({ id, kind, repaired }) => ({ id, kind, repaired })).sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: ghost, kind: 'extra', repaired: true },
      { id: altered, kind: 'changed', repaired: true },
      { id: deleted, kind: 'missing', repaired: true },
    ].sort((a, b) => a.id.localeCompare(b.id)));
    for (const other of run.projections.filter((p) => p.projection !== 'product-catalog')) expect(other.repaired).toBe(0);
    // A few runs more find nothing new: the counters stay at 3.
    await eventually(async () => reports.length >= run.run + 2, 60_000, 'two more runs');
    writing = false;
    await writer;

    const metrics = await registry.getMetricsAsJSON();
    const sum = (name: string) => metrics.find((m) => m.name === name)!.values.reduce((n, v) => n + v.value, 0);
    expect(sum('converge_reconciler_differences_total')).toBe(3);
    expect(sum('converge_reconciler_repairs_total')).toBe(3);
    expect(sum('converge_reconciler_runs_total')).toBeGreaterThanOrEqual(run.run + 2);
    expect(sum('converge_reconciler_documents_checked_total')).toBeGreaterThan(0);
    const byKind = metrics.find((m) => m.name === 'converge_reconciler_differences_total')!.values.filter((v) => v.value > 0);
    expect(byKind.map((v) => v.labels).sort((a, b) => String(a.kind).localeCompare(String(b.kind)))).toEqual([
      { projection: 'product-catalog', kind: 'changed' }, { projection: 'product-catalog', kind: 'extra' }, { projection: 'product-catalog', kind: 'missing' },
    ]);
    const scraped = await (await fetch(`http://127.0.0.1:${reconciler.port}/metrics`)).text();
    expect(scraped).toMatch(/^converge_reconciler_repairs_total\{projection="product-catalog"\} 3$/m);
    expect(scraped).toContain('converge_reconciler_run_duration_seconds_bucket');

    // One log line per repaired document, with the expected and the actual values.
    const repairedLines = logLines.filter((line) => line.msg === 'reconciler repaired a view document that differed from the event log');
    expect(repairedLines).toHaveLength(3);
    const line = repairedLines.find((l) => l.id === altered)!;
    expect(line).toEqual(expect.objectContaining({ kind: 'changed', expected: before.get(altered)!.doc, actual: { ...before.get(altered)!.doc, name: 'Tampered' } }));
    expect(repairedLines.find((l) => l.id === ghost)).toEqual(expect.objectContaining({ kind: 'extra', expected: null }));

    // The three are what the log says again, and no other quiet document was written.
    const after = await documents([...quiet, ghost]);
    expect(after.get(ghost)).toBeUndefined();
    for (const sku of quiet) expect(after.get(sku)).toEqual(before.get(sku));

    // The query API's read cache was told: it answers the repaired document.
    await eventually(async () => (await http('GET', `${system.queryUrl}/products/${altered}`)).body?.data?.name === before.get(altered)!.doc.name, 30_000, 'the query API to answer the repaired product');
    expect((await http('GET', `${system.queryUrl}/products/${ghost}`)).status).toBe(404);

    // The stored report is what `converge status` and the status page show.
    const stored = await loadReports(system.store);
    expect(stored.last!.run).toBeGreaterThanOrEqual(run.run + 2);
    expect(stored.lastWithDifferences!.run).toBe(run.run);
    const status = await runConverge(['status'], system.env);
    expect(status.stdout).toMatch(/reconciler {8}last run #\d+ at .*: [\d,]+ documents checked, 0 changed \/ 0 missing \/ 0 extra, 0 repaired/);
    expect(status.stdout).toContain(`last differences found: run #${run.run} at ${run.finishedAt}`);
    expect(status.stdout).toContain('1 changed / 1 missing / 1 extra, 3 repaired');
    expect(status.stdout).toContain(`repaired extra product-catalog products/${ghost}`);
    expect(status.stdout).toMatch(/^ {2}reconciler lease {2}held by first \(held [\d.]+ s, renewed [\d.]+ s ago\)$/m);

    // And the whole of every view equals a replay of the log.
    await projectionsCaughtUp(system, PROJECTIONS, 60_000);
    const log = new PostgresEventLog(system.writePool);
    for (const projection of allProjections(system.config)) {
      expect((await verifyProjection({ projection, store: system.store, log })).differences).toEqual([]);
    }
  });

  it('reconciles on one replica at a time: a second stands by, and takes over once the first stops', async () => {
    const standbyRegistry = new Registry();
    const standbyReports: ReconcileReport[] = [];
    const standby = await startReconciler(loadConfig(reconcilerEnv('second')), pino({ level: 'silent' }), {
      registry: standbyRegistry,
      onReport: (report) => standbyReports.push(report),
    });
    const leaseHeld = async (of: Registry) => (await of.getSingleMetric('converge_reconciler_lease_held')!.get()).values[0]?.value;
    try {
      const from = reports.length;
      await eventually(async () => reports.length >= from + 3, 60_000, 'three more runs of the first replica');
      expect(standbyReports).toEqual([]);
      expect(await leaseHeld(registry)).toBe(1);
      expect(await leaseHeld(standbyRegistry)).toBe(0);
      const { leases } = await system.store.leases();
      expect(leases.filter((l) => l.name === RECONCILER_LEASE).map((l) => l.owner.split('/')[0])).toEqual(['first']);

      // Stopped, the first lets the lease go: the standby reconciles at its next run, not once the lease expires (30 s).
      const stoppedAt = Date.now();
      await reconciler.stop();
      firstStopped = true;
      await eventually(async () => standbyReports.length >= 1, 20_000, 'the standby to take over');
      expect(Date.parse(standbyReports[0].startedAt) - stoppedAt).toBeLessThan(reconcilerLeaseTtlMs(2_000));
      expect(await leaseHeld(standbyRegistry)).toBe(1);
      const total = (report: ReconcileReport) => report.projections.reduce((n, p) => n + p.differences.changed + p.differences.missing + p.differences.extra, 0);
      expect(standbyReports.map(total)).toEqual(standbyReports.map(() => 0));
    } finally {
      await standby.stop();
    }
  });

  it('a standby takes over once a holder that vanished without releasing the lease lets it expire', async () => {
    // A replica that died holding the lease: its row stays until it expires (3 s here; a real one's TTL is three intervals).
    expect(await system.store.acquireLease(RECONCILER_LEASE, 'vanished/1/abc', 3_000)).toBeDefined();
    const heldAt = Date.now();
    const standbyReports: ReconcileReport[] = [];
    const standby = await startReconciler(loadConfig(reconcilerEnv('third')), pino({ level: 'silent' }), {
      registry: new Registry(),
      onReport: (report) => standbyReports.push(report),
    });
    try {
      await eventually(async () => standbyReports.length >= 1, 30_000, 'the standby to take the expired lease');
      expect(Date.parse(standbyReports[0].startedAt) - heldAt).toBeGreaterThanOrEqual(2_500);
      const { leases } = await system.store.leases();
      expect(leases.filter((l) => l.name === RECONCILER_LEASE).map((l) => l.owner.split('/')[0])).toEqual(['third']);
    } finally {
      await standby.stop();
    }
  });

  async function documents(ids: string[]): Promise<Map<string, StoredDocument>> {
    return system.store.getMany('products', ids);
  }
});

import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import { allProjections } from '../../read-model/projections';
import { saveReport, type ReconcileReport } from '../../read-model/reconciler/reconcile-report';
import { Reconciler, RECONCILER_LEASE } from '../../read-model/reconciler/reconciler';
import { ReconcilerMetrics } from '../../read-model/reconciler/reconciler-metrics';
import { createViewStore } from '../../read-model/view-store/create-view-store';
import { SoleLease } from '../../read-model/view-store/sole-lease';
import { PostgresEventLog } from '../../write-model/event-store/postgres-event-log';
import type { Config } from '../config';
import { OpsServer, opsServerFor } from '../http/ops-server';
import type { Logger } from '../logger';
import { createRegistry } from '../metrics';
import { CheckpointNotice, checkpointSubject, closeNats, connectNats } from '../nats';
import { createPool } from '../postgres';

/** How long the lease outlives its holder's last renewal: three intervals, and never under 30 s. */
export function reconcilerLeaseTtlMs(intervalMs: number): number {
  return Math.max(3 * intervalMs, 30_000);
}

export interface RunningReconciler {
  /** The port /metrics and /health are served on. */
  port: number;
  registry: Registry;
  /** The last finished run's report (also stored in the read store). */
  lastReport(): ReconcileReport | undefined;
  stop(): Promise<void>;
}

/**
 * The reconciler process: every RECONCILE_INTERVAL it compares each projection's views with
 * the event log and repairs what differs (read-model/reconciler), stores the run's report in
 * the read store for `converge status` and the status page, and tells read caches what it repaired.
 * Replicas may run on several machines: the one holding the reconciler lease reconciles, the
 * others stand by and take over once it releases the lease (on stop) or the lease expires.
 */
export async function startReconciler(config: Config, logger: Logger, options: { registry?: Registry; onReport?: (report: ReconcileReport) => void; ops?: OpsServer } = {}): Promise<RunningReconciler> {
  const registry = options.registry ?? createRegistry();
  const metrics = new ReconcilerMetrics(registry);
  const store = await createViewStore(config.readStoreUrl, { logger, maxConnections: 2, clientName: 'converge reconciler' });
  const pool = createPool(config.databaseUrl, { max: 2, clientName: 'converge reconciler' });
  const nc = await connectNats(config.natsUrl, 'converge-reconciler', logger);
  const { intervalMs, cycleRuns, minSlice } = config.reconciler;
  const reconciler = new Reconciler({
    projections: allProjections(config),
    store,
    log: new PostgresEventLog(pool),
    logger,
    metrics,
    cycleRuns,
    minSlice,
    onRepaired: (projection, checkpoint, changes) => {
      // Same-key repairs would not beat a cached entry's key, so the repaired collections' entries are all dropped.
      const notice: CheckpointNotice = {
        projection,
        orderKey: checkpoint.orderKey,
        position: checkpoint.position,
        eventRecordedAt: (checkpoint.eventRecordedAt ?? new Date()).toISOString(),
        changed: changes.map((c) => [c.collection, c.id, c.applied]),
        swapped: [...new Set(changes.map((c) => c.collection))],
      };
      nc.publish(checkpointSubject(config.namespace), JSON.stringify(notice));
    },
  });
  let last: ReconcileReport | undefined;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const ttlMs = reconcilerLeaseTtlMs(intervalMs);
  const lease = new SoleLease(store, RECONCILER_LEASE, `${config.replicaId}/${process.pid}/${randomBytes(3).toString('hex')}`, ttlMs);
  let standingBy = false;

  /** Whether this replica reconciles this time: it holds the lease, or has just taken it. */
  const holdsLease = async () => {
    const held = await lease.held().catch((error: unknown) => {
      logger.warn({ err: error }, 'reconciler lease: the read store cannot say who holds it; skipping this run');
      return false;
    });
    metrics.leaseHeld.set(held ? 1 : 0);
    if (held && standingBy) logger.info({ replica: config.replicaId }, 'reconciler holds the lease: reconciling');
    if (!held && !standingBy) logger.info({ replica: config.replicaId }, 'reconciler standing by: another replica holds the lease');
    standingBy = !held;
    return held;
  };

  const runOnce = async () => {
    if (!(await holdsLease())) return;
    // A run longer than the lease keeps it: renewed meanwhile, so a standby does not start the same work.
    const renewing = setInterval(() => void lease.held().catch(() => false), ttlMs / 3).unref();
    try {
      const report = await reconciler.run();
      last = report;
      options.onReport?.(report);
      await saveReport(store, report);
      const found = report.projections.reduce((n, p) => n + p.differences.changed + p.differences.missing + p.differences.extra, 0);
      const checked = report.projections.reduce((n, p) => n + p.checked, 0);
      logger[found ? 'warn' : 'info']({ run: report.run, checked, differences: found, durationMs: report.durationMs }, 'reconciler run finished');
    } catch (error) {
      logger.error({ err: error }, 'reconciler run failed; the next one starts on schedule');
    } finally {
      clearInterval(renewing);
    }
  };
  const schedule = () => {
    if (stopping) return;
    timer = setTimeout(() => {
      running = runOnce().finally(schedule);
    }, intervalMs);
  };
  if (intervalMs > 0) {
    running = runOnce().finally(schedule);
  } else {
    logger.info('RECONCILE_INTERVAL is 0: the reconciler does not run (converge verify checks on demand)');
  }

  const server = await opsServerFor(options.ops, {
    port: config.reconciler.port,
    registry,
    logger,
    checks: {
      readStore: () => store.checkpoints(),
      writeStore: () => pool.query('SELECT 1'),
    },
  });
  logger.info({ port: server.port, intervalMs, cycleRuns, minSlice }, 'reconciler running');
  return {
    port: server.port,
    registry,
    lastReport: () => last,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await running;
      // A standby takes over at its next run instead of when the lease expires.
      await lease.release();
      await server.close();
      await closeNats(nc);
      await pool.end();
      await store.close();
    },
  };
}

import { Command } from 'commander';
import { connect, JetStreamManager, NatsConnection } from 'nats';
import { allProjections } from '../../read-model/projections';
import { shadowState } from '../../read-model/rebuild/shadow';
import { loadReports, summarizeReport } from '../../read-model/reconciler/reconcile-report';
import type { Projection } from '../../read-model/projector/projection';
import type { Checkpoint, ViewStore } from '../../read-model/view-store/view-store';
import { ORIGIN_ORDER_KEY } from '../contracts';
import { eventStreamName, projectionConsumerName } from '../nats';
import { reasonOf, UnreachableError } from '../unreachable';
import { CliContext, CliError, count, EXIT, printJson, withContext } from './cli-support';
import type { PostgresEventLog } from '../../write-model/event-store/postgres-event-log';

export function statusCommand(): Command {
  return new Command('status')
    .description('show each projection\'s checkpoint, lag, consumer backlog, dead letters and rebuild state, and the relay\'s progress')
    .option('--json', 'print the status as JSON')
    .action(async (flags: { json?: boolean }) => {
      await withContext({ writeStore: true }, async ({ config, store, log, leases }) => {
        const nats = await openNats(config.natsUrl);
        try {
          const checkpoints = new Map((await store.checkpoints()).map((c) => [c.projection, c]));
          const projections = await Promise.all(
            allProjections(config).map((projection) =>
              projectionStatus(projection, checkpoints.get(projection.name), { store, log: log!, leases: leases!, nats, namespace: config.namespace }),
            ),
          );
          const relay = await log!.relayProgress(config.namespace);
          const reports = await loadReports(store);
          const reconciler = {
            lastRun: reports.last && summarizeReport(reports.last),
            lastWithDifferences: reports.lastWithDifferences && summarizeReport(reports.lastWithDifferences),
          };
          const errors = [...new Set([nats.error, ...projections.map((p) => 'error' in p.consumer && p.consumer.error)])]
            .filter((error): error is string => Boolean(error));
          const status = { namespace: config.namespace, projections, relay, reconciler, errors };
          if (flags.json) printJson(status);
          else printStatus(status);
          // The report is printed either way; a dependency it could not ask makes the exit code say so.
          if (errors.length) throw new CliError(errors.join('; '), EXIT.failure);
        } finally {
          await nats.nc?.close().catch(() => undefined);
        }
      });
    });
}

async function projectionStatus(
  projection: Projection,
  checkpoint: Checkpoint | undefined,
  { store, log, leases, nats, namespace }: { store: ViewStore; log: PostgresEventLog; leases: NonNullable<CliContext['leases']>; nats: Nats; namespace: string },
) {
  const [lag, deadLetters, shadow, lease, consumer] = await Promise.all([
    log.countAfter(checkpoint?.orderKey ?? ORIGIN_ORDER_KEY),
    store.deadLetters(projection.name),
    shadowState(store, projection),
    leases.holder(projection.name),
    consumerInfo(nats, namespace, projection.name),
  ]);
  return {
    name: projection.name,
    checkpoint: checkpoint
      ? { orderKey: checkpoint.orderKey, position: checkpoint.position, eventRecordedAt: checkpoint.eventRecordedAt, updatedAt: checkpoint.updatedAt }
      : null,
    // Seconds: how long the oldest event the view has not applied has been waiting.
    lag: { events: lag.count, seconds: lag.oldestRecordedAt ? Math.max(0, (Date.now() - new Date(lag.oldestRecordedAt).getTime()) / 1000) : 0 },
    consumer,
    deadLetters: deadLetters.length,
    rebuild: {
      running: lease ?? null,
      shadowCheckpoint: shadow.checkpoint ? { orderKey: shadow.checkpoint.orderKey, position: shadow.checkpoint.position } : null,
      shadowCollections: shadow.present,
    },
  };
}

type Nats = { nc?: NatsConnection; jsm?: JetStreamManager; error?: string };

/** Status must work with NATS down: it then reports the error instead of consumer numbers. */
async function openNats(url: string): Promise<Nats> {
  try {
    // Each server is tried once; -1 because nats.js with 0 drops a second, untried server after the first failure.
    const nc = await connect({ servers: url.split(','), name: 'converge-cli', timeout: 2000, maxReconnectAttempts: -1 });
    return { nc, jsm: await nc.jetstreamManager({ timeout: 2000 }) };
  } catch (error) {
    return { error: new UnreachableError('NATS', url, reasonOf(error)).message };
  }
}

async function consumerInfo(nats: Nats, namespace: string, projection: string) {
  const name = projectionConsumerName(namespace, projection);
  if (!nats.jsm) return { name, error: nats.error ?? 'NATS unreachable' };
  try {
    const info = await nats.jsm.consumers.info(eventStreamName(namespace), name);
    return { name, numPending: info.num_pending, numAckPending: info.num_ack_pending };
  } catch (error) {
    if (/not found/i.test(String(error))) return { name, missing: true as const };
    return { name, error: error instanceof Error ? error.message : String(error) };
  }
}

function printStatus(status: {
  namespace: string;
  errors: string[];
  projections: Awaited<ReturnType<typeof projectionStatus>>[];
  relay: Awaited<ReturnType<PostgresEventLog['relayProgress']>>;
  reconciler: { lastRun: ReturnType<typeof summarizeReport> | null; lastWithDifferences: ReturnType<typeof summarizeReport> | null };
}): void {
  console.log(`namespace ${status.namespace}`);
  for (const p of status.projections) {
    const c = p.consumer;
    const consumer = 'error' in c ? `consumer: ${c.error}` : 'missing' in c ? 'consumer: none (projector not started)'
      : `consumer pending ${count(c.numPending)} (unacked ${count(c.numAckPending)})`;
    const rebuild = [
      p.rebuild.running && `rebuild running (${p.rebuild.running.holder})`,
      p.rebuild.shadowCheckpoint && `shadow at position ${p.rebuild.shadowCheckpoint.position}`,
    ].filter(Boolean).join(', ');
    console.log(
      `  ${p.name.padEnd(17)} position ${String(p.checkpoint?.position ?? 0).padStart(9)}  lag ${count(p.lag.events)} events / ${p.lag.seconds.toFixed(1)} s  ` +
        `${consumer}  dead letters ${p.deadLetters}${rebuild ? `  ${rebuild}` : ''}`,
    );
  }
  const relay = status.relay;
  console.log(
    `  relay             ${relay.checkpoint ? `position ${relay.checkpoint.position}` : 'no checkpoint yet'} of head ${relay.head.position}` +
      ` (${count(relay.behind)} events not yet published)`,
  );
  const { lastRun, lastWithDifferences } = status.reconciler;
  const line = (r: ReturnType<typeof summarizeReport>) =>
    `run #${r.run} at ${r.finishedAt} (${r.durationMs} ms): ${count(r.checked)} documents checked, ` +
    `${r.differences.changed} changed / ${r.differences.missing} missing / ${r.differences.extra} extra, ${r.repaired} repaired`;
  console.log(`  reconciler        ${lastRun ? `last ${line(lastRun)}` : 'no run recorded yet'}`);
  if (lastWithDifferences && lastWithDifferences !== lastRun) {
    console.log(`    last differences found: ${line(lastWithDifferences)}`);
  }
  for (const f of lastWithDifferences?.findings ?? []) console.log(`      ${f.repaired ? 'repaired' : 'found'} ${f.kind} ${f.projection} ${f.collection}/${f.id}`);
}

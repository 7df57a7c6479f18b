import { Command } from 'commander';
import { connect, JetStreamManager, NatsConnection } from 'nats';
import { allProjections } from '../../read-model/projections';
import { shadowState } from '../../read-model/rebuild/shadow';
import { loadReports, summarizeReport } from '../../read-model/reconciler/reconcile-report';
import { RECONCILER_LEASE } from '../../read-model/reconciler/reconciler';
import type { Projection } from '../../read-model/projector/projection';
import type { Checkpoint, Lease, ViewStore } from '../../read-model/view-store/view-store';
import { PROJECTOR_MEMBER_PREFIX } from '../../read-model/projector/ownership';
import { relayLeaseHolders, RelayLeaseHolder } from '../../write-model/leases/relay-lease';
import type { Pool } from 'pg';
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
      await withContext({ writeStore: true }, async ({ config, store, log, leases, pool }) => {
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
          const replicas = await replicaStatus(store, pool!, config.namespace);
          for (const projection of projections) projection.owner = replicas.owners.get(projection.name) ?? null;
          const status = {
            namespace: config.namespace,
            projections,
            relay: { ...relay, publisher: replicas.relay.active ?? null, standbys: replicas.relay.standbys },
            projectorReplicas: replicas.projectors,
            reconciler: { ...reconciler, holder: replicas.reconciler },
            errors,
          };
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
    /** The projector replica holding the projection's lease (filled in by the caller). */
    owner: null as ProjectionOwner | null,
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

type ProjectionOwner = { replica: string; token: number; heldSeconds: number; renewedSecondsAgo: number; expiresInSeconds: number };

/**
 * Who runs what: each projection's lease holder (lease ages from the store's clock), the live
 * projector replicas with what they own (none: a standby), and the relay's publisher and standbys.
 */
async function replicaStatus(store: ViewStore, pool: Pool, namespace: string) {
  // A read store not yet migrated for leases has no owners to show.
  const { leases, now } = await store.leases().catch(() => ({ leases: [] as Lease[], now: new Date() }));
  const seconds = (from: Date, to: Date) => Math.round((to.getTime() - from.getTime()) / 100) / 10;
  const holderOf = (lease: Lease): ProjectionOwner => ({
    replica: lease.owner.split('/')[0],
    token: lease.token,
    heldSeconds: seconds(lease.acquiredAt, now),
    renewedSecondsAgo: seconds(lease.renewedAt, now),
    expiresInSeconds: seconds(now, lease.expiresAt),
  });
  const owners = new Map<string, ProjectionOwner>();
  for (const lease of leases) {
    if (!lease.name.startsWith('projection/') || lease.expiresAt <= now) continue;
    owners.set(lease.name.slice('projection/'.length), holderOf(lease));
  }
  const projectors = leases
    .filter((lease) => lease.name.startsWith(PROJECTOR_MEMBER_PREFIX) && lease.expiresAt > now)
    .map((lease) => {
      const replica = lease.name.slice(PROJECTOR_MEMBER_PREFIX.length);
      const owns = [...owners].filter(([, owner]) => owner.replica === replica).map(([name]) => name);
      return { replica, lastSeenSecondsAgo: seconds(lease.renewedAt, now), owns, standby: owns.length === 0 };
    });
  const held = leases.find((lease) => lease.name === RECONCILER_LEASE && lease.expiresAt > now);
  let reconciler: Omit<ProjectionOwner, 'token'> | null = null;
  if (held) {
    // The projections' shape without the token: nothing writes under the reconciler's.
    const { token, ...holder } = holderOf(held);
    reconciler = holder;
  }
  return { owners, projectors, reconciler, relay: await relayLeaseHolders(pool, namespace) };
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
  relay: Awaited<ReturnType<PostgresEventLog['relayProgress']>> & { publisher: RelayLeaseHolder | null; standbys: RelayLeaseHolder[] };
  projectorReplicas: { replica: string; lastSeenSecondsAgo: number; owns: string[]; standby: boolean }[];
  reconciler: {
    lastRun: ReturnType<typeof summarizeReport> | null;
    lastWithDifferences: ReturnType<typeof summarizeReport> | null;
    holder: Omit<ProjectionOwner, 'token'> | null;
  };
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
  console.log('replicas');
  for (const p of status.projections) {
    const o = p.owner;
    console.log(`  ${p.name.padEnd(17)} ${o ? `owned by ${o.replica} (token ${o.token}, held ${o.heldSeconds} s, renewed ${o.renewedSecondsAgo} s ago)` : 'no owner'}`);
  }
  for (const r of status.projectorReplicas) {
    console.log(`  projector ${r.replica.padEnd(24)} ${r.standby ? 'standby' : `owns ${r.owns.join(', ')}`} (seen ${r.lastSeenSecondsAgo} s ago)`);
  }
  const since = (holder: RelayLeaseHolder) => (holder.since ? `, connected ${new Date(holder.since).toISOString()}` : '');
  console.log(`  relay publisher   ${relay.publisher ? `${relay.publisher.holder}${since(relay.publisher)}` : 'none'}`);
  for (const standby of relay.standbys) console.log(`  relay standby     ${standby.holder}${since(standby)}`);
  const holder = status.reconciler.holder;
  const lease = holder
    ? `held by ${holder.replica} (held ${holder.heldSeconds} s, renewed ${holder.renewedSecondsAgo} s ago)`
    : 'not held (no reconciler running, or RECONCILE_INTERVAL is 0)';
  console.log(`  reconciler lease  ${lease}`);
}

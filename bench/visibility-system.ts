import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import { decodeToken, orderKey } from '../src/contracts';
import { CheckpointNotice, checkpointSubject, connectNats } from '../src/nats';
import { startCommandApi } from '../src/processes/command-api';
import { startProcessManager } from '../src/processes/process-manager';
import { startProjector } from '../src/processes/projector';
import { startQueryApi } from '../src/processes/query-api';
import { startRelay } from '../src/processes/relay';
import { databaseName, dropDatabase } from '../src/postgres';
import { loadConfig } from '../src/config';
import { projectRoot } from '../src/paths';
import { createViewStore } from '../read-model/view-store/create-view-store';
import { BenchContext, databaseUrl, deleteEventStream, freshDatabase, NATS_URL, uniqueName, waitFor } from './harness';
import { benchEnv, benchSku, jsonRequest, registerProducts } from './system';
import { CpuShare, cpuShare, cpuUse, describeCpuShare } from './support/cpu';

export const RATE = 300;
/**
 * Processes counted by command name: every PostgreSQL backend, the NATS server, and Redis (the
 * read cache's shared tier: each checkpoint notice invalidates there even when nothing is read).
 */
const CPU_BY_COMMAND = { postgres: 'PostgreSQL', 'nats-server': 'NATS', 'redis-server': 'Redis' };
export const WARM_UP_SECONDS = 1;
const SKUS = 100;
/** The view GET /inventory/{sku} reads. */
export const PROJECTION = 'inventory-levels';

interface Command {
  sku: string;
  sentAt: number;
  answeredAt?: number;
  visibleAt?: number;
  key?: string;
  measured: boolean;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface VisibilityRun {
  /** From sending the command to the view's checkpoint covering it. */
  fromSent: Percentiles;
  /** Those times, one per measured command (to pool runs). */
  visibility: number[];
  fromAnswer: Percentiles;
  commandLatency: Percentiles;
  measured: number;
  rate: number;
  achievedRate: number;
  seconds: number;
  /** CPU time per command of each process (PostgreSQL, NATS and Redis in all), where /proc exists. */
  cpu?: CpuShare;
}

export interface VisibilitySystem {
  writePool: Pool;
  writeUrl: string;
  /** Commands at `rate` per second for `seconds` (after a warm-up second), each timed until the view shows it. */
  measure(seconds: number, rate?: number): Promise<VisibilityRun>;
  /** The query API shows every receipt sent so far for a sample of skus. */
  check(): Promise<void>;
}

/**
 * The whole system (command API, relay, projector, process manager, query API) on databases and
 * a namespace of its own, with the measurement of command → query visibility: for each
 * POST /inventory/{sku}/receipts, the time until the inventory view has applied the command's
 * consistency token (the view and its checkpoint commit together, so that is when
 * GET /inventory/{sku} shows it). By default each process runs as an OS process of its own from
 * dist/, as `npm start` runs them; `inProcess` runs them all on this process's event loop
 * (`node dist/src/main.js all`), beside the load.
 */
export async function startVisibilitySystem(
  ctx: BenchContext,
  prefix: string,
  options: { env?: Record<string, string>; inProcess?: boolean } = {},
): Promise<VisibilitySystem> {
  const write = await freshDatabase(ctx, `cvb_${prefix}`, 'write-store', 1);
  const readUrl = databaseUrl(uniqueName(`cvb_${prefix}_read`));
  ctx.defer(() => dropDatabase(readUrl));
  const namespace = uniqueName(`cvb${prefix}`);
  ctx.defer(() => deleteEventStream(namespace));
  const env = await benchEnv({ writeUrl: write.url, readUrl, namespace, env: options.env });
  const config = loadConfig(env);
  // Whose CPU time each run reports: the system's processes, the load generator (this process), PostgreSQL, NATS, Redis.
  const pids: Record<string, number> = { [options.inProcess ? 'converge + load generator' : 'load generator']: process.pid };
  if (options.inProcess) {
    for (const start of [startCommandApi, startRelay, startProjector, startProcessManager, startQueryApi]) {
      const piece = await start(config, ctx.logger);
      ctx.defer(() => piece.stop());
    }
  } else {
    for (const name of ['command-api', 'relay', 'projector', 'process-manager', 'query-api']) {
      const child = spawnProcess(ctx, name, env);
      ctx.defer(() => child.stop());
      if (child.pid) pids[name] = child.pid;
    }
    for (const port of [config.commandApiPort, config.queryApiPort]) {
      await waitFor(() => ready(`http://127.0.0.1:${port}/health/ready`), 60_000, `the API on port ${port}`, 50);
    }
  }
  // The projector (another process, perhaps) created and migrated the read store before the query API was ready.
  await waitFor(() => ready(`http://127.0.0.1:${config.queryApiPort}/health/ready`), 60_000, 'the query API', 50);
  const store = await createViewStore(readUrl);
  ctx.defer(() => store.close());
  const commandUrl = `http://127.0.0.1:${config.commandApiPort}`;
  const queryUrl = `http://127.0.0.1:${config.queryApiPort}`;

  await registerProducts(commandUrl, SKUS);
  const { rows } = await write.pool.query<{ last: number }>('SELECT max(position)::bigint AS last FROM events');
  await waitFor(async () => ((await store.checkpoint(PROJECTION))?.position ?? 0) >= rows[0].last, 30_000, 'registrations to show', 10);

  const pending = new Set<Command>();
  // The view's checkpoint so far; a command is visible once it covers the command's place in the log.
  let applied = (await store.checkpoint(PROJECTION))?.orderKey ?? '';
  const settle = (key: string) => {
    if (key <= applied) return;
    applied = key;
    const now = performance.now();
    for (const command of pending) {
      if (command.key && command.key <= applied) {
        command.visibleAt = now;
        pending.delete(command);
      }
    }
  };
  // The projector announces each committed checkpoint on core NATS (what the query API waits on):
  // no polling load on the read store, and the moment of the commit to within a message hop.
  const nc = await connectNats(NATS_URL, 'bench-visibility');
  ctx.defer(() => nc.close());
  nc.subscribe(checkpointSubject(namespace), {
    callback: (error, message) => {
      if (error) return;
      const notice = JSON.parse(message.string()) as CheckpointNotice;
      if (notice.projection === PROJECTION) settle(notice.orderKey);
    },
  });
  await nc.flush();
  // A lost notice only delays a command; a slow re-read of the checkpoint settles it anyway.
  let rechecking = true;
  const recheck = (async () => {
    while (rechecking) {
      await sleep(250);
      settle((await store.checkpoint(PROJECTION))?.orderKey ?? '');
    }
  })();
  ctx.defer(async () => {
    rechecking = false;
    await recheck;
  });

  const receipts = new Map<string, number>();
  let sent = 0;

  async function measure(seconds: number, rate = RATE): Promise<VisibilityRun> {
    const commands: Command[] = [];
    const total = Math.round((seconds + WARM_UP_SECONDS) * rate);
    const warmUp = WARM_UP_SECONDS * rate;
    const inFlight: Promise<void>[] = [];
    const failures: unknown[] = [];
    // PostgreSQL's backends are told apart by the process they serve (each names its connections).
    const backends = await backendsByClient(write.pool, [write.url, readUrl]);
    const cpuBefore = cpuUse(pids, CPU_BY_COMMAND, backends);
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const sku = benchSku(sent++ % SKUS);
      receipts.set(sku, (receipts.get(sku) ?? 0) + 1);
      const command: Command = { sku, sentAt: performance.now(), measured: i >= warmUp };
      commands.push(command);
      pending.add(command);
      inFlight.push(
        jsonRequest<{ token: string }>('POST', `${commandUrl}/inventory/${sku}/receipts`, { quantity: 1 })
          .then((res) => {
            command.answeredAt = performance.now();
            if (res.status !== 200) throw new Error(`receipt for ${sku}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
            const token = decodeToken(res.body.token);
            if (!token) throw new Error(`receipt for ${sku}: no consistency token in ${JSON.stringify(res.body)}`);
            command.key = orderKey(token.txId, token.position);
            if (command.key <= applied) {
              command.visibleAt = command.answeredAt;
              pending.delete(command);
            }
          })
          .catch((error) => {
            failures.push(error);
            pending.delete(command);
          }),
      );
    }
    const issuedIn = (performance.now() - started) / 1000;
    await Promise.all(inFlight);
    if (failures.length) throw new Error(`${failures.length} commands failed, first: ${String(failures[0])}`);
    await waitFor(() => pending.size === 0, 30_000, 'every command to show in the view');
    const cpuAfter = cpuUse(pids, CPU_BY_COMMAND, backends);
    const measured = commands.filter((c) => c.measured);
    const visibility = measured.map((c) => c.visibleAt! - c.sentAt);
    return {
      fromSent: percentiles(visibility),
      visibility,
      fromAnswer: percentiles(measured.map((c) => c.visibleAt! - c.answeredAt!)),
      commandLatency: percentiles(measured.map((c) => c.answeredAt! - c.sentAt)),
      measured: measured.length,
      rate,
      achievedRate: Math.round(total / issuedIn),
      seconds,
      ...(cpuBefore && cpuAfter && { cpu: cpuShare(cpuBefore, cpuAfter, total, rate) }),
    };
  }

  async function check(): Promise<void> {
    for (const sku of [benchSku(0), benchSku(SKUS - 1)]) {
      const res = await jsonRequest<{ data?: { onHand?: number } } | undefined>('GET', `${queryUrl}/inventory/${sku}`);
      if (res.status !== 200 || res.body?.data?.onHand !== receipts.get(sku)) {
        throw new Error(`GET /inventory/${sku}: HTTP ${res.status}, onHand ${res.body?.data?.onHand}, expected ${receipts.get(sku)}`);
      }
    }
  }

  return { writePool: write.pool, writeUrl: write.url, measure, check };
}

export function describeRun(run: VisibilityRun): string {
  return (
    `${run.measured} commands measured at ${run.rate}/s (${run.achievedRate}/s achieved) over ${run.seconds} s after ${WARM_UP_SECONDS} s warm-up; ` +
    `from the command's answer: p50 ${run.fromAnswer.p50.toFixed(1)} ms, p99 ${run.fromAnswer.p99.toFixed(1)} ms; ` +
    `command latency p50 ${run.commandLatency.p50.toFixed(1)} ms, p99 ${run.commandLatency.p99.toFixed(1)} ms; ` +
    `visibility max ${run.fromSent.max.toFixed(1)} ms` +
    (run.cpu ? `; ${describeCpuShare(run.cpu)} (the warm-up second's commands included)` : '')
  );
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}

async function ready(url: string): Promise<boolean> {
  return jsonRequest('GET', url).then(
    (res) => res.status === 200,
    () => false,
  );
}

/**
 * One process of the system as a child OS process (`node dist/src/main.js <name>`). Its warnings
 * and errors go to this process's stderr; an exit before stop() fails the benchmark's next wait.
 */
function spawnProcess(ctx: BenchContext, name: string, env: Record<string, string>): { pid?: number; stop(): Promise<void> } {
  const child: ChildProcess = fork(join(projectRoot(), 'dist', 'src', 'main.js'), [name], {
    env: { ...process.env, ...env, LOG_LEVEL: 'warn', CONVERGE_REPLICA_ID: name },
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    if (!stopping) ctx.log(`${name} exited early (code ${code}, signal ${signal})`);
  });
  return {
    pid: child.pid,
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killed);
    },
  };
}

/**
 * PostgreSQL's backends that serve this system's processes on its databases, by the name each
 * process gives its connections ("converge relay ..." → "PostgreSQL for relay"); backends that
 * connect later, and everyone else's, stay in the plain PostgreSQL group.
 */
async function backendsByClient(pool: Pool, urls: string[]): Promise<Record<string, string>> {
  const { rows } = await pool.query<{ pid: number; name: string }>(
    "SELECT pid, application_name AS name FROM pg_stat_activity WHERE application_name LIKE 'converge %' AND datname = ANY($1)",
    [urls.map(databaseName)],
  );
  return Object.fromEntries(rows.map((row) => [String(row.pid), `PostgreSQL for ${row.name.split(' ')[1]}`]));
}

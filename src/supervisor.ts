import { ChildProcess, fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from './config';
import type { Logger } from './logger';
import { redact } from './postgres';

/** The processes `npm start` runs, and which of them CONVERGE_REPLICAS multiplies. */
const APIS = ['command-api', 'query-api'] as const;
const BACKGROUND = ['relay', 'projector', 'process-manager'] as const;
/** Run once whatever CONVERGE_REPLICAS says: a second reconciler on the same host would only stand by. */
const SINGLETONS = ['reconciler'] as const;
/** Ops ports (/metrics, /health) of the background processes: replica n adds 10 × (n - 1). */
const OPS_PORTS: Record<string, [string, number]> = {
  relay: ['RELAY_PORT', 3002],
  projector: ['PROJECTOR_PORT', 3003],
  'process-manager': ['PROCESS_MANAGER_PORT', 3004],
  reconciler: ['RECONCILER_PORT', 3005],
};
const RESTART_BACKOFF_MS = [500, 1_000, 2_000, 5_000, 10_000, 30_000];
/** A child that ran this long is healthy again: its next crash restarts it after the first delay. */
const HEALTHY_AFTER_MS = 60_000;

interface Child {
  name: string;
  process: string;
  env: Record<string, string>;
  proc?: ChildProcess;
  crashes: number;
  startedAt: number;
}

/**
 * `npm start` as a small cluster on one machine: every process is a child OS process of its
 * own (`node main.js <process>`), background ones CONVERGE_REPLICAS times with their own
 * replica id and ops port. A child that exits is restarted with backoff; Ctrl-C (or SIGTERM)
 * is forwarded once as SIGTERM, and the supervisor exits when every child has.
 */
export async function runSupervisor(config: Config, logger: Logger, mainScript: string, tokenLines: string[] = []): Promise<void> {
  const children: Child[] = [];
  for (const name of APIS) children.push({ name, process: name, env: { CONVERGE_REPLICA_ID: name }, crashes: 0, startedAt: 0 });
  for (const name of BACKGROUND) {
    for (let n = 1; n <= config.replicas; n++) {
      const env: Record<string, string> = { CONVERGE_REPLICA_ID: `${name}-${n}` };
      const [portName, fallback] = OPS_PORTS[name];
      const base = Number(process.env[portName] ?? fallback);
      env[portName] = String(base === 0 ? 0 : base + 10 * (n - 1));
      children.push({ name: `${name}-${n}`, process: name, env, crashes: 0, startedAt: 0 });
    }
  }
  for (const name of SINGLETONS) {
    const [portName, fallback] = OPS_PORTS[name];
    children.push({ name, process: name, env: { CONVERGE_REPLICA_ID: name, [portName]: process.env[portName] ?? String(fallback) }, crashes: 0, startedAt: 0 });
  }
  let stopping = false;

  const spawnChild = (child: Child) => {
    // Its own process group: a terminal's Ctrl-C reaches the supervisor only, which forwards it once.
    // The IPC channel tells a child that its supervisor is gone (see main.ts).
    const proc = fork(mainScript, [child.process], { env: { ...process.env, ...child.env }, stdio: 'inherit', detached: true });
    child.proc = proc;
    child.startedAt = Date.now();
    logger.info({ child: child.name, pid: proc.pid }, 'child started');
    proc.on('exit', (code, signal) => {
      child.proc = undefined;
      if (stopping) return;
      if (Date.now() - child.startedAt > HEALTHY_AFTER_MS) child.crashes = 0;
      const delay = RESTART_BACKOFF_MS[Math.min(child.crashes, RESTART_BACKOFF_MS.length - 1)];
      child.crashes += 1;
      logger.warn({ child: child.name, code, signal, restartInMs: delay }, 'child exited; restarting');
      setTimeout(() => {
        if (!stopping) spawnChild(child);
      }, delay).unref();
    });
  };
  for (const child of children) spawnChild(child);

  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: killing every child');
      for (const child of children) child.proc?.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping every child');
    const exits = children.map((child) => new Promise<void>((resolve) => (child.proc ? child.proc.once('exit', () => resolve()) : resolve())));
    for (const child of children) child.proc?.kill('SIGTERM');
    const deadline = sleep(config.shutdownGraceMs + config.shutdownDrainDelayMs + 2_000).then(() => 'late' as const);
    if ((await Promise.race([Promise.all(exits), deadline])) === 'late') {
      logger.warn('children still running after the grace period: killing them');
      for (const child of children) child.proc?.kill('SIGKILL');
      process.exit(1);
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  await Promise.all([config.commandApiPort, config.queryApiPort].map((port) => untilLive(port)));
  console.log(
    [
      '',
      `Converge is running: ${children.length} processes (${config.replicas} of each background process).`,
      `  command API  http://localhost:${config.commandApiPort}   (docs: /docs)`,
      `  query API    http://localhost:${config.queryApiPort}   (docs: /docs)`,
      `  status page  http://localhost:${config.queryApiPort}/status`,
      `  metrics      /metrics on both APIs; relay :${config.ops.relayPort}, projector :${config.ops.projectorPort}, process manager :${config.ops.processManagerPort}, reconciler :${config.reconciler.port} (replica n: +10 × (n - 1))`,
      `  write store  ${redact(config.databaseUrl)}`,
      `  read store   ${redact(config.readStoreUrl)}`,
      `  NATS         ${redact(config.natsUrl)} (namespace ${config.namespace})`,
      `  processes    ${children.map((c) => `${c.name} (pid ${c.proc?.pid ?? '-'})`).join(', ')}`,
      ...tokenLines,
      'Try: curl localhost:' + config.queryApiPort + '/products   ·   npx converge status',
      `     curl -H "Authorization: Bearer $TOKEN" localhost:${config.queryApiPort}/projections`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

/** Waits until an API answers /health/live (it may be restarting: keep trying). */
async function untilLive(port: number): Promise<void> {
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/health/live`).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(200);
  }
}

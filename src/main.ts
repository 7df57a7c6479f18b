import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { Config, ConfigError, loadConfig } from './config';
import { defaultSubject, DEMO_CUSTOMER, mintDevToken } from './identity/authenticator';
import { OpsServer, startWaitingOpsServer } from './http/ops-server';
import { createLogger } from './logger';
import { createPool, migrate, redact } from './postgres';
import { startCommandApi } from './processes/command-api';
import { startProcessManager } from './processes/process-manager';
import { startProjector } from './processes/projector';
import { startQueryApi } from './processes/query-api';
import { startReconciler } from './processes/reconciler';
import { startRelay } from './processes/relay';
import { createViewStore } from '../read-model/view-store/create-view-store';
import { runSupervisor } from './supervisor';
import { connectionFailure, UnreachableError, untilReachable } from './unreachable';
import { seedDemoCatalog } from '../write-model/catalog/demo-catalog';

const PROCESSES = ['cluster', 'all', 'command-api', 'relay', 'projector', 'process-manager', 'query-api', 'reconciler'] as const;
type ProcessName = (typeof PROCESSES)[number];

/** A running process: the APIs can drain (readiness 503) before they stop. */
interface Started {
  drain?(): void;
  stop(): Promise<void>;
}

/**
 * Entry point. `node dist/src/main.js` (what `npm start` runs) migrates, seeds the demo
 * catalog and supervises every process as a child of its own (src/supervisor.ts);
 * `node dist/src/main.js all` runs them all in this one process; `node dist/src/main.js <process>`
 * runs one (docker-compose and the supervisor do that).
 */
async function main(): Promise<void> {
  const which = (process.argv[2] ?? 'cluster') as ProcessName;
  if (!PROCESSES.includes(which)) {
    console.error(`unknown process "${which}"; expected one of: ${PROCESSES.join(', ')}`);
    process.exit(2);
  }
  const config = loadConfig();
  const logger = createLogger(`converge-${which}`, config.logLevel, config.logFormat);
  const started: Started[] = [];

  // Until every piece runs, a signal ends the process at once: it may be waiting for a dependency.
  const whileStarting = (signal: string) => {
    logger.info({ signal }, 'stopped while starting');
    process.exit(0);
  };
  process.on('SIGINT', whileStarting);
  process.on('SIGTERM', whileStarting);
  // A dependency going away must not end the process through a promise nobody awaited; a bug still does.
  process.on('unhandledRejection', (error) => {
    if (connectionFailure(error) === undefined) throw error;
    logger.warn({ err: error }, 'a dependency went away under a background task; it retries');
  });
  const run = (name: ProcessName) => which === 'all' || which === name;
  // The background processes answer their probes from the first moment (live, not ready) while they wait for their dependencies.
  const ops = new Map<ProcessName, OpsServer>();
  const opsPorts: [ProcessName, number][] = [
    ['relay', config.ops.relayPort],
    ['projector', config.ops.projectorPort],
    ['process-manager', config.ops.processManagerPort],
    ['reconciler', config.reconciler.port],
  ];
  for (const [name, port] of opsPorts) if (run(name)) ops.set(name, await startWaitingOpsServer(port, logger));
  // A dependency that is down at start-up is waited for (said every few seconds), never a reason to exit.
  const writeStore = <T>(start: () => Promise<T>) => untilReachable('write store', config.databaseUrl, start, logger);
  const readStore = <T>(start: () => Promise<T>) => untilReachable('read store', config.readStoreUrl, start, logger);
  if (['cluster', 'all', 'command-api', 'relay', 'process-manager'].includes(which)) {
    await writeStore(() => migrate(config.databaseUrl, 'write-store', logger));
  }
  if (which === 'cluster' || which === 'all') {
    const pool = createPool(config.databaseUrl, { max: 2, clientName: 'converge seed' });
    const seeded = await writeStore(() => seedDemoCatalog(pool)).finally(() => pool.end());
    logger.info(seeded, 'demo catalog loaded');
  }
  if (which === 'cluster') {
    // The read store's schema once, before its replicas and the query API start at the same moment.
    await readStore(async () => {
      const store = await createViewStore(config.readStoreUrl, { logger });
      await store.init().finally(() => store.close());
    });
    // The supervisor forwards signals to its children itself.
    process.off('SIGINT', whileStarting);
    process.off('SIGTERM', whileStarting);
    // The development key exists before the children start (they would race to create it), and the banner shows tokens.
    return runSupervisor(config, logger, __filename, await demoTokens(config));
  }
  if (run('command-api')) started.push(await writeStore(() => startCommandApi(config, logger.child({ process: 'command-api' }))));
  if (run('relay')) started.push(await writeStore(() => startRelay(config, logger.child({ process: 'relay' }), { ops: ops.get('relay') })));
  if (run('projector'))
    started.push(await readStore(() => startProjector(config, logger.child({ process: 'projector' }), { ops: ops.get('projector') })));
  if (run('process-manager'))
    started.push(
      await writeStore(() =>
        startProcessManager(config, logger.child({ process: 'process-manager' }), { ops: ops.get('process-manager') }),
      ),
    );
  if (run('query-api')) started.push(await readStore(() => startQueryApi(config, logger.child({ process: 'query-api' }))));
  if (run('reconciler'))
    started.push(await readStore(() => startReconciler(config, logger.child({ process: 'reconciler' }), { ops: ops.get('reconciler') })));
  process.off('SIGINT', whileStarting);
  process.off('SIGTERM', whileStarting);

  if (which === 'all') {
    const tokens = await demoTokens(config);
    console.log(
      [
        '',
        'Converge is running.',
        `  command API  http://localhost:${config.commandApiPort}   (docs: /docs)`,
        `  query API    http://localhost:${config.queryApiPort}   (docs: /docs)`,
        `  status page  http://localhost:${config.queryApiPort}/status`,
        `  metrics      /metrics on both APIs; relay :${config.ops.relayPort}, projector :${config.ops.projectorPort}, process manager :${config.ops.processManagerPort}`,
        `  write store  ${redact(config.databaseUrl)}`,
        `  read store   ${redact(config.readStoreUrl)}`,
        `  NATS         ${redact(config.natsUrl)} (namespace ${config.namespace})`,
        ...tokens,
        'Try: curl localhost:' + config.queryApiPort + '/products',
        `     curl -H "Authorization: Bearer $TOKEN" localhost:${config.queryApiPort}/projections`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for in-flight work');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, drainDelayMs: config.shutdownDrainDelayMs, graceMs: config.shutdownGraceMs }, 'stopping');
    // Readiness says 503 first, so load balancers stop sending before the servers stop accepting.
    for (const piece of started) piece.drain?.();
    await sleep(config.shutdownDrainDelayMs);
    const deadline = setTimeout(() => {
      logger.warn({ graceMs: config.shutdownGraceMs }, 'in-flight work did not finish within SHUTDOWN_GRACE_MS; exiting anyway');
      process.exit(1);
    }, config.shutdownGraceMs);
    // Last started, first stopped: the APIs stop taking work, consumers finish their batch, then connections close.
    for (const piece of started.reverse()) await piece.stop().catch((error) => logger.error({ err: error }, 'stop failed'));
    clearTimeout(deadline);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  // A child of the supervisor: stop when it is gone (killed), rather than run on unsupervised.
  process.on('disconnect', () => void shutdown('supervisor gone'));
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  // One line an operator can act on; the stack only when asked for (a bug rather than a setting).
  console.error(`converge failed to start: ${error instanceof Error ? error.message : String(error)}`);
  if (!(error instanceof UnreachableError) && /^(debug|trace)$/.test(process.env.LOG_LEVEL ?? '')) console.error(error);
  process.exit(1);
});

/** Ready-to-paste development tokens (12 h): a staff user and the demo customer. None with a JWKS: the provider issues them. */
async function demoTokens(config: Config): Promise<string[]> {
  if (config.identity.jwksUrl) return ['Tokens: from your identity provider (AUTH_JWKS_URL).'];
  const ttlSeconds = 12 * 3600;
  const staff = await mintDevToken(config.identity, { role: 'admin', subject: defaultSubject('admin'), ttlSeconds });
  const customer = await mintDevToken(config.identity, { role: 'customer', subject: DEMO_CUSTOMER, ttlSeconds });
  return [
    'Development tokens (12 h; more with npx converge token --role <role>):',
    `  staff (admin)          export TOKEN=${staff}`,
    `  customer ${DEMO_CUSTOMER.padEnd(14)}export CUSTOMER_TOKEN=${customer}`,
  ];
}

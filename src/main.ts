import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { createPool, migrate, redact } from './postgres';
import { startCommandApi } from './processes/command-api';
import { startProcessManager } from './processes/process-manager';
import { startProjector } from './processes/projector';
import { startQueryApi } from './processes/query-api';
import { startRelay } from './processes/relay';
import { createViewStore } from '../read-model/view-store/create-view-store';
import { runSupervisor } from './supervisor';
import { UnreachableError, whileReaching } from './unreachable';
import { seedDemoCatalog } from '../write-model/catalog/demo-catalog';

const PROCESSES = ['cluster', 'all', 'command-api', 'relay', 'projector', 'process-manager', 'query-api'] as const;
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
  const logger = createLogger(`converge-${which}`, config.logLevel);
  const started: Started[] = [];

  if (['cluster', 'all', 'command-api', 'relay', 'process-manager'].includes(which)) {
    await whileReaching('write store', config.databaseUrl, () => migrate(config.databaseUrl, 'write-store', logger));
  }
  if (which === 'cluster' || which === 'all') {
    const pool = createPool(config.databaseUrl, { max: 2 });
    const seeded = await whileReaching('write store', config.databaseUrl, () => seedDemoCatalog(pool)).finally(() => pool.end());
    logger.info(seeded, 'demo catalog loaded');
  }
  if (which === 'cluster') {
    // The read store's schema once, before its replicas and the query API start at the same moment.
    await whileReaching('read store', config.readStoreUrl, async () => {
      const store = await createViewStore(config.readStoreUrl, { logger });
      await store.init().finally(() => store.close());
    });
    return runSupervisor(config, logger, __filename);
  }
  const run = (name: ProcessName) => which === 'all' || which === name;
  const writeStore = <T>(start: () => Promise<T>) => whileReaching('write store', config.databaseUrl, start);
  const readStore = <T>(start: () => Promise<T>) => whileReaching('read store', config.readStoreUrl, start);
  if (run('command-api')) started.push(await writeStore(() => startCommandApi(config, logger.child({ process: 'command-api' }))));
  if (run('relay')) started.push(await writeStore(() => startRelay(config, logger.child({ process: 'relay' }))));
  if (run('projector')) started.push(await readStore(() => startProjector(config, logger.child({ process: 'projector' }))));
  if (run('process-manager')) started.push(await writeStore(() => startProcessManager(config, logger.child({ process: 'process-manager' }))));
  if (run('query-api')) started.push(await readStore(() => startQueryApi(config, logger.child({ process: 'query-api' }))));

  if (which === 'all') {
    console.log(
      [
        '',
        'Converge is running.',
        `  command API  http://localhost:${config.commandApiPort}   (docs: /docs)`,
        `  query API    http://localhost:${config.queryApiPort}   (docs: /docs)`,
        `  write store  ${redact(config.databaseUrl)}`,
        `  read store   ${redact(config.readStoreUrl)}`,
        `  NATS         ${redact(config.natsUrl)} (namespace ${config.namespace})`,
        'Try: curl localhost:' + config.queryApiPort + '/products',
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

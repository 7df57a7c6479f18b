import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { createPool, migrate, redact } from './postgres';
import { startCommandApi } from './processes/command-api';
import { startProcessManager } from './processes/process-manager';
import { startProjector } from './processes/projector';
import { startQueryApi } from './processes/query-api';
import { startRelay } from './processes/relay';
import { seedDemoCatalog } from '../write-model/catalog/demo-catalog';

const PROCESSES = ['all', 'command-api', 'relay', 'projector', 'process-manager', 'query-api'] as const;
type ProcessName = (typeof PROCESSES)[number];

/**
 * Entry point. `node dist/src/main.js` (what `npm start` runs) migrates, seeds the demo
 * catalog and runs every process in this one; `node dist/src/main.js <process>` runs one
 * (docker-compose does that).
 */
async function main(): Promise<void> {
  const which = (process.argv[2] ?? 'all') as ProcessName;
  if (!PROCESSES.includes(which)) {
    console.error(`unknown process "${which}"; expected one of: ${PROCESSES.join(', ')}`);
    process.exit(2);
  }
  const config = loadConfig();
  const logger = createLogger(`converge-${which}`, config.logLevel);
  const running: { stop(): Promise<void> }[] = [];

  if (which === 'all' || which === 'command-api' || which === 'relay' || which === 'process-manager') {
    await migrate(config.databaseUrl, 'write-store', logger);
  }
  if (which === 'all') {
    const pool = createPool(config.databaseUrl, { max: 2 });
    const seeded = await seedDemoCatalog(pool);
    await pool.end();
    logger.info(seeded, 'demo catalog loaded');
  }
  const run = (name: ProcessName) => which === 'all' || which === name;
  if (run('command-api')) running.push(await startCommandApi(config, logger.child({ process: 'command-api' })));
  if (run('relay')) running.push(await startRelay(config, logger.child({ process: 'relay' })));
  if (run('projector')) running.push(await startProjector(config, logger.child({ process: 'projector' })));
  if (run('process-manager')) running.push(await startProcessManager(config, logger.child({ process: 'process-manager' })));
  if (run('query-api')) running.push(await startQueryApi(config, logger.child({ process: 'query-api' })));

  if (which === 'all') {
    console.log(
      [
        '',
        'Converge is running.',
        `  command API  http://localhost:${config.commandApiPort}   (docs: /docs)`,
        `  query API    http://localhost:${config.queryApiPort}   (docs: /docs)`,
        `  write store  ${redact(config.databaseUrl)}`,
        `  read store   ${redact(config.readStoreUrl)}`,
        `  NATS         ${config.natsUrl} (namespace ${config.namespace})`,
        'Try: curl localhost:' + config.queryApiPort + '/products',
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    for (const started of running.reverse()) await started.stop().catch((error) => logger.error({ err: error }, 'stop failed'));
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  console.error('converge failed to start:', error);
  process.exit(1);
});

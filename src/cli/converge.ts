import 'reflect-metadata';
import { Command, Option } from 'commander';
import { createViewStore } from '../../read-model/view-store/create-view-store';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { createPool, migrate, redact } from '../postgres';
import { seedDemoCatalog } from '../seed';

/** The operator's command line: `npx converge <verb>`; every verb has --help. */
const program = new Command()
  .name('converge')
  .description('Operate a Converge deployment (configuration comes from the environment, see README)')
  .showHelpAfterError();

program
  .command('migrate')
  .description('apply the write-store migrations (and the read store\'s, for a PostgreSQL read store)')
  .addOption(new Option('--json', 'print the result as JSON'))
  .action(async (options: { json?: boolean }) => {
    const config = loadConfig();
    const logger = createLogger('converge-cli', 'warn');
    const applied = await migrate(config.databaseUrl, 'write-store', logger);
    // Opening the read store prepares it (migrations for PostgreSQL, indexes for MongoDB).
    const store = await createViewStore(config.readStoreUrl, { logger });
    await store.close();
    const result = { writeStore: redact(config.databaseUrl), applied: applied.map((m) => m.name), readStore: redact(config.readStoreUrl) };
    if (options.json) console.log(JSON.stringify(result));
    else {
      console.log(`write store ${result.writeStore}: ${applied.length ? `applied ${result.applied.join(', ')}` : 'up to date'}`);
      console.log(`read store ${result.readStore}: ready`);
    }
  });

program
  .command('seed')
  .description('load the demo catalog with stock (what npm start loads); products that exist are left alone')
  .addOption(new Option('--json', 'print the result as JSON'))
  .action(async (options: { json?: boolean }) => {
    const config = loadConfig();
    await migrate(config.databaseUrl, 'write-store');
    const pool = createPool(config.databaseUrl, { max: 2 });
    try {
      const result = await seedDemoCatalog(pool);
      if (options.json) console.log(JSON.stringify(result));
      else console.log(`registered ${result.registered.length} products, ${result.skipped.length} already there`);
    } finally {
      await pool.end();
    }
  });

program.parseAsync(process.argv).catch((error) => {
  console.error(error instanceof ConfigError ? error.message : `converge: ${error instanceof Error ? error.message : error}`);
  process.exit(error instanceof ConfigError ? 78 : 1);
});

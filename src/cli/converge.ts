import 'reflect-metadata';
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { projectRoot } from '../paths';
import { createPool, migrate, redact } from '../postgres';
import { seedDemoCatalog } from '../../write-model/catalog/demo-catalog';
import { whileReaching } from '../unreachable';
import { CliError, EXIT, openReadStore } from './cli-support';
import { deadLettersCommand } from './dead-letters.command';
import { rebuildCommand } from './rebuild.command';
import { statusCommand } from './status.command';
import { tokenCommand } from './token.command';
import { verifyCommand } from './verify.command';

/** The operator's command line: `npx converge <verb>`; every verb has --help. */
const program = new Command()
  .name('converge')
  .description('Operate a Converge deployment (configuration comes from the environment, see README)')
  .version(packageVersion(), '-V, --version', 'print the version of converge')
  .showHelpAfterError();

program
  .command('migrate')
  .description("apply the write-store migrations (and the read store's, for a PostgreSQL read store)")
  .addOption(new Option('--json', 'print the result as JSON'))
  .action(async (options: { json?: boolean }) => {
    const config = loadConfig();
    const logger = createLogger('converge-cli', 'warn');
    const applied = await whileReaching('write store', config.databaseUrl, () => migrate(config.databaseUrl, 'write-store', logger));
    // Opening the read store prepares it (migrations for PostgreSQL, indexes for MongoDB).
    const store = await openReadStore(config, { logger });
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
    await whileReaching('write store', config.databaseUrl, () => migrate(config.databaseUrl, 'write-store'));
    const pool = createPool(config.databaseUrl, { max: 2, clientName: 'converge cli' });
    try {
      const result = await seedDemoCatalog(pool);
      if (options.json) console.log(JSON.stringify(result));
      else console.log(`registered ${result.registered.length} products, ${result.skipped.length} already there`);
    } finally {
      await pool.end();
    }
  });

program
  .addCommand(rebuildCommand())
  .addCommand(verifyCommand())
  .addCommand(statusCommand())
  .addCommand(deadLettersCommand())
  .addCommand(tokenCommand());

/**
 * Usage errors exit 2 on every verb, like an unknown projection: an unknown verb or option, a bad
 * value, and no verb at all (`converge`, `converge dead-letters`), where commander shows the help
 * as an error. --help, help and --version exit 0.
 */
function exitTwoOnUsageErrors(command: Command): void {
  command.showHelpAfterError().exitOverride((error) => {
    if (error.exitCode === EXIT.ok) throw error;
    throw new CommanderError(EXIT.usage, error.code, error.message);
  });
  command.commands.forEach(exitTwoOnUsageErrors);
}
exitTwoOnUsageErrors(program);

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

program
  .parseAsync(process.argv)
  .then(() => process.exit(process.exitCode ?? EXIT.ok))
  .catch((error) => {
    if (error instanceof CommanderError) process.exit(error.exitCode); // commander printed its message already
    const message = error instanceof Error ? error.message : String(error);
    console.error(error instanceof ConfigError ? message : `converge: ${message}`);
    process.exit(error instanceof CliError ? error.exitCode : error instanceof ConfigError ? EXIT.badConfig : EXIT.failure);
  });

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from '../test/support/rebuild';
import { freePort } from '../test/support/nats-server';

const MAIN = join(__dirname, '..', 'dist', 'src', 'main.js');

const start = (process: string, env: Record<string, string>) =>
  finished(spawn(globalThis.process.execPath, [MAIN, process], { env: { ...globalThis.process.env, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));

/** What an operator sees when a process cannot start: one line naming the setting, never a dump. */
describe('process start-up failures', () => {
  let closedPort: number;
  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
    closedPort = await freePort();
  });

  it('names the write store it cannot reach, without its password, in one line', async () => {
    const run = await start('command-api', { DATABASE_URL: `postgres://postgres:s3cret@127.0.0.1:${closedPort}/x` });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `converge failed to start: cannot reach the write store at postgres://postgres:***@127.0.0.1:${closedPort}/x (ECONNREFUSED); check DATABASE_URL\n`,
    );
  });

  it('names an unreachable MongoDB read store within seconds', async () => {
    const started = Date.now();
    const run = await start('query-api', { READ_STORE_URL: `mongodb://127.0.0.1:${closedPort}/x` });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`converge failed to start: cannot reach the read store at mongodb://127.0.0.1:${closedPort}/x (ECONNREFUSED); check READ_STORE_URL\n`);
  });

  it('exits 78 listing every invalid setting', async () => {
    const run = await start('relay', { DATABASE_URL: 'mysql://x', NATS_URL: 'nats://ok:4222,bad', SHUTDOWN_GRACE_MS: '-5' });
    expect(run.code).toBe(78);
    expect(run.stderr.trim().split('\n')).toEqual([
      'Invalid configuration:',
      expect.stringMatching(/^ {2}DATABASE_URL: must be a postgres:\/\//),
      expect.stringMatching(/^ {2}NATS_URL: must be nats:\/\/ URLs, comma-separated \(not "bad"\)$/),
      '  SHUTDOWN_GRACE_MS: must be a positive integer',
    ]);
  });
});

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freshDatabase } from '../test/support/env';
import { finished } from '../test/support/rebuild';
import { freePort } from '../test/support/nats-server';
import { eventually } from '../test/support/system';

const MAIN = join(__dirname, '..', 'dist', 'src', 'main.js');

const start = (process: string, env: Record<string, string>) =>
  finished(spawn(globalThis.process.execPath, [MAIN, process], { env: { ...globalThis.process.env, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));

/** What an operator sees when a process cannot start yet, or not at all: one line naming the setting, never a dump. */
describe('process start-up failures', () => {
  let closedPort: number;
  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
    closedPort = await freePort();
  });

  /** Starts a process that cannot reach its store, waits for its "still trying" line, then stops it. */
  const waiting = async (which: string, env: Record<string, string>, line: string) => {
    const child = spawn(process.execPath, [MAIN, which], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const run = finished(child);
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    await eventually(async () => stdout.includes(line), 20_000, `"${line}"`);
    expect(child.exitCode).toBeNull(); // it waits: an orchestrator would otherwise restart it in a loop
    child.kill('SIGTERM');
    expect((await run).code).toBe(0);
    return stdout;
  };

  it('waits for a write store it cannot reach, naming it without its password, and still stops on SIGTERM', async () => {
    const stdout = await waiting(
      'command-api',
      { DATABASE_URL: `postgres://postgres:s3cret@127.0.0.1:${closedPort}/x` },
      `cannot reach the write store at postgres://postgres:***@127.0.0.1:${closedPort}/x yet (ECONNREFUSED), still trying; check DATABASE_URL`,
    );
    expect(stdout).not.toContain('s3cret');
  }, 60_000);

  it('waits for an unreachable MongoDB read store, saying so within seconds', async () => {
    await waiting(
      'query-api',
      { READ_STORE_URL: `mongodb://127.0.0.1:${closedPort}/x` },
      `cannot reach the read store at mongodb://127.0.0.1:${closedPort}/x yet (ECONNREFUSED), still trying; check READ_STORE_URL`,
    );
  }, 60_000);

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

  it('says which NATS it is waiting for, while it waits, and still stops on SIGTERM', async () => {
    const readStore = await freshDatabase('read-store');
    try {
      const nats = `nats://converge:s3cret@127.0.0.1:${closedPort}`;
      const child = spawn(process.execPath, [MAIN, 'query-api'], {
        env: { ...process.env, LOG_LEVEL: 'warn', READ_STORE_URL: readStore.url, NATS_URL: nats, QUERY_API_PORT: String(await freePort()) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const run = finished(child);
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      await eventually(async () => stdout.includes('cannot reach NATS at'), 20_000, 'the NATS warning');
      expect(stdout).toContain(`cannot reach NATS at nats://converge:***@127.0.0.1:${closedPort} yet, still trying; check NATS_URL`);
      expect(stdout).not.toContain('s3cret');
      child.kill('SIGTERM');
      expect((await run).code).toBe(0);
    } finally {
      await readStore.drop();
    }
  }, 60_000);
});

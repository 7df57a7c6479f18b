import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { connectNats, eventStreamName } from './nats';
import { dropDatabase } from './postgres';
import { TEST_DEV_KEY } from '../test/support/auth';
import { databaseUrl, isolatedSystemEnv, NATS_URL, uniqueName } from '../test/support/env';
import { eventually, http } from '../test/support/system';

const MAIN = join(__dirname, '..', 'dist', 'src', 'main.js');

/** The supervisor's children now: pid → the process it runs (`main.js <process>`). */
function childrenOf(pid: number): Map<number, string> {
  let out: string;
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)]).toString();
  } catch {
    return new Map(); // ps exits 1 when there are none
  }
  const children = new Map<number, string>();
  for (const line of out.trim().split('\n')) {
    const match = /^\s*(\d+)\s+.*main\.js\s+(\S+)/.exec(line);
    if (match) children.set(Number(match[1]), match[2]);
  }
  return children;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `npm start` with CONVERGE_REPLICAS=2: a supervisor and one OS process per process and replica. */
describe('npm start as a supervised cluster', () => {
  const name = uniqueName('cvt');
  let supervisor: ChildProcess;
  let output = '';
  const env: Record<string, string> = {};
  let commandUrl: string;
  let queryUrl: string;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
    Object.assign(env, {
      // Background processes' ops ports 0: the system picks free ones, so no replica collides with another run.
      ...(await isolatedSystemEnv({ writeUrl: databaseUrl(`${name}_w`), readUrl: databaseUrl(`${name}_r`), namespace: name })),
      CONVERGE_REPLICAS: '2',
      PROJECTOR_LEASE_TTL_MS: '2000',
      LOG_LEVEL: 'warn',
      // The run's key, so that http()'s admin token verifies.
      AUTH_DEV_KEY: TEST_DEV_KEY,
    });
    commandUrl = `http://127.0.0.1:${env.COMMAND_API_PORT}`;
    queryUrl = `http://127.0.0.1:${env.QUERY_API_PORT}`;
    supervisor = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    supervisor.stdout!.on('data', (chunk) => (output += chunk));
    supervisor.stderr!.on('data', (chunk) => (output += chunk));
    await eventually(async () => output.includes('Converge is running'), 90_000, 'the start-up banner');
  }, 120_000);

  afterAll(async () => {
    if (supervisor.exitCode === null) supervisor.kill('SIGKILL');
    const nc = await connectNats(NATS_URL, 'test-cleanup');
    await (await nc.jetstreamManager()).streams.delete(eventStreamName(name)).catch(() => undefined);
    await nc.close();
    // Children notice their supervisor is gone and stop; give them a moment before the databases go.
    await eventually(async () => childrenOf(supervisor.pid!).size === 0, 30_000, 'the children to stop').catch(() => undefined);
    await dropDatabase(env.DATABASE_URL);
    await dropDatabase(env.READ_STORE_URL);
  });

  it('runs every process as an OS process of its own, two of each background process, and prints one banner', () => {
    expect(output.match(/Converge is running/g)).toHaveLength(1);
    const processes = [...childrenOf(supervisor.pid!).values()].sort();
    // The reconciler runs once whatever CONVERGE_REPLICAS says.
    expect(processes).toEqual(['command-api', 'process-manager', 'process-manager', 'projector', 'projector', 'query-api', 'reconciler', 'relay', 'relay']);
  });

  it('restarts a child killed with SIGKILL, and the system serves again', async () => {
    const before = childrenOf(supervisor.pid!);
    const api = [...before].find(([, process]) => process === 'command-api')![0];
    const projector = [...before].find(([, process]) => process === 'projector')![0];
    process.kill(api, 'SIGKILL');
    process.kill(projector, 'SIGKILL');
    await eventually(async () => {
      const now = [...childrenOf(supervisor.pid!)];
      return now.length === 9 && !now.some(([pid]) => pid === api || pid === projector);
    }, 30_000, 'both children to be restarted');
    const created = await eventually(async () => {
      const answer = await http('POST', `${commandUrl}/products`, { sku: 'SUP-1', name: 'After the crash', price: { amount: 900, currency: 'EUR' } });
      return answer.status === 201 ? answer : undefined;
    }, 60_000, 'the command API to serve again');
    expect(created.body.id ?? created.body.sku).toBeDefined();
    const seen = await eventually(async () => {
      const { status, body } = await http('GET', `${queryUrl}/products/SUP-1`);
      return status === 200 ? body : undefined;
    }, 60_000, 'the new product in the query API');
    expect(seen.data).toEqual(expect.objectContaining({ sku: 'SUP-1', name: 'After the crash' }));
  });

  it('stops every child on Ctrl-C', async () => {
    const pids = [...childrenOf(supervisor.pid!).keys()];
    const exited = new Promise<number | null>((resolve) => supervisor.once('exit', (code) => resolve(code)));
    supervisor.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  });
});

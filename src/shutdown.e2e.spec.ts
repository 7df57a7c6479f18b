import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { eventually, http, startTestSystem, TestSystem } from '../test/support/system';

const MAIN = join(__dirname, '..', 'dist', 'src', 'main.js');
const DRAIN_DELAY_MS = 1500;
const GRACE_MS = 8000;
const SLOW_WAIT_S = 4;

/** A GET whose answer the test awaits separately from the moment its request is on the wire. */
function slowGet(url: string, headers: Record<string, string>): { sent: Promise<void>; answered: Promise<{ status: number; at: number }> } {
  let sent!: () => void;
  const onWire = new Promise<void>((resolve) => (sent = resolve));
  const answered = new Promise<{ status: number; at: number }>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, at: performance.now() }));
    });
    req.on('error', reject);
    req.on('finish', sent);
    req.end();
  });
  return { sent: onWire, answered };
}

/** The query API as docker-compose runs it (node dist/src/main.js query-api), stopped with SIGTERM. */
describe('SIGTERM', () => {
  let system: TestSystem;
  let child: ChildProcess;
  let queryUrl: string;
  let output = '';

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
    // No projector: a read with a fresh write's token then waits its whole bound, a request in flight at will.
    system = await startTestSystem({ pieces: ['command-api'] });
    queryUrl = system.queryUrl;
    await startQueryApi({ SHUTDOWN_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS), SHUTDOWN_GRACE_MS: String(GRACE_MS) });
  });

  async function startQueryApi(env: Record<string, string>): Promise<void> {
    output = '';
    child = spawn(process.execPath, [MAIN, 'query-api'], {
      env: { ...process.env, ...system.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await eventually(async () => (await http('GET', `${queryUrl}/health/ready`)).status === 200, 30_000, 'the query API to be ready');
  }
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await system.dispose();
  });

  it('turns readiness 503 first, finishes the request in flight, stops accepting, then exits 0', async () => {
    const created = await http('POST', `${system.commandUrl}/products`, { sku: 'SIGTERM-1', name: 'Drained', price: { amount: 100, currency: 'EUR' } });
    expect(created.status).toBe(201);
    const started = performance.now();
    const slow = slowGet(`${queryUrl}/products/SIGTERM-1`, { 'Consistency-Token': created.body.token, Prefer: `wait=${SLOW_WAIT_S}` });
    await slow.sent;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const signalled = performance.now();
    child.kill('SIGTERM');

    // During the drain delay the server still answers, and says it is going away.
    const draining = await eventually(async () => {
      const answer = await http('GET', `${queryUrl}/health/ready`);
      return answer.status === 503 ? answer : undefined;
    }, DRAIN_DELAY_MS, 'readiness to answer 503');
    expect(draining.contentType).toMatch(/^application\/problem\+json/);
    expect(draining.body).toEqual(expect.objectContaining({ type: 'urn:converge:problem:shutting-down', details: expect.objectContaining({ readStore: { status: 'up' } }) }));
    expect((await http('GET', `${queryUrl}/health/live`)).status).toBe(200);

    // Then it stops accepting connections while the slow request is still being served.
    await eventually(async () => http('GET', `${queryUrl}/health/live`).then(() => false, () => true), GRACE_MS, 'new connections to be refused');
    const refusedAt = performance.now();

    const answer = await slow.answered;
    expect([200, 404]).toContain(answer.status);
    expect(answer.at).toBeGreaterThan(refusedAt);
    expect(answer.at - started).toBeGreaterThanOrEqual(SLOW_WAIT_S * 1000 - 100);

    expect(await exited).toBe(0);
    expect(performance.now() - signalled).toBeLessThan(DRAIN_DELAY_MS + GRACE_MS);
    expect(output).toContain('"msg":"stopping"');
    expect(output).toContain('"msg":"stopped"');
  }, 30_000);

  it('exits 1 once SHUTDOWN_GRACE_MS is over, even with a request still in flight', async () => {
    await startQueryApi({ SHUTDOWN_GRACE_MS: '500' });
    const created = await http('POST', `${system.commandUrl}/products`, { sku: 'SIGTERM-2', name: 'Cut', price: { amount: 100, currency: 'EUR' } });
    const slow = slowGet(`${queryUrl}/products/SIGTERM-2`, { 'Consistency-Token': created.body.token, Prefer: 'wait=8' });
    slow.answered.catch(() => undefined);
    await slow.sent;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const signalled = performance.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(performance.now() - signalled).toBeLessThan(4000);
    expect(output).toContain('in-flight work did not finish within SHUTDOWN_GRACE_MS');
  }, 30_000);
});

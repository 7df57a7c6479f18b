import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { orderKey } from '../contracts';
import { projectRoot } from '../paths';
import { appendCatalogHistory, assertBuilt, runConverge } from '../../test/support/rebuild';
import { Authenticator } from '../identity/authenticator';
import { freePort } from '../../test/support/nats-server';
import { startTestSystem, TestSystem } from '../../test/support/system';

/** Every string that is only digits (or a decimal number): a count or a position that left PostgreSQL as text. */
function numericStrings(value: unknown, path = '$'): string[] {
  if (typeof value === 'string') return /^-?\d+(\.\d+)?$/.test(value) ? [`${path} = ${JSON.stringify(value)}`] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => numericStrings(item, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    // Transaction ids are 64-bit identifiers (xid8), kept as text on purpose, like the order keys they are part of.
    return Object.entries(value).flatMap(([key, item]) => (key === 'txId' ? [] : numericStrings(item, `${path}.${key}`)));
  }
  return [];
}

describe('converge: usage, version and exit codes', () => {
  beforeAll(() => assertBuilt());

  it('prints the package version with --version and -V', async () => {
    const { version } = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const run = await runConverge([flag], {});
      expect(run.code).toBe(0);
      expect(run.stdout.trim()).toBe(version);
    }
  });

  it.each([
    [[], 'Usage: converge'],
    [['dead-letters'], 'Usage: converge dead-letters'],
    [['bogus'], "unknown command 'bogus'"],
    [['status', '--bogus'], "unknown option '--bogus'"],
    [['rebuild', 'product-catalog', '--batch-size', 'many'], 'must be a positive integer'],
  ])('exits 2 on bad usage: converge %j', async (args, message) => {
    const run = await runConverge(args, {});
    expect(run.stderr).toContain(message);
    expect(run.code).toBe(2);
  });

  it('exits 0 on --help and help', async () => {
    expect((await runConverge(['--help'], {})).code).toBe(0);
    expect((await runConverge(['help', 'status'], {})).code).toBe(0);
  });

  it('exits 78 on bad configuration, naming every bad variable', async () => {
    const run = await runConverge(['status'], { DATABASE_URL: 'mysql://127.0.0.1/x', NATS_URL: '127.0.0.1:4222', PROJECTION_BATCH_SIZE: '0' });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(run.stderr).toContain('NATS_URL: must be nats:// URLs');
    expect(run.stderr).toContain('PROJECTION_BATCH_SIZE: must be a positive integer');
  });
});

describe('converge against a deployment', () => {
  let system: TestSystem;
  let closedPort: number;
  let events: number;

  beforeAll(async () => {
    assertBuilt();
    system = await startTestSystem({ pieces: [] });
    closedPort = await freePort();
    const history = await appendCatalogHistory(system.writePool, { products: 5, eventsPerProduct: 4, prefix: 'CLI' });
    events = history.events;
    // One dead letter, so `dead-letters list --json` has a stored event (positions, attempts) to print.
    await system.store.commit({
      projection: 'product-catalog',
      changes: [],
      deadLetters: [{
        eventId: randomUUID(),
        projection: 'product-catalog',
        orderKey: history.lastKey,
        event: { eventId: randomUUID(), type: 'ProductPriceChanged', position: 3, txId: '1234', data: null },
        error: 'TypeError: simulated',
        attempts: 5,
        failedAt: new Date(),
      }],
      checkpoint: { orderKey: orderKey('1', 1), position: 1, eventRecordedAt: null, pending: 0 },
    });
  });
  afterAll(() => system.dispose());

  it('token prints only a development token that the APIs accept for that role and subject', async () => {
    const run = await runConverge(['token', '--role', 'customer', '--sub', 'cust-9', '--ttl', '600'], system.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    const identity = await new Authenticator(system.config.identity).identify(`Bearer ${run.stdout.trim()}`);
    expect(identity).toEqual({ subject: 'cust-9', role: 'customer' });
    expect((await runConverge(['token', '--role', 'root'], system.env)).code).toBe(2);
    expect((await runConverge(['token'], system.env)).code).toBe(2);
  });

  it('names the write store it cannot reach, without its password', async () => {
    const url = `postgres://postgres:s3cret@127.0.0.1:${closedPort}/x`;
    for (const args of [['status'], ['migrate'], ['verify', 'product-catalog']]) {
      const run = await runConverge(args, { ...system.env, DATABASE_URL: url });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`cannot reach the write store at postgres://postgres:***@127.0.0.1:${closedPort}/x (ECONNREFUSED); check DATABASE_URL`);
      expect(run.stderr).not.toContain('s3cret');
    }
  });

  it('names an unreachable MongoDB read store within seconds', async () => {
    const started = performance.now();
    const run = await runConverge(['status'], { ...system.env, READ_STORE_URL: `mongodb://127.0.0.1:${closedPort}/x` });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`cannot reach the read store at mongodb://127.0.0.1:${closedPort}/x (ECONNREFUSED); check READ_STORE_URL`);
  });

  it('status still reports with NATS down, naming it, and exits 1', async () => {
    const nats = `nats://127.0.0.1:${closedPort}`;
    const text = await runConverge(['status'], { ...system.env, NATS_URL: nats });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('product-catalog');
    expect(text.stderr).toContain(`cannot reach NATS at ${nats}`);

    const json = await runConverge(['status', '--json'], { ...system.env, NATS_URL: nats });
    expect(json.code).toBe(1);
    const status = JSON.parse(json.stdout);
    expect(status.errors).toEqual([expect.stringContaining(`cannot reach NATS at ${nats}`)]);
    expect(status.projections[0].consumer.error).toContain('cannot reach NATS');
  });

  it('status exits 0 when every dependency answers, and accepts a list of NATS servers', async () => {
    const run = await runConverge(['status', '--json'], { ...system.env, NATS_URL: `nats://127.0.0.1:${closedPort},${system.env.NATS_URL}` });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).errors).toEqual([]);
  });

  it('prints numbers as JSON numbers in every --json output', async () => {
    const outputs: Record<string, unknown> = {};
    for (const args of [
      ['status', '--json'],
      ['verify', '--all', '--json'],
      ['rebuild', '--all', '--dry-run', '--json'],
      ['dead-letters', 'list', '--json'],
    ]) {
      const run = await runConverge(args, system.env);
      expect([args.join(' '), run.stderr]).toEqual([args.join(' '), expect.not.stringContaining('converge:')]);
      outputs[args.join(' ')] = JSON.parse(run.stdout);
    }
    const status = outputs['status --json'] as { projections: { lag: { events: unknown } }[]; relay: { behind: unknown } };
    expect(status.projections[0].lag.events).toBe(events);
    expect(typeof status.relay.behind).toBe('number');
    expect(numericStrings(outputs)).toEqual([]);
  });
});

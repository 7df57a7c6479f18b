import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import { createViewStore } from '../../read-model/view-store/create-view-store';
import type { ViewStore } from '../../read-model/view-store/view-store';
import { EventStore } from '../../write-model/event-store/event-store';
import type { PaymentGateway } from '../../write-model/payments/payment-gateway';
import { Config, loadConfig } from '../../src/config';
import { orderKey } from '../../src/contracts';
import { createLogger } from '../../src/logger';
import { connectNats, eventStreamName } from '../../src/nats';
import { createPool, dropDatabase, migrate } from '../../src/postgres';
import { startCommandApi } from '../../src/processes/command-api';
import { startProcessManager } from '../../src/processes/process-manager';
import { startProjector } from '../../src/processes/projector';
import { startQueryApi } from '../../src/processes/query-api';
import { startReconciler } from '../../src/processes/reconciler';
import { startRelay } from '../../src/processes/relay';
import { adminToken, ANONYMOUS, TEST_DEV_KEY } from './auth';
import { databaseUrl, NATS_URL, uniqueName } from './env';
import { startMongoDouble } from './mongo-double';
import { freePort } from './nats-server';

/** The five of a default system, and the reconciler (started only when asked for). */
export type Piece = 'command-api' | 'relay' | 'projector' | 'process-manager' | 'query-api' | 'reconciler';

export interface TestSystem {
  config: Config;
  /** Environment a child process needs to join this system (same databases, namespace, ports). */
  env: Record<string, string>;
  commandUrl: string;
  queryUrl: string;
  /** Where the background processes serve /metrics and /health/*. */
  opsUrls: { relay: string; projector: string; 'process-manager': string };
  writePool: Pool;
  /** A read-store connection of the test's own, to inspect views and checkpoints. */
  store: ViewStore;
  start(piece: Piece): Promise<void>;
  stop(piece: Piece): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * The whole system in this process, on databases, ports and JetStream names of its own,
 * so test runs never collide with each other or with a running quickstart.
 */
export async function startTestSystem(
  options: {
    readStore?: 'postgres' | 'mongo-double';
    natsUrl?: string;
    pieces?: Piece[];
    env?: Record<string, string>;
    /** The payment gateway the process manager uses (a simulator the test can inspect). */
    gateway?: PaymentGateway;
    /** A PostgreSQL server of the test's own (test/support/postgres-server.ts) for both stores. */
    postgresUrl?: string;
  } = {},
): Promise<TestSystem> {
  const name = uniqueName('cvt');
  const database = (db: string) => (options.postgresUrl ? Object.assign(new URL(options.postgresUrl), { pathname: `/${db}` }).toString() : databaseUrl(db));
  const writeUrl = database(`${name}_w`);
  const mongo = options.readStore === 'mongo-double' ? await startMongoDouble() : undefined;
  const readUrl = mongo ? `mongodb://127.0.0.1:${mongo.port}/${name}?directConnection=true` : database(`${name}_r`);
  const env: Record<string, string> = {
    DATABASE_URL: writeUrl,
    READ_STORE_URL: readUrl,
    NATS_URL: options.natsUrl ?? NATS_URL,
    CONVERGE_NAMESPACE: name,
    // Redis keys of this run only (the local Redis is shared with other runs and the quickstart).
    CACHE_KEY_PREFIX: `${name}:`,
    COMMAND_API_PORT: String(await freePort()),
    QUERY_API_PORT: String(await freePort()),
    RECONCILER_PORT: '0',
    RELAY_PORT: String(await freePort()),
    PROJECTOR_PORT: String(await freePort()),
    PROCESS_MANAGER_PORT: String(await freePort()),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Tokens from testToken() verify here; rate limiting stays off unless a test turns it on.
    AUTH_DEV_KEY: TEST_DEV_KEY,
    RATE_LIMIT_REQUESTS: '0',
    ...options.env,
  };
  const config = loadConfig(env);
  const logger = createLogger('test-system', config.logLevel);
  await migrate(writeUrl, 'write-store');
  const writePool = createPool(writeUrl);
  const store = await createViewStore(readUrl);
  const running = new Map<Piece, () => Promise<void>>();
  const starters: Record<Piece, () => Promise<{ stop(): Promise<void> }>> = {
    'command-api': () => startCommandApi(config, logger),
    relay: () => startRelay(config, logger),
    projector: () => startProjector(config, logger),
    'process-manager': async () => {
      const started = await startProcessManager(config, logger, { gateway: options.gateway });
      return started;
    },
    'query-api': () => startQueryApi(config, logger),
    reconciler: () => startReconciler(config, logger),
  };
  const system: TestSystem = {
    config,
    env,
    commandUrl: `http://127.0.0.1:${config.commandApiPort}`,
    queryUrl: `http://127.0.0.1:${config.queryApiPort}`,
    opsUrls: {
      relay: `http://127.0.0.1:${config.ops.relayPort}`,
      projector: `http://127.0.0.1:${config.ops.projectorPort}`,
      'process-manager': `http://127.0.0.1:${config.ops.processManagerPort}`,
    },
    writePool,
    store,
    async start(piece) {
      if (!running.has(piece)) {
        const started = await starters[piece]();
        running.set(piece, () => started.stop());
      }
    },
    async stop(piece) {
      await running.get(piece)?.();
      running.delete(piece);
    },
    async dispose() {
      for (const piece of [...running.keys()].reverse()) await system.stop(piece);
      await writePool.end();
      await store.close();
      await deleteStream(env.NATS_URL, name).catch(() => undefined);
      await dropDatabase(writeUrl);
      if (mongo) await mongo.stop();
      else await dropDatabase(readUrl);
    },
  };
  try {
    for (const piece of options.pieces ?? ['command-api', 'relay', 'projector', 'process-manager', 'query-api']) await system.start(piece);
  } catch (error) {
    // The pieces already running would keep the test run from ever exiting.
    await system.dispose().catch(() => undefined);
    throw error;
  }
  return system;
}

async function deleteStream(natsUrl: string, namespace: string): Promise<void> {
  const nc = await connectNats(natsUrl, 'test-cleanup');
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(eventStreamName(namespace));
  } finally {
    await nc.close();
  }
}

/** Polls until `check` returns a value (tests only: the product never polls like this). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await sleep(25);
  }
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- whatever check threw, as String shows it
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/**
 * Waits until every named projection has applied the whole log: its checkpoint is the last
 * event in the relay's order (re-read on every poll, so events appended meanwhile count too).
 * Compares order keys, not max(position): the last event in that order need not hold the
 * largest position.
 */
export async function projectionsCaughtUp(system: TestSystem, projections: string[], timeoutMs = 30_000): Promise<string> {
  const events = new EventStore(system.writePool);
  return eventually(
    async () => {
      const head = await events.head();
      const key = orderKey(head.lastTxId, head.lastPosition);
      const behind: string[] = [];
      for (const name of projections) {
        const checkpoint = await system.store.checkpoint(name);
        if (checkpoint?.orderKey !== key) behind.push(`${name} at ${checkpoint?.position ?? 'none'}`);
      }
      if (behind.length) throw new Error(`log head ${head.lastPosition} (${key}); ${behind.join(', ')}`);
      return key;
    },
    timeoutMs,
    `projections ${projections.join(', ')} to apply the whole log`,
  );
}

/**
 * JSON over HTTP with the answer's status, headers and parsed body. Without an `authorization`
 * header it sends an admin token of this run; `{ authorization: ANONYMOUS }` sends none.
 */
export async function http(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any; contentType: string }> {
  const sent: Record<string, string> = { ...headers };
  const named = Object.keys(sent).find((name) => name.toLowerCase() === 'authorization');
  if (named === undefined) sent.authorization = await adminToken();
  else if (sent[named] === ANONYMOUS) delete sent[named];
  const init: RequestInit = { method, headers: sent };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed, contentType: response.headers.get('content-type') ?? '' };
}

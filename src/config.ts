import { hostname } from 'node:os';
import { cleanEnv, port, str, makeValidator, EnvError } from 'envalid';

const storeUrl = makeValidator<string>((value) => {
  if (!/^(mongodb(\+srv)?|postgres(ql)?):\/\//.test(value)) {
    throw new EnvError('must start with mongodb:// or postgres://');
  }
  return value;
});

const postgresUrl = makeValidator<string>((value) => {
  if (!/^postgres(ql)?:\/\//.test(value) || !URL.canParse(value)) {
    throw new EnvError('must be a postgres:// or postgresql:// URL, e.g. postgres://postgres@127.0.0.1:5432/converge');
  }
  return value;
});

/** One server or a comma-separated list (a cluster): every entry a nats:// (or tls://) URL. */
const natsServers = makeValidator<string>((value) => {
  const servers = value.split(',').map((server) => server.trim());
  const bad = servers.filter((server) => !/^(nats|tls):\/\/[^/]/.test(server) || !URL.canParse(server));
  if (bad.length) {
    throw new EnvError(`must be nats:// URLs, comma-separated (not ${bad.map((server) => JSON.stringify(server)).join(', ')})`);
  }
  return servers.join(',');
});

const redisUrl = makeValidator<string>((value) => {
  if (!/^rediss?:\/\/[^\s]+$/.test(value)) throw new EnvError('must be a redis:// or rediss:// URL');
  return value;
});

const namespace = makeValidator<string>((value) => {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(value)) {
    throw new EnvError('must be 1-32 letters, digits, "_" or "-" (it prefixes JetStream names)');
  }
  return value;
});

const replicaId = makeValidator<string>((value) => {
  if (value !== '' && !/^[A-Za-z0-9_.-]{1,48}$/.test(value)) throw new EnvError('must be 1-48 letters, digits, ".", "_" or "-"');
  return value;
});

/** Whole numbers only: "1.5", "1e3" or "" are refused rather than rounded. */
const integer = (min: 0 | 1) =>
  makeValidator<number>((value) => {
    const parsed = Number(value.trim());
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min) {
      throw new EnvError(min === 0 ? 'must be a non-negative integer' : 'must be a positive integer');
    }
    return parsed;
  });
const count = integer(0);
const positive = integer(1);

/**
 * Every setting of every process, validated once; a bad value stops start-up naming it, and
 * every bad value is reported at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const raw = cleanEnv(
    env,
    {
      DATABASE_URL: postgresUrl({ default: 'postgres://postgres@127.0.0.1:5432/converge', desc: 'write store' }),
      READ_STORE_URL: storeUrl({ default: 'postgres://postgres@127.0.0.1:5432/converge_read', desc: 'read store' }),
      NATS_URL: natsServers({ default: 'nats://127.0.0.1:4222' }),
      COMMAND_API_PORT: port({ default: 3000 }),
      QUERY_API_PORT: port({ default: 3001 }),
      CONVERGE_NAMESPACE: namespace({ default: 'converge' }),
      LOG_LEVEL: str({ default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
      LOW_STOCK_THRESHOLD: count({ default: 5, desc: 'inventory at or below this many available units is low' }),
      PROJECTION_MAX_ATTEMPTS: positive({ default: 5, desc: 'failed applies before an event is dead-lettered' }),
      PROJECTION_BATCH_SIZE: positive({ default: 500 }),
      PAYMENT_DEADLINE_MS: positive({ default: 10_000, desc: 'time a payment may take after stock is reserved' }),
      PAYMENT_GATEWAY_TIMEOUT_MS: positive({ default: 2_000, desc: 'longest single call to the payment gateway' }),
      PROJECTION_BATCH_DELAY_MS: count({ default: 0, desc: 'pause before each projector batch: slows views on purpose (demos, tests)' }),
      SHUTDOWN_GRACE_MS: positive({ default: 10_000, desc: 'longest a stopping process waits for in-flight work before it exits anyway' }),
      SHUTDOWN_DRAIN_DELAY_MS: count({ default: 0, desc: 'how long a stopping API answers 503 on /health/ready before it stops accepting' }),
      REDIS_URL: redisUrl({ default: 'redis://127.0.0.1:6379', desc: "the query API's shared read cache" }),
      CACHE: str({ default: 'on', choices: ['on', 'off'], desc: 'the query API read cache (Redis + in-process LRU)' }),
      CACHE_TTL_MS: positive({ default: 300_000, desc: 'safety-net expiry of cache entries; invalidation is by events' }),
      CACHE_LOCAL_MAX: count({ default: 5_000, desc: 'documents in the in-process LRU in front of Redis (0: none)' }),
      CACHE_REDIS_TIMEOUT_MS: positive({ default: 50, desc: 'longest Redis call before the cache reads the store instead' }),
      CACHE_KEY_PREFIX: str({ default: '', desc: 'prefix of every Redis key (default: "<CONVERGE_NAMESPACE>:cache:")' }),
      // Replicas and failover (issue 15).
      CONVERGE_REPLICA_ID: replicaId({ default: '', desc: 'names this replica in logs, leases and `converge status` (default: <host>-<pid>)' }),
      CONVERGE_REPLICAS: positive({ default: 1, desc: '`npm start` runs this many of each background process' }),
      PROJECTOR_LEASE_TTL_MS: positive({ default: 5_000, desc: 'a projection lease outlives its last renewal by this long: the projector failover bound' }),
      RELAY_LEASE_CHECK_MS: positive({ default: 1_000, desc: "how often the publishing relay checks its lease's connection" }),
      NATS_STREAM_REPLICAS: positive({ default: 1, desc: 'replicas of the event stream in a JetStream cluster (1, 3 or 5)' }),
    },
    {
      reporter: ({ errors }) => {
        const names = Object.entries(errors);
        if (names.length === 0) return;
        const lines = names.map(([name, error]) => `  ${name}: ${error.message}`);
        throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
      },
    },
  );
  return {
    databaseUrl: raw.DATABASE_URL,
    readStoreUrl: raw.READ_STORE_URL,
    natsUrl: raw.NATS_URL,
    commandApiPort: raw.COMMAND_API_PORT,
    queryApiPort: raw.QUERY_API_PORT,
    namespace: raw.CONVERGE_NAMESPACE,
    logLevel: raw.LOG_LEVEL,
    lowStockThreshold: raw.LOW_STOCK_THRESHOLD,
    projectionMaxAttempts: raw.PROJECTION_MAX_ATTEMPTS,
    projectionBatchSize: raw.PROJECTION_BATCH_SIZE,
    projectionBatchDelayMs: raw.PROJECTION_BATCH_DELAY_MS,
    paymentDeadlineMs: raw.PAYMENT_DEADLINE_MS,
    paymentGatewayTimeoutMs: raw.PAYMENT_GATEWAY_TIMEOUT_MS,
    shutdownGraceMs: raw.SHUTDOWN_GRACE_MS,
    shutdownDrainDelayMs: raw.SHUTDOWN_DRAIN_DELAY_MS,
    replicaId: raw.CONVERGE_REPLICA_ID || `${hostname()}-${process.pid}`,
    replicas: raw.CONVERGE_REPLICAS,
    projectorLeaseTtlMs: raw.PROJECTOR_LEASE_TTL_MS,
    relayLeaseCheckMs: raw.RELAY_LEASE_CHECK_MS,
    streamReplicas: raw.NATS_STREAM_REPLICAS,
    cache: {
      enabled: raw.CACHE === 'on',
      redisUrl: raw.REDIS_URL,
      ttlMs: raw.CACHE_TTL_MS,
      localMax: raw.CACHE_LOCAL_MAX,
      redisTimeoutMs: raw.CACHE_REDIS_TIMEOUT_MS,
      keyPrefix: raw.CACHE_KEY_PREFIX || `${raw.CONVERGE_NAMESPACE}:cache:`,
    },
  };
}

export type Config = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

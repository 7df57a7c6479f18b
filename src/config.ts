import { hostname } from 'node:os';
import { cleanEnv, port, str, makeValidator, EnvError } from 'envalid';
import proxyaddr from 'proxy-addr';
import type { IdentitySettings } from './identity/authenticator';
import { DEV_KEY_PATTERN } from './identity/dev-key';
import { JWKS_CACHE_MAX_AGE_MS, JWKS_STALE_IF_ERROR_MS } from './identity/jwks-defaults';

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

const jwksUrl = makeValidator<string>((value) => {
  if (value && (!/^https?:\/\//.test(value) || !URL.canParse(value))) throw new EnvError('must be an http(s):// URL');
  return value;
});

const devKey = makeValidator<string>((value) => {
  if (value && !DEV_KEY_PATTERN.test(value)) throw new EnvError('must be at least 43 base64url characters (32 random bytes)');
  return value;
});

/** `*` or exact origins such as https://shop.example.com. */
const origins = makeValidator<string[]>((value) => {
  const list = value
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  const bad = list.filter((o) => o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o));
  if (bad.length) throw new EnvError(`must be "*" or origins such as https://shop.example.com (not ${bad.join(', ')})`);
  return list;
});

/** The proxies whose X-Forwarded-For is believed: addresses, CIDR ranges, or loopback / linklocal / uniquelocal. */
const trustedProxies = makeValidator<string[]>((value) => {
  const list = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  try {
    proxyaddr.compile(list);
  } catch (error) {
    throw new EnvError(
      `must be addresses or CIDR ranges, or loopback, linklocal, uniquelocal, comma-separated (${(error as Error).message})`,
    );
  }
  return list;
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

/** A TCP port, or 0 for a free one the system picks. */
const portOrZero = makeValidator<number>((value) => {
  const parsed = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || parsed > 65535) throw new EnvError('must be a port number 1-65535, or 0 for a free port');
  return parsed;
});

/** A duration: "90s", "5m", "1h", "500ms", or a whole number of seconds; "0" is allowed (off). */
const duration = makeValidator<number>((value) => {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new EnvError('must be a duration such as 60s, 5m, 1h, 500ms, or 0');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!;
  return Number(match[1]) * unit;
});

const webhookUrl = makeValidator<string>((value) => {
  if (value !== '' && (!/^https?:\/\//.test(value) || !URL.canParse(value))) throw new EnvError('must be an http:// or https:// URL (or empty)');
  return value;
});
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
      AGGREGATE_CACHE_SIZE: count({
        default: 10_000,
        desc: 'aggregates a command process keeps between commands, so that the next command on one skips its load (0: none)',
      }),
      PAYMENT_DEADLINE_MS: positive({ default: 10_000, desc: 'time a payment may take after stock is reserved' }),
      PAYMENT_GATEWAY_TIMEOUT_MS: positive({ default: 2_000, desc: 'longest single call to the payment gateway' }),
      PROJECTION_BATCH_DELAY_MS: count({ default: 0, desc: 'pause before each projector batch: slows views on purpose (demos, tests)' }),
      SHUTDOWN_GRACE_MS: positive({ default: 10_000, desc: 'longest a stopping process waits for in-flight work before it exits anyway' }),
      SHUTDOWN_DRAIN_DELAY_MS: count({
        default: 0,
        desc: 'how long a stopping API answers 503 on /health/ready before it stops accepting',
      }),
      REDIS_URL: redisUrl({ default: 'redis://127.0.0.1:6379', desc: "the query API's shared read cache" }),
      CACHE: str({ default: 'on', choices: ['on', 'off'], desc: 'the query API read cache (Redis + in-process LRU)' }),
      CACHE_TTL_MS: positive({ default: 300_000, desc: 'safety-net expiry of cache entries; invalidation is by events' }),
      CACHE_LOCAL_MAX: count({ default: 5_000, desc: 'documents in the in-process LRU in front of Redis (0: none)' }),
      CACHE_REDIS_TIMEOUT_MS: positive({ default: 50, desc: 'longest Redis call before the cache reads the store instead' }),
      CACHE_KEY_PREFIX: str({ default: '', desc: 'prefix of every Redis key (default: "<CONVERGE_NAMESPACE>:cache:")' }),
      // Identity and the edge (issue 16).
      AUTH_JWKS_URL: jwksUrl({ default: '', desc: "production: the identity provider's JWKS; needs AUTH_ISSUER and AUTH_AUDIENCE" }),
      AUTH_ISSUER: str({ default: '', desc: 'the accepted `iss` (development: converge-dev)' }),
      AUTH_AUDIENCE: str({ default: '', desc: 'the accepted `aud` (development: converge)' }),
      AUTH_DEV_KEY: devKey({ default: '', desc: 'development signing secret (base64url, ≥ 32 bytes); empty: .converge/dev-signing-key' }),
      AUTH_ROLE_CLAIM: str({ default: 'role', desc: 'the token claim that carries the role' }),
      AUTH_JWKS_CACHE_MAX_AGE: duration({
        default: JWKS_CACHE_MAX_AGE_MS,
        desc: "how long the provider's keys are used before they are fetched again",
      }),
      AUTH_JWKS_STALE_IF_ERROR: duration({
        default: JWKS_STALE_IF_ERROR_MS,
        desc: 'how long past that the last keys still verify tokens while the provider cannot be reached (0: not at all)',
      }),
      HOST: str({ default: '0.0.0.0', desc: 'the interface the two APIs bind' }),
      CORS_ORIGINS: origins({ default: [], desc: 'comma-separated origins allowed cross-origin calls (empty: none)' }),
      RATE_LIMIT_REQUESTS: count({ default: 1_200, desc: 'requests per client address per window on each API (0: off)' }),
      RATE_LIMIT_WINDOW_SECONDS: positive({ default: 60 }),
      TRUST_PROXY: trustedProxies({
        default: [],
        desc: 'proxies in front of the APIs (addresses, CIDR ranges, loopback, ...): rate limits count the client they forward for',
      }),
      // Payments (issue 11): each step runs on its own; this bounds how many call the gateway at once.
      PAYMENT_CONCURRENCY: positive({ default: 32, desc: 'payment steps a process manager runs at once, each independently' }),

      // Background reconciliation (the reconciler process).
      RECONCILE_INTERVAL: duration({ default: 60_000, desc: 'time between reconciler runs (0: the reconciler does not run)' }),
      RECONCILE_CYCLE_RUNS: positive({ default: 60, desc: 'every view document is compared with the log at least once in this many runs' }),
      RECONCILE_MIN_SLICE: positive({ default: 500, desc: 'fewest documents of each view a run compares besides the changed ones' }),
      RECONCILER_PORT: portOrZero({ default: 3005, desc: "the reconciler's /metrics and /health (0: a free port)" }),
      // Operations: the background processes' /metrics and /health ports, the lag watchdog, log format.
      RELAY_PORT: portOrZero({ default: 3002, desc: "the relay's /metrics and /health/* (0: any free port)" }),
      PROJECTOR_PORT: portOrZero({ default: 3003, desc: "the projector's /metrics and /health/* (0: any free port)" }),
      PROCESS_MANAGER_PORT: portOrZero({ default: 3004, desc: "the process manager's /metrics and /health/* (0: any free port)" }),
      LAG_ALERT_SECONDS: positive({ default: 60, desc: "the watchdog alerts when a projection's lag exceeds this many seconds ..." }),
      LAG_ALERT_FOR: duration({ default: 120_000, desc: '... for this long (e.g. 30s, 2m; default 2m)' }),
      ALERT_WEBHOOK_URL: webhookUrl({ default: '', desc: 'the watchdog POSTs its alerts and recoveries here as JSON (empty: log only)' }),
      PROJECTION_STUCK_AFTER: duration({ default: 30_000, desc: 'a projection with a backlog that applies nothing for this long is stuck, not catching up (default 30s)' }),
      LOG_FORMAT: str({ default: '', choices: ['', 'pretty', 'json'], desc: 'pretty or json (default: pretty on a terminal, json otherwise)' }),
      // Replicas and failover (issue 15).
      CONVERGE_REPLICA_ID: replicaId({ default: '', desc: 'names this replica in logs, leases and `converge status` (default: <host>-<pid>)' }),
      CONVERGE_REPLICAS: positive({ default: 1, desc: '`npm start` runs this many of each background process' }),
      PROJECTOR_LEASE_TTL_MS: positive({ default: 5_000, desc: 'a projection lease outlives its last renewal by this long: the projector failover bound' }),
      RELAY_LEASE_CHECK_MS: positive({ default: 1_000, desc: "how often the publishing relay checks its lease's connection" }),
      RELAY_IDLE_POLL_MS: positive({
        default: 100,
        desc: 'how often an idle relay looks for events no append signal announced (appends by other tools, signals lost with NATS)',
      }),
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
    aggregateCacheSize: raw.AGGREGATE_CACHE_SIZE,
    projectionBatchDelayMs: raw.PROJECTION_BATCH_DELAY_MS,
    paymentDeadlineMs: raw.PAYMENT_DEADLINE_MS,
    paymentGatewayTimeoutMs: raw.PAYMENT_GATEWAY_TIMEOUT_MS,
    paymentConcurrency: raw.PAYMENT_CONCURRENCY,
    shutdownGraceMs: raw.SHUTDOWN_GRACE_MS,
    shutdownDrainDelayMs: raw.SHUTDOWN_DRAIN_DELAY_MS,
    identity: identitySettings(raw),
    edge: {
      host: raw.HOST,
      corsOrigins: raw.CORS_ORIGINS,
      rateLimit: { requests: raw.RATE_LIMIT_REQUESTS, windowSeconds: raw.RATE_LIMIT_WINDOW_SECONDS, trustProxy: raw.TRUST_PROXY },
    },
    reconciler: {
      intervalMs: raw.RECONCILE_INTERVAL,
      cycleRuns: raw.RECONCILE_CYCLE_RUNS,
      minSlice: raw.RECONCILE_MIN_SLICE,
      port: raw.RECONCILER_PORT,
    },
    ops: {
      relayPort: raw.RELAY_PORT,
      projectorPort: raw.PROJECTOR_PORT,
      processManagerPort: raw.PROCESS_MANAGER_PORT,
      lagAlertSeconds: raw.LAG_ALERT_SECONDS,
      lagAlertForMs: raw.LAG_ALERT_FOR,
      alertWebhookUrl: raw.ALERT_WEBHOOK_URL || undefined,
      stuckAfterMs: raw.PROJECTION_STUCK_AFTER,
    },
    logFormat: raw.LOG_FORMAT || (process.stdout.isTTY ? 'pretty' : 'json'),
    replicaId: raw.CONVERGE_REPLICA_ID || `${hostname()}-${process.pid}`,
    replicas: raw.CONVERGE_REPLICAS,
    projectorLeaseTtlMs: raw.PROJECTOR_LEASE_TTL_MS,
    relayLeaseCheckMs: raw.RELAY_LEASE_CHECK_MS,
    relayIdlePollMs: raw.RELAY_IDLE_POLL_MS,
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

/** Production (a JWKS) must name who issues the tokens and for whom: a token for another service is refused. */
function identitySettings(raw: {
  AUTH_JWKS_URL: string;
  AUTH_ISSUER: string;
  AUTH_AUDIENCE: string;
  AUTH_DEV_KEY: string;
  AUTH_ROLE_CLAIM: string;
  AUTH_JWKS_CACHE_MAX_AGE: number;
  AUTH_JWKS_STALE_IF_ERROR: number;
}): IdentitySettings {
  if (raw.AUTH_JWKS_URL && (!raw.AUTH_ISSUER || !raw.AUTH_AUDIENCE)) {
    throw new ConfigError('Invalid configuration:\n  AUTH_ISSUER, AUTH_AUDIENCE: required with AUTH_JWKS_URL');
  }
  return {
    jwksUrl: raw.AUTH_JWKS_URL,
    issuer: raw.AUTH_ISSUER,
    audience: raw.AUTH_AUDIENCE,
    devKey: raw.AUTH_DEV_KEY,
    roleClaim: raw.AUTH_ROLE_CLAIM,
    jwksCacheMaxAgeMs: raw.AUTH_JWKS_CACHE_MAX_AGE,
    jwksStaleIfErrorMs: raw.AUTH_JWKS_STALE_IF_ERROR,
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

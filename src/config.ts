import { cleanEnv, num, port, str, url, makeValidator, EnvError } from 'envalid';

const storeUrl = makeValidator<string>((value) => {
  if (!/^(mongodb(\+srv)?|postgres(ql)?):\/\//.test(value)) {
    throw new EnvError('must start with mongodb:// or postgres://');
  }
  return value;
});

const namespace = makeValidator<string>((value) => {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(value)) {
    throw new EnvError('must be 1-32 letters, digits, "_" or "-" (it prefixes JetStream names)');
  }
  return value;
});

/** Every setting of every process, validated once; a bad value stops start-up naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const raw = cleanEnv(
    env,
    {
      DATABASE_URL: url({ default: 'postgres://postgres@127.0.0.1:5432/converge', desc: 'write store' }),
      READ_STORE_URL: storeUrl({ default: 'postgres://postgres@127.0.0.1:5432/converge_read', desc: 'read store' }),
      NATS_URL: url({ default: 'nats://127.0.0.1:4222' }),
      COMMAND_API_PORT: port({ default: 3000 }),
      QUERY_API_PORT: port({ default: 3001 }),
      CONVERGE_NAMESPACE: namespace({ default: 'converge' }),
      LOG_LEVEL: str({ default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
      LOW_STOCK_THRESHOLD: num({ default: 5, desc: 'inventory at or below this many available units is low' }),
      PROJECTION_MAX_ATTEMPTS: num({ default: 5, desc: 'failed applies before an event is dead-lettered' }),
      PROJECTION_BATCH_SIZE: num({ default: 500 }),
      PAYMENT_DEADLINE_MS: num({ default: 10_000, desc: 'time a payment may take after stock is reserved' }),
      PAYMENT_GATEWAY_TIMEOUT_MS: num({ default: 2_000, desc: 'longest single call to the payment gateway' }),
      PROJECTION_BATCH_DELAY_MS: num({ default: 0, desc: 'pause before each projector batch: slows views on purpose (demos, tests)' }),
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
  if (!Number.isInteger(raw.LOW_STOCK_THRESHOLD) || raw.LOW_STOCK_THRESHOLD < 0) {
    throw new ConfigError('Invalid configuration:\n  LOW_STOCK_THRESHOLD: must be a non-negative integer');
  }
  if (!Number.isInteger(raw.PROJECTION_BATCH_DELAY_MS) || raw.PROJECTION_BATCH_DELAY_MS < 0) {
    throw new ConfigError('Invalid configuration:\n  PROJECTION_BATCH_DELAY_MS: must be a non-negative integer');
  }
  for (const name of ['PROJECTION_MAX_ATTEMPTS', 'PROJECTION_BATCH_SIZE', 'PAYMENT_DEADLINE_MS', 'PAYMENT_GATEWAY_TIMEOUT_MS'] as const) {
    if (!Number.isInteger(raw[name]) || raw[name] < 1) {
      throw new ConfigError(`Invalid configuration:\n  ${name}: must be a positive integer`);
    }
  }
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
  };
}

export type Config = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

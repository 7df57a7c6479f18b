import { ConfigError, loadConfig } from './config';

describe('configuration', () => {
  it('has defaults that work on a developer machine', () => {
    const config = loadConfig({});
    expect(config).toEqual(
      expect.objectContaining({
        commandApiPort: 3000,
        queryApiPort: 3001,
        namespace: 'converge',
        readStoreUrl: expect.stringMatching(/^postgres:\/\//),
        shutdownGraceMs: 10_000,
        shutdownDrainDelayMs: 0,
      }),
    );
  });

  it('reads the reconciler schedule as a duration, 0 turning it off', () => {
    expect(loadConfig({}).reconciler).toEqual({ intervalMs: 60_000, cycleRuns: 60, minSlice: 500, port: 3005 });
    const parse = (value: string) => loadConfig({ RECONCILE_INTERVAL: value }).reconciler.intervalMs;
    expect([parse('500ms'), parse('90s'), parse('5m'), parse('1h'), parse('30'), parse('0')]).toEqual([500, 90_000, 300_000, 3_600_000, 30_000, 0]);
    expect(loadConfig({ RECONCILER_PORT: '0' }).reconciler.port).toBe(0);
  });

  it.each([
    ['RECONCILE_INTERVAL', '1.5m', /RECONCILE_INTERVAL: must be a duration such as 60s/],
    ['RECONCILER_PORT', '70000', /RECONCILER_PORT: must be a port number/],
    ['RECONCILE_CYCLE_RUNS', '0', /RECONCILE_CYCLE_RUNS: must be a positive integer/],
    ['READ_STORE_URL', 'redis://127.0.0.1:6379', /READ_STORE_URL: must start with mongodb:\/\/ or postgres:\/\//],
    ['COMMAND_API_PORT', 'eighty', /COMMAND_API_PORT/],
    ['CONVERGE_NAMESPACE', 'has.dots', /CONVERGE_NAMESPACE: must be 1-32 letters/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL/],
    ['LOW_STOCK_THRESHOLD', '-1', /LOW_STOCK_THRESHOLD: must be a non-negative integer/],
    ['PROJECTION_BATCH_SIZE', '0', /PROJECTION_BATCH_SIZE: must be a positive integer/],
    ['PAYMENT_DEADLINE_MS', '1.5', /PAYMENT_DEADLINE_MS: must be a positive integer/],
    ['DATABASE_URL', 'mongodb://127.0.0.1/converge', /DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ['DATABASE_URL', 'postgres://postgres@127.0.0.1:port/converge', /DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ['NATS_URL', 'http://127.0.0.1:4222', /NATS_URL: must be nats:\/\/ URLs, comma-separated \(not "http:\/\/127.0.0.1:4222"\)/],
    ['NATS_URL', 'nats://a:4222,127.0.0.1:4223', /NATS_URL: .*\(not "127.0.0.1:4223"\)/],
    ['SHUTDOWN_GRACE_MS', '0', /SHUTDOWN_GRACE_MS: must be a positive integer/],
    ['SHUTDOWN_DRAIN_DELAY_MS', 'soon', /SHUTDOWN_DRAIN_DELAY_MS: must be a non-negative integer/],
    ['PROJECTION_BATCH_DELAY_MS', '', /PROJECTION_BATCH_DELAY_MS: must be a non-negative integer/],
    ['AUTH_JWKS_URL', 'not a url', /AUTH_JWKS_URL: must be an http\(s\):\/\/ URL/],
    ['AUTH_JWKS_URL', 'https://id.example.com/.well-known/jwks.json', /AUTH_ISSUER, AUTH_AUDIENCE: required with AUTH_JWKS_URL/],
    ['AUTH_DEV_KEY', 'short', /AUTH_DEV_KEY: must be at least 43 base64url characters/],
    ['CORS_ORIGINS', 'shop.example.com', /CORS_ORIGINS: must be "\*" or origins/],
    ['RATE_LIMIT_REQUESTS', '-5', /RATE_LIMIT_REQUESTS: must be a non-negative integer/],
    ['TRUST_PROXY', 'the-load-balancer', /TRUST_PROXY: must be addresses or CIDR ranges.*invalid IP address: the-load-balancer/],
    ['TRUST_PROXY', '10.0.0.0/33', /TRUST_PROXY: must be addresses or CIDR ranges/],
  ])('stops start-up on a bad %s (%p), naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('takes production identity settings with a JWKS, issuer and audience, and CORS origins as a list', () => {
    const config = loadConfig({
      AUTH_JWKS_URL: 'https://id.example.com/.well-known/jwks.json',
      AUTH_ISSUER: 'https://id.example.com/',
      AUTH_AUDIENCE: 'converge-api',
      CORS_ORIGINS: 'https://shop.example.com, https://admin.example.com',
      TRUST_PROXY: 'loopback, 10.0.0.0/8, 192.0.2.10',
    });
    expect(config.identity).toEqual(expect.objectContaining({ jwksUrl: 'https://id.example.com/.well-known/jwks.json', issuer: 'https://id.example.com/', audience: 'converge-api', roleClaim: 'role' }));
    expect(config.edge).toEqual({ host: '0.0.0.0', corsOrigins: ['https://shop.example.com', 'https://admin.example.com'], rateLimit: { requests: 1200, windowSeconds: 60, trustProxy: ['loopback', '10.0.0.0/8', '192.0.2.10'] } });
  });

  it('accepts postgresql:// write stores and a comma-separated list of NATS servers', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://app:secret@db.internal:6432/converge',
      NATS_URL: 'nats://n1:4222, nats://n2:4222,tls://n3:4222',
    });
    expect(config.databaseUrl).toBe('postgresql://app:secret@db.internal:6432/converge');
    expect(config.natsUrl).toBe('nats://n1:4222,nats://n2:4222,tls://n3:4222');
  });

  it('reports every invalid variable at once, the integer checks with the others', () => {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: 'mysql://x', NATS_URL: 'nope', LOW_STOCK_THRESHOLD: '-1', PROJECTION_BATCH_SIZE: '0', COMMAND_API_PORT: 'eighty' });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as Error).message.split('\n');
    expect(lines[0]).toBe('Invalid configuration:');
    expect(lines.slice(1).map((line) => line.trim().split(':')[0]).sort()).toEqual(
      ['COMMAND_API_PORT', 'DATABASE_URL', 'LOW_STOCK_THRESHOLD', 'NATS_URL', 'PROJECTION_BATCH_SIZE'],
    );
  });

  it('reads the operations settings: ops ports (0 = any free one), durations with units, an optional webhook', () => {
    expect(loadConfig({}).ops).toEqual({
      relayPort: 3002,
      projectorPort: 3003,
      processManagerPort: 3004,
      lagAlertSeconds: 60,
      lagAlertForMs: 120_000,
      alertWebhookUrl: undefined,
      stuckAfterMs: 30_000,
    });
    const config = loadConfig({ RELAY_PORT: '0', LAG_ALERT_FOR: '90', PROJECTION_STUCK_AFTER: '1500ms', ALERT_WEBHOOK_URL: 'http://alerts.local/hook', LOG_FORMAT: 'json' });
    expect(config.ops).toEqual(expect.objectContaining({ relayPort: 0, lagAlertForMs: 90_000, stuckAfterMs: 1_500, alertWebhookUrl: 'http://alerts.local/hook' }));
    expect(config.logFormat).toBe('json');
    expect(() => loadConfig({ LAG_ALERT_FOR: '2 minutes' })).toThrow('LAG_ALERT_FOR: must be a duration such as 60s, 5m, 1h, 500ms, or 0');
    expect(() => loadConfig({ PROJECTOR_PORT: '70000' })).toThrow('PROJECTOR_PORT: must be a port number');
    expect(() => loadConfig({ ALERT_WEBHOOK_URL: 'ftp://x' })).toThrow('ALERT_WEBHOOK_URL: must be an http:// or https:// URL');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow('LOG_FORMAT');
  });
});

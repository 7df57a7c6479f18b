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
      }),
    );
  });

  it.each([
    ['READ_STORE_URL', 'redis://127.0.0.1:6379', /READ_STORE_URL: must start with mongodb:\/\/ or postgres:\/\//],
    ['COMMAND_API_PORT', 'eighty', /COMMAND_API_PORT/],
    ['CONVERGE_NAMESPACE', 'has.dots', /CONVERGE_NAMESPACE: must be 1-32 letters/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL/],
    ['LOW_STOCK_THRESHOLD', '-1', /LOW_STOCK_THRESHOLD: must be a non-negative integer/],
    ['PROJECTION_BATCH_SIZE', '0', /PROJECTION_BATCH_SIZE: must be a positive integer/],
    ['PAYMENT_DEADLINE_MS', '1.5', /PAYMENT_DEADLINE_MS: must be a positive integer/],
  ])('stops start-up on a bad %s, naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});

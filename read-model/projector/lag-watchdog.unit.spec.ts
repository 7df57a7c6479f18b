import type { Logger } from '../../src/logger';
import { LagWatchdog } from './lag-watchdog';
import type { ProjectionLag } from './projection-lag';

describe('LagWatchdog', () => {
  let lag: ProjectionLag | undefined;
  let now: number;
  let logger: { warn: jest.Mock; info: jest.Mock; debug: jest.Mock };
  let watchdog: LagWatchdog;
  const at = async (seconds: number, next: ProjectionLag | undefined) => {
    now = seconds * 1000;
    lag = next;
    jest.spyOn(Date, 'now').mockReturnValue(now);
    await watchdog.sample();
  };
  const behind = (seconds: number, acknowledged = 1): ProjectionLag => ({ events: 10, seconds, acknowledged });

  beforeEach(() => {
    logger = { warn: jest.fn(), info: jest.fn(), debug: jest.fn() };
    watchdog = new LagWatchdog({
      projections: ['order-summary'],
      measure: () => Promise.resolve(lag),
      thresholdSeconds: 10,
      forMs: 5_000,
      stuckAfterMs: 3_000,
      logger: logger as unknown as Logger,
    });
  });
  afterEach(() => jest.restoreAllMocks());

  it('warns once after the lag stayed over the threshold for the whole window, and once when it recovers', async () => {
    for (const t of [0, 2, 4, 5, 6, 8]) await at(t, behind(20 + t, t));
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0][0]).toEqual(
      expect.objectContaining({ status: 'firing', projection: 'order-summary', lagSeconds: 25, since: new Date(0).toISOString() }),
    );
    await at(9, { events: 0, seconds: 0, acknowledged: 9 });
    await at(10, { events: 0, seconds: 0, acknowledged: 9 });
    expect(logger.info).toHaveBeenCalledTimes(1);
    expect(logger.info.mock.calls[0][0]).toEqual(expect.objectContaining({ status: 'resolved', since: new Date(0).toISOString() }));
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('measures every projection at once, so one sample costs one slow answer, not one per projection', async () => {
    let inFlight = 0;
    let most = 0;
    const measured: string[] = [];
    watchdog = new LagWatchdog({
      projections: ['product-catalog', 'inventory-levels', 'order-summary'],
      measure: async (name) => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        measured.push(name);
        if (name === 'inventory-levels') throw new Error('request timed out');
        return behind(1);
      },
      thresholdSeconds: 10,
      forMs: 5_000,
      stuckAfterMs: 3_000,
      logger: logger as unknown as Logger,
    });
    await watchdog.sample();
    expect(most).toBe(3);
    expect(measured.sort()).toEqual(['inventory-levels', 'order-summary', 'product-catalog']);
    // A failed measurement leaves its projection unknown and the others observed.
    expect(logger.debug).toHaveBeenCalledWith(expect.objectContaining({ projection: 'inventory-levels' }), 'lag not measured');
    expect(Object.keys(watchdog.states())).toEqual(['product-catalog', 'inventory-levels', 'order-summary']);
    expect(watchdog.states()['product-catalog']).toBe('catching up');
  });

  it('a replica without the watchdog lease keeps quiet, and announces when it cannot tell (the store is away)', async () => {
    let announces: () => Promise<boolean> = () => Promise.resolve(false);
    watchdog = new LagWatchdog({
      projections: ['order-summary'],
      measure: () => Promise.resolve(lag),
      thresholdSeconds: 10,
      forMs: 0,
      stuckAfterMs: 3_000,
      logger: logger as unknown as Logger,
      announces: () => announces(),
    });
    await at(0, behind(20));
    await at(1, behind(21));
    expect(logger.warn).not.toHaveBeenCalled();
    // It has seen the alert fire: taking over, it does not repeat it, and announces the recovery.
    announces = () => Promise.reject(new Error('read store away'));
    await at(2, behind(22));
    expect(logger.warn).not.toHaveBeenCalled();
    await at(3, { events: 0, seconds: 0, acknowledged: 9 });
    expect(logger.info).toHaveBeenCalledTimes(1);
    expect(logger.info.mock.calls[0][0]).toEqual(expect.objectContaining({ status: 'resolved' }));
    await at(4, behind(30));
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('a lag that dips under the threshold restarts the clock: no alert for a flapping view', async () => {
    for (const t of [0, 1, 2, 3, 4]) await at(t, behind(15, t));
    await at(4.5, behind(5, 5));
    for (const t of [5, 6, 7, 8, 9]) await at(t, behind(15, t + 1));
    expect(logger.warn).not.toHaveBeenCalled();
    expect(logger.info).not.toHaveBeenCalled();
    await at(10, behind(15, 11));
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('says catching up while acknowledgements move, stuck once they have not for stuckAfterMs', async () => {
    await at(0, { events: 0, seconds: 0, acknowledged: 5 });
    expect(watchdog.states(now)).toEqual({ 'order-summary': 'ok' });
    await at(1, behind(1, 5));
    await at(2, behind(2, 6));
    expect(watchdog.states(now)).toEqual({ 'order-summary': 'catching up' });
    await expect(watchdog.readiness()).resolves.toEqual({
      status: 'up',
      projections: { 'order-summary': 'catching up (10 events, 2.0 s behind)' },
    });
    await at(4, behind(4, 6));
    expect(watchdog.states(now)).toEqual({ 'order-summary': 'catching up' });
    await at(5, behind(5, 6));
    expect(watchdog.states(now)).toEqual({ 'order-summary': 'stuck' });
    await expect(watchdog.readiness()).rejects.toThrow('stuck: order-summary (10 events behind, nothing applied for 3 s or more)');
    // Run by another replica: reported, but this replica stays ready.
    await expect(watchdog.readiness(['daily-sales'])).resolves.toEqual({
      status: 'up',
      projections: { 'order-summary': 'stuck (not run by this replica)' },
    });
    await expect(watchdog.readiness(['order-summary'])).rejects.toThrow('stuck: order-summary');
    await at(6, behind(6, 7));
    expect(watchdog.states(now)).toEqual({ 'order-summary': 'catching up' });
  });
});

import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, http, startTestSystem, TestSystem } from '../../test/support/system';
import type { LagAlert } from './lag-watchdog';

/**
 * The projector's built-in watchdog against a local webhook receiver: a projector slowed on
 * purpose (each batch waits 4 s, so the lag never dips under the threshold between batches while writes go on) falls behind while commands come in, the watchdog posts one
 * alert per lagging projection, and one recovery once the writes stop and it catches up.
 */
describe('lag watchdog', () => {
  let system: TestSystem;
  let receiver: Server;
  const received: LagAlert[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.method === 'POST' && req.headers['content-type'] === 'application/json') received.push(JSON.parse(body) as LagAlert);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    system = await startTestSystem({
      env: {
        PROJECTION_BATCH_DELAY_MS: '4000',
        LAG_ALERT_SECONDS: '1',
        LAG_ALERT_FOR: '1500ms',
        PROJECTION_STUCK_AFTER: '1500ms',
        ALERT_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`,
      },
    });
  }, 120_000);
  afterAll(async () => {
    await system?.dispose();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('posts exactly one alert and one recovery per lagging projection; readiness tells catching up from stuck', async () => {
    expect(
      (await http('POST', `${system.commandUrl}/products`, { sku: 'DOG-1', name: 'Watched', price: { amount: 100, currency: 'EUR' } }))
        .status,
    ).toBe(201);
    let writing = true;
    let price = 100;
    const writes = (async () => {
      while (writing) {
        price += 1;
        expect((await http('PUT', `${system.commandUrl}/products/DOG-1/price`, { price: { amount: price, currency: 'EUR' } })).status).toBe(
          200,
        );
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
    const readiness = new Set<string>();
    try {
      // While it lags, the projector's readiness says which: applying batches (catching up) or not moving (stuck).
      await eventually(
        async () => {
          const ready = await http('GET', `${system.opsUrls.projector}/health/ready`);
          if (ready.status === 200 && JSON.stringify(ready.body.details.projections).includes('catching up')) readiness.add('catching up');
          if (ready.status === 503 && String(ready.body.detail).includes('stuck: ')) readiness.add('stuck');
          return readiness.size === 2 && received.some((a) => a.projection === 'product-catalog' && a.status === 'firing');
        },
        60_000,
        'a firing alert for product-catalog, and readiness saying both "catching up" and "stuck"',
      );
    } finally {
      writing = false;
      await writes;
    }
    await eventually(async () => received.some((a) => a.projection === 'product-catalog' && a.status === 'resolved'), 60_000, 'a recovery');
    // Nothing more arrives once every projection caught up.
    await eventually(
      async () => {
        const ready = await http('GET', `${system.opsUrls.projector}/health/ready`);
        return (
          ready.status === 200 &&
          Object.values(ready.body.details.projections.projections as Record<string, string>).every((s) => s === 'ok')
        );
      },
      60_000,
      'every projection ok',
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    console.log(
      `webhook received:\n${received.map((a) => `${a.at} ${a.status.padEnd(8)} ${a.projection.padEnd(16)} lag ${a.lagSeconds} s, ${a.lagEvents} events, since ${a.since}`).join('\n')}`,
    );
    const byProjection = new Map<string, LagAlert[]>();
    for (const alert of received) byProjection.set(alert.projection, [...(byProjection.get(alert.projection) ?? []), alert]);
    expect(byProjection.get('product-catalog')?.map((a) => a.status)).toEqual(['firing', 'resolved']);
    for (const [projection, alerts] of byProjection)
      expect([projection, alerts.map((a) => a.status)]).toEqual([projection, ['firing', 'resolved']]);
    const [firing, resolved] = byProjection.get('product-catalog')!;
    expect(firing.lagSeconds).toBeGreaterThan(1);
    expect(firing.thresholdSeconds).toBe(1);
    expect(Date.parse(firing.at) - Date.parse(firing.since)).toBeGreaterThanOrEqual(1500);
    expect(resolved.since).toBe(firing.since);
    expect(resolved.lagSeconds).toBeLessThanOrEqual(1);
  }, 180_000);
});

import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { projectRoot } from '../../../src/paths';
import { bare, testToken } from '../../../test/support/auth';
import { appendCatalogHistory } from '../../../test/support/rebuild';
import { eventually, http, projectionsCaughtUp, startTestSystem, TestSystem } from '../../../test/support/system';

const PROJECTIONS = ['product-catalog', 'inventory-levels', 'order-summary', 'customer-orders', 'daily-sales'];
/** Gitignored: what the test saw. `UPDATE_DOCS_SCREENSHOT=1` also refreshes the README's picture in docs/. */
const OUTPUT = join(projectRoot(), 'test-output');

describe('the live status page (GET /status, in real Chromium)', () => {
  let system: TestSystem;
  let browser: Browser;
  let page: Page;
  let skus: string[];

  beforeAll(async () => {
    system = await startTestSystem({ env: { RECONCILE_INTERVAL: '2s' } });
    await system.start('reconciler');
    skus = (await appendCatalogHistory(system.writePool, { products: 20, eventsPerProduct: 4 })).skus;
    await projectionsCaughtUp(system, PROJECTIONS, 60_000);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  });
  afterAll(async () => {
    await browser?.close();
    await system?.dispose();
  });

  /** The page takes its bearer token from the fragment (an operator role: the data is operator-only). */
  const statusUrl = (token: string) => `${system.queryUrl}/status#token=${encodeURIComponent(token)}`;
  const states = () =>
    page.$$eval('#projections tbody tr', (rows) =>
      rows.map((row) => ({
        name: row.getAttribute('data-projection'),
        state: row.getAttribute('data-state'),
        lagEvents: Number(row.querySelector('[data-field="lag-events"]')!.textContent!.replace(/,/g, '')),
      })),
    );

  const allOk = async () => {
    const shown = await states();
    return shown.length === PROJECTIONS.length && PROJECTIONS.every((name) => shown.find((p) => p.name === name)?.state === 'ok');
  };

  it('shows every projection ok, a stopped projector lagging then stuck while commands go on, and the recovery', async () => {
    const dataRequest = page.waitForRequest((request) => request.url().endsWith('/status/data'));
    const token = bare(await testToken('support'));
    await page.goto(statusUrl(token));
    expect((await dataRequest).headers().authorization).toBe(`Bearer ${token}`);
    expect(new URL(page.url()).hash).toBe(''); // the token leaves the address bar

    await eventually(allOk, 60_000, 'the five projections shown ok');
    await eventually(async () => /#\d+/.test((await page.textContent('#reconciler')) ?? ''), 60_000, "the reconciler's last run shown");
    expect(await page.textContent('#relay')).toMatch(/last published#[\d,]+/);

    await system.stop('projector');
    let writing = true;
    const writer = (async () => {
      for (let price = 5000; writing; price++) {
        const answer = await http('PUT', `${system.commandUrl}/products/${skus[price % skus.length]}/price`, { price: { amount: price, currency: 'EUR' } });
        expect(answer.status).toBe(200);
      }
    })();
    try {
      const catalog = async () => (await states()).find((p) => p.name === 'product-catalog');
      const lagging = await eventually(async () => (await catalog())?.state === 'lagging' && catalog(), 60_000, 'product-catalog shown lagging');
      const stuck = await eventually(async () => (await catalog())?.state === 'stuck' && catalog(), 90_000, 'product-catalog shown stuck');
      expect(stuck.lagEvents).toBeGreaterThan(lagging.lagEvents); // the lag rose while the commands went on
      expect(await page.$$('#chart polyline')).toHaveLength(PROJECTIONS.length);
      mkdirSync(OUTPUT, { recursive: true });
      const shot = join(OUTPUT, 'status-page-stuck.png');
      await page.screenshot({ path: shot });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      if (process.env.UPDATE_DOCS_SCREENSHOT) await page.screenshot({ path: join(projectRoot(), 'docs', 'status-page.png') });

      await system.start('projector');
      await eventually(allOk, 90_000, 'the five projections ok again while commands go on');
    } finally {
      writing = false;
      await writer;
    }
    await eventually(allOk, 60_000, 'every projection ok after the writes stopped');
    await page.screenshot({ path: join(OUTPUT, 'status-page-recovered.png') });
  });
});

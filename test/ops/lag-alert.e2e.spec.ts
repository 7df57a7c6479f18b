import { bare, testToken } from '../support/auth';
import { shippedRule, startPrometheus, PrivatePrometheus } from '../support/prometheus-server';
import { eventually, http, projectionsCaughtUp, startTestSystem, TestSystem } from '../support/system';

interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

const PROJECTION = 'product-catalog';
const ALERT = 'ConvergeProjectionLagging';

/**
 * A real Prometheus scraping a running Converge, evaluating the shipped lag alert with a short
 * threshold and window: the projector stops while commands continue, the alert goes pending,
 * then firing; the projector restarts and the alert resolves.
 */
describe('the lag alert, seen by a real Prometheus', () => {
  let system: TestSystem;
  let prometheus: PrivatePrometheus;

  beforeAll(async () => {
    system = await startTestSystem();
    expect(
      (await http('POST', `${system.commandUrl}/products`, { sku: 'ALR-1', name: 'Alerted', price: { amount: 100, currency: 'EUR' } }))
        .status,
    ).toBe(201);
    await projectionsCaughtUp(system, [PROJECTION]);
    prometheus = await startPrometheus({
      targets: [
        // The query API exports every projection's lag: it stays up while the projector is down.
        // Its /metrics needs an operator token, as a production scrape config would carry.
        { job: 'converge-query-api', url: system.queryUrl, bearer: bare(await testToken('service')) },
        { job: 'converge-projector', url: system.opsUrls.projector },
        { job: 'converge-relay', url: system.opsUrls.relay },
      ],
      rules: [await shippedRule(ALERT, 3, '4s')],
    });
  }, 120_000);
  afterAll(async () => {
    await prometheus?.dispose();
    await system?.dispose();
  });

  it('goes pending, then firing while the projector is stopped, and resolves after it restarts', async () => {
    const started = Date.now();
    const timeline: string[] = [];
    const note = (what: string) => timeline.push(`+${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s  ${what}`);
    const lagNow = async () => {
      const result = await prometheus.api<{ result: { value: [number, string] }[] }>(
        `query?query=${encodeURIComponent(`converge_projection_lag_seconds{projection="${PROJECTION}"}`)}`,
      );
      return result.result[0] ? `${Number(result.result[0].value[1]).toFixed(1)} s` : 'no sample';
    };
    const alertState = async () => {
      const { alerts } = await prometheus.api<{ alerts: Alert[] }>('alerts');
      return alerts.find((a) => a.labels.alertname === ALERT && a.labels.projection === PROJECTION)?.state ?? 'inactive';
    };

    // Prometheus has scraped the lag, and the alert is quiet.
    await eventually(async () => (await lagNow()) === '0.0 s', 30_000, 'Prometheus to scrape a zero lag');
    expect(await alertState()).toBe('inactive');
    note(`Prometheus scrapes ${PROJECTION} lag ${await lagNow()}; ${ALERT} inactive (rule: lag > 3 s for 4 s)`);

    // Commands keep coming while the projector is down.
    let writing = true;
    let price = 100;
    const writes = (async () => {
      while (writing) {
        price += 1;
        const answer = await http('PUT', `${system.commandUrl}/products/ALR-1/price`, { price: { amount: price, currency: 'EUR' } });
        if (answer.status !== 200) throw new Error(`price change answered ${answer.status}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    try {
      await system.stop('projector');
      note('projector stopped; a price change every 200 ms');

      const states: string[] = [];
      const watch = async (until: string, timeoutMs: number) =>
        eventually(
          async () => {
            const state = await alertState();
            if (states[states.length - 1] !== state) {
              states.push(state);
              note(`${ALERT} ${state} (lag ${await lagNow()})`);
            }
            return state === until;
          },
          timeoutMs,
          `${ALERT} to be ${until}`,
        );
      await watch('firing', 90_000);
      expect(states).toEqual(['inactive', 'pending', 'firing'].slice(states[0] === 'inactive' ? 0 : 1));

      await system.start('projector');
      note('projector restarted');
      await watch('inactive', 90_000);
      note(`${ALERT} resolved; writes continued throughout (last price ${price})`);
      expect(states.slice(-2)).toEqual(['firing', 'inactive']);
    } finally {
      writing = false;
      await writes;
      console.log(`lag alert timeline (real Prometheus, 1 s scrape and evaluation):\n${timeline.join('\n')}`);
    }
  }, 240_000);
});

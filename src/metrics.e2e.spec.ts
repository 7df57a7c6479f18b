import { ANONYMOUS, testToken } from '../test/support/auth';
import { scrape, total } from '../test/support/prometheus-text';
import { eventually, http, projectionsCaughtUp, startTestSystem, TestSystem } from '../test/support/system';

const PROJECTIONS = ['product-catalog', 'inventory-levels', 'order-summary', 'customer-orders', 'daily-sales'];

describe('metrics of every process', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startTestSystem({ env: { PAYMENT_DEADLINE_MS: '1000', PAYMENT_GATEWAY_TIMEOUT_MS: '200' } });
  });
  afterAll(() => system.dispose());

  it('each process serves /metrics in the Prometheus text format with its series and Node.js defaults', async () => {
    const pages = {
      'command-api': await scrape(system.commandUrl),
      'query-api': await scrape(system.queryUrl),
      relay: await scrape(system.opsUrls.relay),
      projector: await scrape(system.opsUrls.projector),
      'process-manager': await scrape(system.opsUrls['process-manager']),
    };
    const expected: Record<keyof typeof pages, string[]> = {
      'command-api': [
        'converge_http_request_duration_seconds',
        'converge_commands_total',
        'converge_command_optimistic_retries_total',
        'converge_aggregate_cache_reads_total',
        'converge_aggregate_cache_stale_total',
      ],
      'query-api': [
        'converge_http_request_duration_seconds',
        'converge_query_token_waits_total',
        'converge_query_token_wait_seconds',
        'converge_projection_position',
        'converge_projection_lag_events',
        'converge_projection_lag_seconds',
      ],
      relay: [
        'converge_relay_log_head_position',
        'converge_relay_published_position',
        'converge_relay_lag_events',
        'converge_relay_lag_seconds',
        'converge_relay_publish_errors_total',
        'converge_relay_nats_connected',
        'converge_relay_events_published_total',
        'converge_relay_append_signals_total',
      ],
      projector: [
        'converge_projection_applied_position',
        'converge_projection_events_applied_total',
        'converge_projection_batch_duration_seconds',
        'converge_projection_redeliveries_total',
        'converge_projection_dead_letters_total',
        'converge_projection_dead_letters',
      ],
      'process-manager': [
        'converge_saga_in_flight',
        'converge_saga_compensations_total',
        'converge_saga_deadline_expirations_total',
        'converge_payment_gateway_request_duration_seconds',
        'converge_payment_gateway_errors_total',
        'converge_command_optimistic_retries_total',
        'converge_aggregate_cache_reads_total',
        'converge_aggregate_cache_stale_total',
      ],
    };
    for (const [process, families] of Object.entries(pages)) {
      for (const name of [
        ...expected[process as keyof typeof pages],
        'process_cpu_seconds_total',
        'nodejs_eventloop_lag_seconds',
        'nodejs_heap_size_used_bytes',
      ]) {
        expect([process, name, families.has(name)]).toEqual([process, name, true]);
      }
    }
    expect(total(pages.relay, 'converge_relay_nats_connected')).toBe(1);
  });

  it('a command and a query move the counters they should', async () => {
    const before = {
      command: await scrape(system.commandUrl),
      query: await scrape(system.queryUrl),
      relay: await scrape(system.opsUrls.relay),
      projector: await scrape(system.opsUrls.projector),
    };
    const registered = await http('POST', `${system.commandUrl}/products`, {
      sku: 'MET-1',
      name: 'Metered',
      price: { amount: 100, currency: 'EUR' },
    });
    expect(registered.status).toBe(201);
    expect(
      (await http('POST', `${system.commandUrl}/products`, { sku: 'MET-1', name: 'Again', price: { amount: 100, currency: 'EUR' } }))
        .status,
    ).toBe(409);
    expect((await http('POST', `${system.commandUrl}/products`, { sku: 'MET-2' })).status).toBe(400);
    // Refused before any route is matched (the body is not JSON): not a command's answer.
    expect((await http('POST', `${system.commandUrl}/products`, '{"sku": ')).status).toBe(400);
    // Refused by the access guard: the route's answer, counted.
    const customer = await testToken('customer', 'met-customer');
    expect((await http('POST', `${system.commandUrl}/products`, { sku: 'MET-3' }, { authorization: customer })).status).toBe(403);
    expect((await http('POST', `${system.commandUrl}/inventory/MET-1/receipts`, { quantity: 2 })).status).toBe(200);
    const order = { customerId: 'someone-else', lines: [{ sku: 'MET-1', quantity: 1 }], paymentToken: 'tok_approve' };
    expect((await http('POST', `${system.commandUrl}/orders`, order, { authorization: customer })).status).toBe(403);
    expect((await http('POST', `${system.commandUrl}/orders`, order, { authorization: ANONYMOUS })).status).toBe(401);
    const read = await http('GET', `${system.queryUrl}/products/MET-1`, undefined, { 'Consistency-Token': registered.body.token });
    expect(read.status).toBe(200);

    const command = await scrape(system.commandUrl);
    const delta = (now: typeof command, then: typeof command, name: string, labels: Record<string, string>) =>
      total(now, name, labels) - total(then, name, labels);
    expect(delta(command, before.command, 'converge_commands_total', { type: 'registerProduct', outcome: 'ok' })).toBe(1);
    expect(delta(command, before.command, 'converge_commands_total', { type: 'registerProduct', outcome: 'conflict' })).toBe(1);
    expect(delta(command, before.command, 'converge_commands_total', { type: 'registerProduct', outcome: 'validation_error' })).toBe(1);
    expect(delta(command, before.command, 'converge_commands_total', { type: 'registerProduct', outcome: 'forbidden' })).toBe(1);
    expect(delta(command, before.command, 'converge_commands_total', { type: 'registerProduct' })).toBe(4);
    expect(delta(command, before.command, 'converge_commands_total', { type: 'receiveStock', outcome: 'ok' })).toBe(1);
    expect(delta(command, before.command, 'converge_commands_total', { type: 'placeOrder', outcome: 'forbidden' })).toBe(1);
    expect(delta(command, before.command, 'converge_commands_total', { type: 'placeOrder', outcome: 'unauthenticated' })).toBe(1);
    expect(delta(command, before.command, 'converge_commands_total', { type: 'placeOrder' })).toBe(2);
    expect(
      delta(command, before.command, 'converge_http_request_duration_seconds', { route: '/products', method: 'POST', status: '201' }),
    ).toBe(1);

    const query = await scrape(system.queryUrl);
    expect(delta(query, before.query, 'converge_query_token_waits_total', { projection: 'product-catalog', outcome: 'reached' })).toBe(1);
    expect(delta(query, before.query, 'converge_http_request_duration_seconds', { route: '/products/:sku', status: '200' })).toBe(1);

    await projectionsCaughtUp(system, PROJECTIONS);
    const relay = await eventually(async () => {
      const page = await scrape(system.opsUrls.relay);
      return total(page, 'converge_relay_lag_events') === 0 ? page : undefined;
    });
    expect(delta(relay, before.relay, 'converge_relay_events_published_total', {})).toBeGreaterThanOrEqual(1);
    // The command API signalled its append.
    expect(delta(relay, before.relay, 'converge_relay_append_signals_total', {})).toBeGreaterThanOrEqual(1);
    expect(total(relay, 'converge_relay_published_position')).toBe(total(relay, 'converge_relay_log_head_position'));
    const projector = await scrape(system.opsUrls.projector);
    expect(
      delta(projector, before.projector, 'converge_projection_events_applied_total', { projection: 'product-catalog' }),
    ).toBeGreaterThanOrEqual(1);
    const head = total(relay, 'converge_relay_log_head_position');
    expect(total(projector, 'converge_projection_applied_position', { projection: 'product-catalog' })).toBe(head);
    const lag = await eventually(async () => {
      const page = await scrape(system.queryUrl);
      return total(page, 'converge_projection_position', { projection: 'product-catalog' }) === head ? page : undefined;
    });
    expect(total(lag, 'converge_projection_lag_events', { projection: 'product-catalog' })).toBe(0);
    expect(total(lag, 'converge_projection_lag_seconds', { projection: 'product-catalog' })).toBe(0);
  });

  it('a declined order counts a compensation and gateway latency', async () => {
    expect((await http('POST', `${system.commandUrl}/inventory/MET-1/receipts`, { quantity: 5 })).status).toBe(200);
    const placed = await http('POST', `${system.commandUrl}/orders`, {
      customerId: 'c-met',
      lines: [{ sku: 'MET-1', quantity: 1 }],
      paymentToken: 'tok_decline',
    });
    expect(placed.status).toBe(201);
    const page = await eventually(
      async () => {
        const scraped = await scrape(system.opsUrls['process-manager']);
        return total(scraped, 'converge_saga_compensations_total', { reason: 'payment_declined' }) === 1 ? scraped : undefined;
      },
      20_000,
      'one compensation for a declined payment',
    );
    expect(total(page, 'converge_payment_gateway_request_duration_seconds', { operation: 'authorize', outcome: 'declined' })).toBe(1);
    // The saga's steps went through the process manager's own aggregate store: its reads are counted on its page.
    expect(total(page, 'converge_aggregate_cache_reads_total')).toBeGreaterThan(0);
  });

  it('the background processes answer /health/live and /health/ready on their own ports', async () => {
    for (const url of Object.values(system.opsUrls)) {
      expect((await http('GET', `${url}/health/live`)).body).toEqual({ status: 'live' });
      const ready = await eventually(async () => {
        const answer = await http('GET', `${url}/health/ready`);
        return answer.status === 200 ? answer : undefined;
      });
      expect(ready.body.status).toBe('ok');
    }
    // Once the saga's last events are applied, every projection reads "ok" (with a backlog: "catching up").
    const projections = await eventually(async () => {
      const answer = await http('GET', `${system.opsUrls.projector}/health/ready`);
      const states = answer.body.details.projections.projections as Record<string, string>;
      return Object.values(states).every((state) => state === 'ok') ? states : undefined;
    });
    expect(Object.keys(projections).sort()).toEqual([...PROJECTIONS].sort());
  });
});

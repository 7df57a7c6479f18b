import { eventually, http, startTestSystem, TestSystem } from '../../test/support/system';

describe('append signals in the running system', () => {
  let system: TestSystem;

  // An idle poll of a minute: within the test, the relay reads only when an appender signals.
  beforeAll(async () => {
    system = await startTestSystem({ env: { RELAY_IDLE_POLL_MS: '60000' } });
  });
  afterAll(() => system.dispose());

  it("brings the command API's and the process manager's appends to the views in seconds, without the idle poll", async () => {
    const price = { amount: 700, currency: 'EUR' };
    expect((await http('POST', `${system.commandUrl}/products`, { sku: 'SIG-1', name: 'Signal lamp', price })).status).toBe(201);
    const received = await http('POST', `${system.commandUrl}/inventory/SIG-1/receipts`, { quantity: 3 });
    expect(received.status).toBe(200);
    const level = await http('GET', `${system.queryUrl}/inventory/SIG-1`, undefined, {
      'Consistency-Token': received.body.token,
      Prefer: 'wait=5',
    });
    expect(level.body).toEqual(
      expect.objectContaining({ data: expect.objectContaining({ onHand: 3 }), view: expect.objectContaining({ stale: false }) }),
    );

    // The saga's steps (reserve, authorize, confirm) are appended by the process manager: each must wake the relay too.
    const placed = await http('POST', `${system.commandUrl}/orders`, {
      customerId: 'cust-sig',
      lines: [{ sku: 'SIG-1', quantity: 2 }],
      paymentToken: 'tok_approve',
    });
    expect(placed.status).toBe(201);
    const order = await eventually(
      async () => {
        const { body } = await http('GET', `${system.queryUrl}/orders/${placed.body.id}`);
        return body?.data?.status === 'confirmed' ? body.data : undefined;
      },
      10_000,
      'the order to be confirmed',
    );
    expect(order.timeline.map((entry: { status: string }) => entry.status)).toEqual(
      expect.arrayContaining(['pending', 'stock_reserved', 'paid', 'confirmed']),
    );
  });
});

import { http, startTestSystem, TestSystem } from '../test/support/system';

import { testToken } from '../test/support/auth';
/** Two clients that read the same version and write concurrently, through the running system. */
let system: TestSystem;
const command = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  http(method, `${system.commandUrl}${path}`, body, headers);
type Answer = Awaited<ReturnType<typeof http>>;

beforeAll(async () => {
  system = await startTestSystem();
});
afterAll(() => system?.dispose());

/** Registers a product and reads it back from the query API: the ETag both clients will send as If-Match. */
async function readAfterRegistering(sku: string): Promise<string> {
  const registered = await command('POST', '/products', {
    sku,
    name: 'Mug',
    description: 'White',
    price: { amount: 900, currency: 'EUR' },
  });
  expect(registered.status).toBe(201);
  const read = await http('GET', `${system.queryUrl}/products/${sku}`, undefined, { 'Consistency-Token': registered.body.token });
  expect(read.status).toBe(200);
  return read.headers.get('etag')!;
}

/** The product as the query API shows it once every given write is in the view. */
async function viewAfter(sku: string, answers: Answer[]) {
  let read: Answer | undefined;
  for (const { body } of answers) {
    read = await http('GET', `${system.queryUrl}/products/${sku}`, undefined, { 'Consistency-Token': body.token, Prefer: 'wait=10' });
    expect(read.body.view.stale).toBe(false);
  }
  return read!.body.data;
}

describe('concurrent edits of one product from the same version', () => {
  it('apply both when they change different fields, and the view shows both', async () => {
    const etag = await readAfterRegistering('CP-DISJOINT');
    const [name, description] = await Promise.all([
      command(
        'PATCH',
        '/products/CP-DISJOINT',
        { name: 'Big mug' },
        { 'If-Match': etag, authorization: await testToken('catalog', 'alice') },
      ),
      command(
        'PATCH',
        '/products/CP-DISJOINT',
        { description: 'Blue' },
        { 'If-Match': etag, authorization: await testToken('catalog', 'bob') },
      ),
    ]);
    expect([name.status, description.status]).toEqual([200, 200]);
    expect([name.body.version, description.body.version].sort()).toEqual([2, 3]);
    const resolutions = [name, description].map((answer) => answer.headers.get('conflict-resolution') ?? 'none');
    expect(resolutions.sort()).toEqual(['merged', 'none']);
    expect(await viewAfter('CP-DISJOINT', [name, description])).toEqual(
      expect.objectContaining({ name: 'Big mug', description: 'Blue', version: 3 }),
    );
  });

  it('apply one and refuse the other with both values when they set one field differently', async () => {
    const etag = await readAfterRegistering('CP-SAME-FIELD');
    const answers = await Promise.all([
      command(
        'PATCH',
        '/products/CP-SAME-FIELD',
        { name: 'Big mug' },
        { 'If-Match': etag, authorization: await testToken('catalog', 'alice') },
      ),
      command(
        'PATCH',
        '/products/CP-SAME-FIELD',
        { name: 'Tall mug' },
        { 'If-Match': etag, authorization: await testToken('catalog', 'bob') },
      ),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const won = answers.find((a) => a.status === 200)!;
    const lost = answers.find((a) => a.status === 409)!;
    const [winner, loser] = won === answers[0] ? (['alice', 'bob'] as const) : (['bob', 'alice'] as const);
    const values = { alice: 'Big mug', bob: 'Tall mug' };
    expect(lost.contentType).toMatch(/^application\/problem\+json/);
    expect(lost.body).toEqual(
      expect.objectContaining({
        type: 'urn:converge:problem:edit-conflict',
        status: 409,
        sku: 'CP-SAME-FIELD',
        expectedVersion: 1,
        currentVersion: 2,
        conflicts: [{ field: 'name', requested: values[loser], current: values[winner], changedInVersion: 2, changedBy: winner }],
      }),
    );
    expect(await viewAfter('CP-SAME-FIELD', [won])).toEqual(expect.objectContaining({ name: values[winner], version: 2 }));
  });

  it('answers an edit to the value set since with success and writes nothing', async () => {
    const etag = await readAfterRegistering('CP-SAME-VALUE');
    await command('PATCH', '/products/CP-SAME-VALUE', { name: 'Big mug' });
    const again = await command('PATCH', '/products/CP-SAME-VALUE', { name: 'Big mug' }, { 'If-Match': etag });
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(2);
    expect(again.headers.get('conflict-resolution')).toBe('merged');
    const { rows } = await system.writePool.query("SELECT count(*)::int AS n FROM events WHERE stream_id = 'product-CP-SAME-VALUE'");
    expect(rows[0].n).toBe(2);
  });

  it('refuses a detail edit sent from before a discontinuation: discontinuation wins', async () => {
    const etag = await readAfterRegistering('CP-RETIRED');
    await command('POST', '/products/CP-RETIRED/discontinue', undefined, { authorization: await testToken('catalog', 'dana') });
    const edit = await command('PATCH', '/products/CP-RETIRED', { description: 'Blue' }, { 'If-Match': etag });
    expect(edit.status).toBe(409);
    expect(edit.body).toEqual(
      expect.objectContaining({ reason: 'product-discontinued', discontinuedInVersion: 2, discontinuedBy: 'dana' }),
    );
  });

  it('keeps money strict: a price change from an outdated version is a 412', async () => {
    const etag = await readAfterRegistering('CP-PRICE');
    await command('PATCH', '/products/CP-PRICE', { description: 'Blue' });
    const repriced = await command('PUT', '/products/CP-PRICE/price', { price: { amount: 1200, currency: 'EUR' } }, { 'If-Match': etag });
    expect(repriced.status).toBe(412);
    expect(repriced.body.type).toBe('urn:converge:problem:precondition-failed');
  });
});

describe('concurrent stock adjustments from the same version', () => {
  async function stockAt(sku: string, quantity: number): Promise<string> {
    await readAfterRegistering(sku);
    const received = await command('POST', `/inventory/${sku}/receipts`, { quantity });
    expect(received.status).toBe(200);
    return received.headers.get('etag')!;
  }

  it('both apply when the stock allows them, rebased onto each other', async () => {
    const etag = await stockAt('CP-STOCK', 10);
    const answers = await Promise.all([
      command('POST', '/inventory/CP-STOCK/adjustments', { quantity: -3, reason: 'broken' }, { 'If-Match': etag }),
      command('POST', '/inventory/CP-STOCK/adjustments', { quantity: -4, reason: 'lost' }, { 'If-Match': etag }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers.map((a) => a.headers.get('conflict-resolution') ?? 'none').sort()).toEqual(['none', 'rebased']);
    const last = answers.reduce((a, b) => (a.body.version > b.body.version ? a : b));
    const level = await http('GET', `${system.queryUrl}/inventory/CP-STOCK`, undefined, {
      'Consistency-Token': last.body.token,
      Prefer: 'wait=10',
    });
    expect(level.body.data).toEqual(expect.objectContaining({ onHand: 3, available: 3 }));
  });

  it('refuse only the one the stock no longer allows', async () => {
    const etag = await stockAt('CP-SHORT', 5);
    const answers = await Promise.all([
      command('POST', '/inventory/CP-SHORT/adjustments', { quantity: -3, reason: 'broken' }, { 'If-Match': etag }),
      command('POST', '/inventory/CP-SHORT/adjustments', { quantity: -3, reason: 'lost' }, { 'If-Match': etag }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(answers.find((a) => a.status === 409)!.body.reason).toBe('negative-stock');
  });
});

describe('retries of resolved commands', () => {
  it('replay the first answer, Conflict-Resolution included, and write nothing more', async () => {
    const etag = await readAfterRegistering('CP-RETRY');
    await command('PATCH', '/products/CP-RETRY', { name: 'Big mug' });
    const headers = { 'If-Match': etag, 'Idempotency-Key': 'cp-retry-merge' };
    const first = await command('PATCH', '/products/CP-RETRY', { description: 'Blue' }, headers);
    await command('PATCH', '/products/CP-RETRY', { description: 'Green' });
    const retry = await command('PATCH', '/products/CP-RETRY', { description: 'Blue' }, headers);
    expect(first.headers.get('conflict-resolution')).toBe('merged');
    expect({
      status: retry.status,
      body: retry.body,
      resolution: retry.headers.get('conflict-resolution'),
      etag: retry.headers.get('etag'),
    }).toEqual({
      status: 200,
      body: first.body,
      resolution: 'merged',
      etag: '"3"',
    });

    const stockEtag = (await command('POST', '/inventory/CP-RETRY/receipts', { quantity: 5 })).headers.get('etag')!;
    await command('POST', '/inventory/CP-RETRY/receipts', { quantity: 5 });
    const keyed = { 'If-Match': stockEtag, 'Idempotency-Key': 'cp-retry-rebase' };
    const rebased = await command('POST', '/inventory/CP-RETRY/adjustments', { quantity: -2, reason: 'count' }, keyed);
    const again = await command('POST', '/inventory/CP-RETRY/adjustments', { quantity: -2, reason: 'count' }, keyed);
    expect(rebased.headers.get('conflict-resolution')).toBe('rebased');
    expect({ body: again.body, resolution: again.headers.get('conflict-resolution') }).toEqual({
      body: rebased.body,
      resolution: 'rebased',
    });
    const { rows } = await system.writePool.query("SELECT count(*)::int AS n FROM events WHERE stream_id = 'stock-CP-RETRY'");
    expect(rows[0].n).toBe(3);
  });

  it('replay a merge that wrote nothing, even after the field it matched changed again', async () => {
    const etag = await readAfterRegistering('CP-RETRY-SAME');
    await command('PATCH', '/products/CP-RETRY-SAME', { name: 'Big mug' }, { authorization: await testToken('catalog', 'alice') });
    const headers = { 'If-Match': etag, 'Idempotency-Key': 'cp-retry-same' };
    const first = await command('PATCH', '/products/CP-RETRY-SAME', { name: 'Big mug' }, headers);
    await command('PATCH', '/products/CP-RETRY-SAME', { name: 'Tall mug' }, { authorization: await testToken('catalog', 'bob') });
    const retry = await command('PATCH', '/products/CP-RETRY-SAME', { name: 'Big mug' }, headers);
    expect({ status: first.status, version: first.body.version, resolution: first.headers.get('conflict-resolution') }).toEqual({
      status: 200,
      version: 2,
      resolution: 'merged',
    });
    expect({ status: retry.status, body: retry.body, resolution: retry.headers.get('conflict-resolution') }).toEqual({
      status: 200,
      body: first.body,
      resolution: 'merged',
    });
  });
});

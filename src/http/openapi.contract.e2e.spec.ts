import type { OpenAPIObject } from '@nestjs/swagger';
import { Call, cases, Fixture, orderStatus, placeOrder } from '../../test/support/openapi-cases';
import { DocumentedOperation, operationsOf, ResponseContract } from '../../test/support/openapi-contract';
import { adminToken, ANONYMOUS } from '../../test/support/auth';
import { http, startTestSystem, TestSystem } from '../../test/support/system';

/**
 * Walks every operation both APIs document: a valid request and invalid ones per operation,
 * each answer checked against the document (status, media type, body schema, headers).
 */
describe('OpenAPI contract', () => {
  let system: TestSystem;
  let fixture: Fixture;
  const documents: Record<string, OpenAPIObject> = {};
  const contracts: Record<string, ResponseContract> = {};
  const operations = new Map<string, DocumentedOperation>();

  beforeAll(async () => {
    system = await startTestSystem();
    for (const [api, url] of [
      ['command', system.commandUrl],
      ['query', system.queryUrl],
    ] as const) {
      const served = await http('GET', `${url}/openapi.json`);
      expect(served.status).toBe(200);
      documents[api] = served.body;
      contracts[api] = new ResponseContract(api, served.body);
      for (const operation of operationsOf(api, served.body)) operations.set(`${api}:${operation.operationId}`, operation);
    }
    fixture = { system, token: '', sku: 'CT-MUG', customerId: 'ct-cust', orderId: '', today: new Date().toISOString().slice(0, 10) };
    await http('POST', `${system.commandUrl}/products`, { sku: fixture.sku, name: 'Mug', price: { amount: 1299, currency: 'EUR' } });
    await http('POST', `${system.commandUrl}/inventory/${fixture.sku}/receipts`, { quantity: 100 });
    fixture.orderId = await placeOrder(fixture);
    await orderStatus(fixture, fixture.orderId, 'confirmed');
  });
  afterAll(() => system?.dispose());

  async function send(operation: DocumentedOperation, call: Call) {
    const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(call.params?.[name] ?? ''));
    const query = call.query ? `?${new URLSearchParams(Object.entries(call.query)).toString()}` : '';
    const base = operation.api === 'command' ? system.commandUrl : system.queryUrl;
    const headers: Record<string, string> = { authorization: await adminToken(), ...call.headers };
    if (headers.authorization === ANONYMOUS) delete headers.authorization;
    let body: string | undefined;
    if (call.raw) [body, headers['content-type']] = [call.raw.body, call.raw.type];
    else if (call.body !== undefined) [body, headers['content-type']] = [JSON.stringify(call.body), 'application/json'];
    const response = await fetch(`${base}${path}${query}`, { method: operation.method, headers, body });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', headers: response.headers, text };
  }

  async function exercise(key: string, call: Call, valid: boolean): Promise<void> {
    const operation = operations.get(key)!;
    const answer = await send(operation, call);
    const where = `${operation.method} ${operation.path} ${JSON.stringify(call).slice(0, 200)}`;
    expect({ where, status: answer.status, body: answer.text.slice(0, 300) }).toEqual(
      expect.objectContaining({ where, status: call.expect }),
    );
    expect(valid ? answer.status < 400 : answer.status >= 300).toBe(true);
    expect({ where, problems: contracts[operation.api].check(operation.operation, answer) }).toEqual({ where, problems: [] });
    for (const [name, value] of Object.entries(call.answerHeaders ?? {})) {
      expect({ where, [name]: answer.headers.get(name) }).toEqual({ where, [name]: value });
    }
    if (call.problem) expect({ where, type: JSON.parse(answer.text).type }).toEqual({ where, type: call.problem });
    if (valid && answer.headers.has('consistency-token')) fixture.token = answer.headers.get('consistency-token')!;
  }

  it('has a case for every documented operation, and documents every case', () => {
    expect([...operations.keys()].sort()).toEqual(Object.keys(cases).sort());
    expect(operations.size).toBe(21);
  });

  it.each(Object.keys(cases))('%s answers as documented, valid and invalid', async (key) => {
    expect(operations.has(key)).toBe(true);
    const { valid, alsoValid = [], invalid } = cases[key];
    await exercise(key, await valid(fixture), true);
    for (const make of alsoValid) await exercise(key, await make(fixture), true);
    for (const make of invalid) await exercise(key, await make(fixture), false);
  });

  it.each(['command', 'query'])('the %s API serves its document and a docs page that work under its strict middleware', async (api) => {
    const url = api === 'command' ? system.commandUrl : system.queryUrl;
    const document = await http('GET', `${url}/openapi.json`);
    expect(document.contentType).toMatch(/^application\/json/);
    expect(document.body.openapi).toMatch(/^3\./);
    const page = await fetch(`${url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    for (const asset of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-ui-init.js']) {
      expect(html).toContain(asset);
      const served = await fetch(`${url}/docs/${asset}`);
      expect({ asset, status: served.status }).toEqual({ asset, status: 200 });
      await served.arrayBuffer();
    }
    const init = await (await fetch(`${url}/docs/swagger-ui-init.js`)).text();
    expect(init).toContain(documents[api].info.title);
    const wrongMethod = await http('POST', `${url}/openapi.json`, {});
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.contentType).toMatch(/problem\+json/);
  });
});

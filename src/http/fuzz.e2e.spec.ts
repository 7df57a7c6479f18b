import * as fc from 'fast-check';
import { adminToken } from '../../test/support/auth';
import { MalformedRequest, malformedRequests } from '../../test/support/malformed-requests';
import { http, startTestSystem, TestSystem } from '../../test/support/system';
import { buildOpenApiDocuments } from '../../test/support/openapi-documents';

const PER_API = Number(process.env.FUZZ_RUNS ?? 5000);
const CONCURRENCY = 8;
/** An answer later than this is a hang (the attack run found a 300 s one). */
const ANSWER_WITHIN_MS = 10_000;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() ^ (Math.random() * 0x7fffffff);

interface Outcome {
  request: MalformedRequest;
  status: number;
  contentType: string;
  body: string;
}

/**
 * Thousands of malformed requests per API, generated from both OpenAPI documents (bodies,
 * types, sizes, nesting, encodings, headers, query strings, path parameters, methods, tokens):
 * each must get a 4xx problem+json in time, none a 5xx, and the event log must not change.
 * Replay a failure with FUZZ_SEED=<the printed seed>.
 */
describe('malformed requests (fuzz)', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startTestSystem({ pieces: ['command-api', 'relay', 'projector', 'query-api'] });
    // The routes' sku exists, so that a request that got past validation could change it (and be caught).
    expect(
      (await http('POST', `${system.commandUrl}/products`, { sku: 'FUZZ-1', name: 'Fuzz mug', price: { amount: 100, currency: 'EUR' } }))
        .status,
    ).toBe(201);
    expect((await http('POST', `${system.commandUrl}/inventory/FUZZ-1/receipts`, { quantity: 5 })).status).toBe(200);
    console.log(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED}), ${PER_API} requests per API`);
  });
  afterAll(() => system?.dispose());

  async function logState(): Promise<string> {
    const { rows } = await system.writePool.query<{ events: string; last: string | null; keys: string }>(
      'SELECT (SELECT count(*) FROM events) AS events, (SELECT max(position) FROM events) AS last, (SELECT count(*) FROM idempotency_keys) AS keys',
    );
    return JSON.stringify(rows[0]);
  }

  async function send(base: string, request: MalformedRequest): Promise<Outcome> {
    const response = await fetch(`${base}${request.path}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
    });
    return {
      request,
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      body: (await response.text()).slice(0, 300),
    };
  }

  it.each(['command', 'query'] as const)(
    'the %s API answers every one with a 4xx problem+json and writes nothing',
    async (api) => {
      const documents = await buildOpenApiDocuments();
      const base = api === 'command' ? system.commandUrl : system.queryUrl;
      const authorization = await adminToken();
      const requests = fc.sample(malformedRequests(documents[api], api, authorization), {
        numRuns: PER_API,
        seed: SEED + (api === 'command' ? 0 : 1),
      });
      const before = await logState();
      const wrong: (Outcome | { request: MalformedRequest; error: string })[] = [];
      const mutations = new Map<string, number>();
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < requests.length) {
            const request = requests[next++];
            mutations.set(request.mutation, (mutations.get(request.mutation) ?? 0) + 1);
            try {
              const outcome = await send(base, request);
              if (outcome.status < 400 || outcome.status >= 500 || !/^application\/problem\+json/.test(outcome.contentType))
                wrong.push(outcome);
            } catch (error) {
              wrong.push({ request, error: String(error) });
            }
          }
        }),
      );
      console.log(`fuzz ${api}: ${requests.length} requests, seed ${SEED}; ${[...mutations].map(([m, n]) => `${m} ${n}`).join(', ')}`);
      const shown = wrong.slice(0, 5).map((w) => ({ ...w, request: { ...w.request, body: w.request.body?.slice(0, 200) } }));
      expect({ seed: SEED, wrong: wrong.length, first: shown }).toEqual({ seed: SEED, wrong: 0, first: [] });
      expect(requests.length).toBeGreaterThanOrEqual(PER_API);
      expect(await logState()).toBe(before);
    },
    300_000,
  );
});

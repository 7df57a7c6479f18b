import { exportJWK, generateKeyPair, KeyLike, SignJWT } from 'jose';
import { createServer, RequestListener, Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { http, startTestSystem, TestSystem } from '../../test/support/system';

const issuer = 'https://id.example.com/';
const audience = 'converge-api';

/** An identity provider answering `respond` on a free local port, and the command API in production mode against it. */
async function withProvider(respond: RequestListener, env: Record<string, string> = {}): Promise<{ provider: Server; system: TestSystem }> {
  const provider = createServer(respond);
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  const system = await startTestSystem({
    pieces: ['command-api'],
    env: {
      AUTH_JWKS_URL: `http://127.0.0.1:${(provider.address() as AddressInfo).port}/jwks.json`,
      AUTH_ISSUER: issuer,
      AUTH_AUDIENCE: audience,
      ...env,
    },
  });
  return { provider, system };
}

/**
 * The command API in production mode while its identity provider fails: a request with a
 * perfectly good token can then be neither accepted nor refused, so it is answered 503 with
 * Retry-After (not 401, which would tell the client to drop its token) and changes nothing.
 */
describe('an identity provider that cannot serve its key set', () => {
  let provider: Server;
  let answer: 'keys' | 'error' | 'not json' = 'error';
  let system: TestSystem;
  let privateKey: KeyLike;

  beforeAll(async () => {
    const keys = await generateKeyPair('RS256');
    privateKey = keys.privateKey;
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    ({ provider, system } = await withProvider((_, res) => {
      if (answer === 'keys') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      else if (answer === 'not json') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
      else res.writeHead(502).end();
    }));
  });
  afterAll(async () => {
    await system?.dispose();
    await new Promise((resolve) => provider.close(resolve));
  });

  const token = (role: string) =>
    new SignJWT({ role })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject('catalog-clerk')
      .setExpirationTime(Math.floor(Date.now() / 1000) + 300)
      .sign(privateKey);
  const register = async (sku: string) =>
    http(
      'POST',
      `${system.commandUrl}/products`,
      { sku, name: 'Mug', description: 'A mug', price: { amount: 1299, currency: 'EUR' } },
      { authorization: `Bearer ${await token('catalog')}` },
    );
  const events = async () => Number((await system.writePool.query('SELECT count(*) AS n FROM events')).rows[0].n);

  it('answers 503 with Retry-After and writes nothing while the key set fails, then serves the same token', async () => {
    for (const failure of ['error', 'not json'] as const) {
      answer = failure;
      const refused = await register('MUG-1');
      expect(refused.status).toBe(503);
      expect(refused.contentType).toMatch(/^application\/problem\+json/);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(refused.headers.get('www-authenticate')).toBeNull();
      expect(refused.body).toMatchObject({ type: 'urn:converge:problem:unavailable', status: 503 });
      expect(refused.body.detail).toMatch(/identity provider/);
    }
    expect(await events()).toBe(0);

    answer = 'keys';
    expect((await register('MUG-1')).status).toBe(201);
    expect(await events()).toBe(1);
  });

  it('still refuses a bad token with 401 once the keys are in hand', async () => {
    answer = 'keys';
    const forged = `${(await token('catalog')).slice(0, -4)}AAAA`;
    const refused = await http('POST', `${system.commandUrl}/products`, { sku: 'MUG-2' }, { authorization: `Bearer ${forged}` });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/invalid_token/);
  });
});

/**
 * Keys kept in use while the provider fails (AUTH_JWKS_STALE_IF_ERROR): past their age the
 * keys are fetched again, and while that fails the last ones still verify tokens for the stale
 * window; after it, 503 until the provider answers. Short windows here: 1 s and 3 s.
 */
describe('an identity provider outage within the stale window', () => {
  let provider: Server;
  let up = true;
  let fetches = 0;
  let system: TestSystem;
  let served: KeyLike;
  let unknown: KeyLike;

  beforeAll(async () => {
    const keys = await generateKeyPair('ES256');
    served = keys.privateKey;
    unknown = (await generateKeyPair('ES256')).privateKey;
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    ({ provider, system } = await withProvider(
      (_, res) => {
        fetches += 1;
        if (up) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
        else res.writeHead(503).end();
      },
      { AUTH_JWKS_CACHE_MAX_AGE: '1s', AUTH_JWKS_STALE_IF_ERROR: '3s' },
    ));
  });
  afterAll(async () => {
    await system?.dispose();
    await new Promise((resolve) => provider.close(resolve));
  });

  const register = async (sku: string, key = served, kid = 'k1') => {
    const token = await new SignJWT({ role: 'catalog' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject('catalog-clerk')
      .setExpirationTime(Math.floor(Date.now() / 1000) + 300)
      .sign(key);
    return http(
      'POST',
      `${system.commandUrl}/products`,
      { sku, name: 'Mug', price: { amount: 1299, currency: 'EUR' } },
      { authorization: `Bearer ${token}` },
    );
  };
  const until = (at: number) => sleep(Math.max(0, at - Date.now()));

  it('verifies tokens with the last keys until the window ends, then answers 503 until the provider is back', async () => {
    expect((await register('STALE-1')).status).toBe(201);
    // The keys were fetched before this moment: they are past their age 1 s later, and out of the window 3 s after that.
    const fetched = Date.now();
    up = false;
    const asked = fetches;
    await until(fetched + 1_300);
    expect((await register('STALE-2')).status).toBe(201);
    expect(fetches).toBeGreaterThan(asked);
    // A key the provider may have added meanwhile: the token can be neither accepted nor refused.
    const other = await register('STALE-X', unknown, 'k2');
    expect(other.status).toBe(503);
    await until(fetched + 4_500);
    const after = await register('STALE-3');
    expect(after.status).toBe(503);
    expect(after.body.detail).toMatch(/identity provider/);
    up = true;
    expect((await register('STALE-3')).status).toBe(201);
    const { rows } = await system.writePool.query<{ stream_id: string }>('SELECT stream_id FROM events ORDER BY position');
    expect(rows.map((row) => row.stream_id)).toEqual(['product-STALE-1', 'product-STALE-2', 'product-STALE-3']);
  });
});

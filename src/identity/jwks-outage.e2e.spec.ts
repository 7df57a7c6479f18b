import { exportJWK, generateKeyPair, KeyLike, SignJWT } from 'jose';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { http, startTestSystem, TestSystem } from '../../test/support/system';

/**
 * The command API in production mode while its identity provider fails: a request with a
 * perfectly good token can then be neither accepted nor refused, so it is answered 503 with
 * Retry-After (not 401, which would tell the client to drop its token) and changes nothing.
 */
describe('an identity provider that cannot serve its key set', () => {
  const issuer = 'https://id.example.com/';
  const audience = 'converge-api';
  let provider: Server;
  let answer: 'keys' | 'error' | 'not json' = 'error';
  let system: TestSystem;
  let privateKey: KeyLike;

  beforeAll(async () => {
    const keys = await generateKeyPair('RS256');
    privateKey = keys.privateKey;
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    provider = createServer((_, res) => {
      if (answer === 'keys') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      else if (answer === 'not json') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
      else res.writeHead(502).end();
    });
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    system = await startTestSystem({
      pieces: ['command-api'],
      env: {
        AUTH_JWKS_URL: `http://127.0.0.1:${(provider.address() as AddressInfo).port}/jwks.json`,
        AUTH_ISSUER: issuer,
        AUTH_AUDIENCE: audience,
      },
    });
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

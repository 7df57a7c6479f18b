import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthenticationError, Authenticator, IdentityUnavailableError } from './authenticator';

/** Production mode against a JWKS served over real HTTP, as an OIDC provider serves it. */
describe('Authenticator with a JWKS', () => {
  let server: Server;
  let jwksUrl: string;
  let sign: (
    claims: Record<string, unknown>,
    options?: { issuer?: string; audience?: string; expiresIn?: number; kid?: string },
  ) => Promise<string>;
  const issuer = 'https://id.example.com/';
  const audience = 'converge-api';

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    sign = (claims, options = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'k1' })
        .setIssuer(options.issuer ?? issuer)
        .setAudience(options.audience ?? audience)
        .setSubject('user-7')
        .setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresIn ?? 300))
        .sign(privateKey);
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const authenticator = () => new Authenticator({ jwksUrl, issuer, audience, devKey: '', roleClaim: 'roles' });
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: unknown) => (error instanceof AuthenticationError ? error.message : String(error)),
    );

  it("accepts the provider's token and reads the role from the configured claim (the first known role of a list)", async () => {
    expect(await authenticator().identify(`Bearer ${await sign({ roles: ['offline_access', 'support'] })}`)).toEqual({
      subject: 'user-7',
      role: 'support',
    });
  });

  it('refuses another issuer, another audience, an expired token, an unknown key and a token without a known role', async () => {
    const auth = authenticator();
    expect(await refusal(auth.identify(`Bearer ${await sign({ roles: ['admin'] }, { issuer: 'https://evil.example.com/' })}`))).toMatch(
      /iss claim/,
    );
    expect(await refusal(auth.identify(`Bearer ${await sign({ roles: ['admin'] }, { audience: 'another-api' })}`))).toMatch(/aud claim/);
    expect(await refusal(auth.identify(`Bearer ${await sign({ roles: ['admin'] }, { expiresIn: -60 })}`))).toMatch(/expired/);
    expect(await refusal(auth.identify(`Bearer ${await sign({ roles: ['admin'] }, { kid: 'other' })}`))).toMatch(/no key/);
    expect(await refusal(auth.identify(`Bearer ${await sign({ roles: ['root'] })}`))).toMatch(/no known role/);
  });

  it('tells an unreachable provider (unavailable) from a bad token (unauthenticated)', async () => {
    // A port nothing listens on: the key set cannot be fetched at all.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = new Authenticator({
      jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
      issuer,
      audience,
      devKey: '',
      roleClaim: 'roles',
    });
    const error = await unreachable.identify(`Bearer ${await sign({ roles: ['admin'] })}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityUnavailableError);
    expect((error as IdentityUnavailableError).message).toMatch(/ECONNREFUSED/);
    // A malformed header is judged without the provider: still 401.
    expect(await refusal(unreachable.identify('Bearer nonsense'))).toMatch(/Bearer <JWT>/);
  });
});
